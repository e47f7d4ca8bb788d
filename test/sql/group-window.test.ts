/**
 * The legacy group windows `GROUP BY TUMBLE(…)` and `HOP(…)` with their `…_START`, `…_END` and
 * `…_ROWTIME`: planned as the window table function's window aggregate, and equal to DuckDB's
 * windows over the same Nexmark bids at parallelism 1 and 4 and under injected faults.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamExecutionEnvironment } from "../../core/api/environment.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { SqlError } from "../../core/sql/errors.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { compareMultisets, type Oracle } from "../oracle/duckdb-oracle.ts";
import { simulate } from "../sim/simulate.ts";
import { nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

const EVENTS = 2000;
const SINK = "auction BIGINT, s TIMESTAMP(3), e TIMESTAMP(3), rt TIMESTAMP(3), n BIGINT, top BIGINT";

/** Each query, and DuckDB's SQL over the oracle's bid table (times are epoch ms there). */
const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  tumble: {
    sql: `SELECT auction, TUMBLE_START(dateTime, INTERVAL '10' SECOND), TUMBLE_END(dateTime, INTERVAL '10' SECOND),
        TUMBLE_ROWTIME(dateTime, INTERVAL '10' SECOND), COUNT(*), MAX(price)
      FROM bid WHERE price > 100 GROUP BY TUMBLE(dateTime, INTERVAL '10' SECOND), auction`,
    duckdb: `SELECT auction, w * 10000 AS s, w * 10000 + 10000 AS e, w * 10000 + 9999 AS rt, COUNT(*) AS n, MAX(price) AS top
      FROM (SELECT *, dateTime // 10000 AS w FROM bid WHERE price > 100) GROUP BY auction, w`,
  },
  hop: {
    sql: `SELECT auction, HOP_START(dateTime, INTERVAL '2' SECOND, INTERVAL '10' SECOND),
        HOP_END(dateTime, INTERVAL '2' SECOND, INTERVAL '10' SECOND),
        HOP_ROWTIME(dateTime, INTERVAL '2' SECOND, INTERVAL '10' SECOND), COUNT(*), MAX(price)
      FROM bid GROUP BY auction, HOP(dateTime, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`,
    duckdb: `SELECT auction, s, s + 10000 AS e, s + 9999 AS rt, COUNT(*) AS n, MAX(price) AS top
      FROM (SELECT *, (dateTime // 2000) * 2000 - i * 2000 AS s FROM bid, range(0, 5) r(i)) GROUP BY auction, s`,
  },
};

const script = (q: string) =>
  `${nexmarkTables(EVENTS, 10_000)};
  CREATE TABLE out_${q} (${SINK}) WITH ('connector' = 'print', 'changelog-mode' = 'insert-only');
  INSERT INTO out_${q} ${QUERIES[q]?.sql}`;

const positional = (rows: readonly Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.values(r).map((v, i) => [`c${i}`, v])));
const diff = (out: ReadonlyMap<string, readonly unknown[]>, q: string, expected: Record<string, unknown>[]) =>
  compareMultisets(positional(foldChangelog(out.get(`out_${q}`) ?? [])), positional(expected));

describe("legacy TUMBLE and HOP group windows vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS);
  });
  afterAll(() => oracle?.close());

  it("plans as the window table function's insert-only window aggregate", () => {
    const text = planSql(script("hop").replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0];
    expect(text).toMatch(/WindowTableFunction\(HOP\(time=\[dateTime\], slide=\[2000 ms\], size=\[10000 ms\]\)/);
    expect(text).toMatch(/WindowAggregate\(groupBy=\[auction, \$window_start, \$window_end\].*changelogMode=\[I\]/);
  });

  for (const q of Object.keys(QUERIES)) {
    it(`${q} at parallelism 1 and 4, and under injected faults`, async () => {
      const expected = await oracle.runSql(QUERIES[q]?.duckdb ?? "");
      expect(expected.length).toBeGreaterThan(100);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob(`gw-${q}`, script(q)), { clock: new ManualClock(), parallelism });
        expect(diff(out, q, expected), `${q} at parallelism ${parallelism}`).toEqual([]);
      }
      const faulty = (env: StreamExecutionEnvironment) => {
        env.configure({ sourceBatchSize: 37, maxRecordsPerEnvelope: 16 });
        env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
      };
      let crashes = 0;
      for (const seed of [1, 2]) {
        const job = sqlJob(`gw-${q}`, script(q), faulty);
        const r = await simulate({ name: `gw-${q}`, job, check: (out) => diff(out, q, expected) }, seed);
        expect(r.diffs, `${q} seed ${seed}`).toEqual([]);
        crashes += r.faults.crashBeforeCommit + r.faults.crashAfterCommit + r.faults.crashMidSend + r.faults.failovers;
      }
      expect(crashes, `${q}: crashes injected`).toBeGreaterThan(0);
    });
  }

  it("refuses their misuse with line and column", () => {
    const error = (query: string) => {
      try {
        planSql(`${nexmarkTables(10, 10)};\nCREATE TABLE o (${SINK}) WITH ('connector' = 'print');\n${query}`);
      } catch (e) {
        if (e instanceof SqlError) return e.message;
        throw e;
      }
      return "planned";
    };
    const select =
      "INSERT INTO o SELECT auction, TUMBLE_START(dateTime, INTERVAL '1' SECOND), dateTime, dateTime, 1, 1";
    expect(error(`${select} FROM bid GROUP BY auction, TUMBLE(dateTime, INTERVAL '2' SECOND)`)).toMatch(
      /^line \d+, column 31: TUMBLE_START must repeat the arguments of the TUMBLE\(…\) in GROUP BY$/,
    );
    expect(error(`${select} FROM bid`)).toMatch(
      /column 31: TUMBLE_START needs the same TUMBLE\(…\) window in GROUP BY$/,
    );
    expect(
      error(
        "INSERT INTO o SELECT auction, dateTime, dateTime, dateTime, 1, 1 FROM bid GROUP BY auction, dateTime, HOP(dateTime, INTERVAL '3' SECOND, INTERVAL '10' SECOND)",
      ),
    ).toMatch(/column 103: the size of HOP must be a multiple of its slide$/);
    expect(
      error(
        "INSERT INTO o SELECT auction, dateTime, dateTime, dateTime, 1, 1 FROM bid GROUP BY auction, dateTime, TUMBLE(price, INTERVAL '1' SECOND)",
      ),
    ).toMatch(/the first argument of TUMBLE must be a TIMESTAMP\(3\) column/);
  });
});
