/**
 * Window TopN: ROW_NUMBER() OVER (PARTITION BY window_start, window_end …) over a window
 * aggregate or straight over a window TVF emits each window's top N once, insert-only, when the
 * watermark passes the window's end (so an insert-only sink takes it); its committed table
 * equals DuckDB's over the same events at parallelism 1 and 3. Ties rank by the whole row, as
 * riffle's TopN does (core/sql/rank.ts), and the DuckDB SQL writes that order out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { changelogMode } from "../../core/sql/logical.ts";
import { explain, planSql, sqlJob } from "../../core/sql/session.ts";
import { compareMultisets, type Oracle } from "../oracle/duckdb-oracle.ts";
import { expectSavepointOverSlowNexmark, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkScript } from "./nexmark/script.ts";

const EVENTS = 3000;
const SINK =
  "CREATE TABLE out (ws TIMESTAMP(3), we TIMESTAMP(3), auction BIGINT, n BIGINT, rn BIGINT) WITH ('connector' = 'print', 'changelog-mode' = 'insert-only')";

const CASES: { name: string; sql: string; duck: string }[] = [
  {
    name: "the 3 auctions with the most bids per 10 s tumbling window",
    sql: `INSERT INTO out SELECT window_start, window_end, auction, num, rn FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY num DESC) AS rn
            FROM (SELECT auction, window_start, window_end, COUNT(*) AS num
                  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(\`dateTime\`), INTERVAL '10' SECOND))
                  GROUP BY auction, window_start, window_end))
          WHERE rn <= 3`,
    duck: `SELECT ws, we, auction, num AS n, rn FROM (
             SELECT *, ROW_NUMBER() OVER (PARTITION BY ws, we ORDER BY num DESC, auction, ws, we, num) AS rn FROM (
               SELECT auction, dateTime // 10000 * 10000 AS ws, dateTime // 10000 * 10000 + 10000 AS we, COUNT(*) AS num
               FROM bid GROUP BY ALL))
           WHERE rn <= 3`,
  },
  {
    name: "the 2 highest bids per 2 s / 10 s hopping window, straight over the window TVF",
    sql: `INSERT INTO out SELECT window_start, window_end, auction, price, rn FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
            FROM TABLE(HOP(TABLE bid, DESCRIPTOR(\`dateTime\`), INTERVAL '2' SECOND, INTERVAL '10' SECOND)))
          WHERE rn <= 2`,
    duck: `SELECT ws, we, auction, price AS n, rn FROM (
             SELECT *, ROW_NUMBER() OVER (
               PARTITION BY ws, we ORDER BY price DESC, auction, bidder, price, channel, url, dateTime, extra) AS rn
             FROM (SELECT *, (dateTime // 2000 - i) * 2000 AS ws, (dateTime // 2000 - i) * 2000 + 10000 AS we
                   FROM bid, range(5) AS r(i)))
           WHERE rn <= 2`,
  },
];

describe("window TopN vs DuckDB", () => {
  let oracle: Oracle;
  const ddl = (events: number) => nexmarkScript("q0", events, 10_000).replace(/CREATE TABLE nexmark_q0[\s\S]*$/, "");
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS);
  });
  afterAll(() => oracle?.close());

  for (const c of CASES) {
    it(`${c.name}, at parallelism 1 and 3`, async () => {
      const script = `${ddl(EVENTS)}${SINK};\n${c.sql}`;
      const expected = await oracle.runSql(c.duck);
      expect(expected.length).toBeGreaterThan(0);
      for (const parallelism of [1, 3]) {
        const out = await runToCompletion(sqlJob("window-rank", script), { clock: new ManualClock(), parallelism });
        const actual = (out.get("out") ?? []) as Record<string, unknown>[];
        expect(compareMultisets(actual, expected), `${c.name} at parallelism ${parallelism}`).toEqual([]);
      }
    });
  }

  it("straight over HOP, stopped with a savepoint in the middle and restored: each window's top rows once", async () => {
    // Its keys' timers (the window's end) are implied by their rows, and set again by the restore. At 100 events/s
    // the events span 30 s, so windows close before the stop and stay open across it.
    const c = CASES[1] as (typeof CASES)[number];
    await expectSavepointOverSlowNexmark(
      "window-rank-savepoint",
      { events: EVENTS, rate: 100 },
      `${SINK};\n${c.sql}`,
      c.duck,
      true,
    );
  });

  it("runs a TopN without PARTITION BY (one partition) at parallelism 1 and 3", async () => {
    const sql = `CREATE TABLE top (auction BIGINT, price BIGINT, rn BIGINT) WITH ('connector' = 'print');
      INSERT INTO top SELECT auction, price, rn FROM (
        SELECT auction, price, ROW_NUMBER() OVER (ORDER BY price DESC) AS rn FROM bid) WHERE rn <= 5`;
    const expected = await oracle.runSql(`SELECT auction, price, rn FROM (
      SELECT auction, price, ROW_NUMBER() OVER (ORDER BY price DESC, auction, bidder, price, channel, url, dateTime, extra) AS rn FROM bid) WHERE rn <= 5`);
    expect(expected).toHaveLength(5);
    for (const parallelism of [1, 3]) {
      const out = await runToCompletion(sqlJob("top", `${ddl(EVENTS)}${sql}`), {
        clock: new ManualClock(),
        parallelism,
      });
      expect(compareMultisets(foldChangelog(out.get("top") ?? []), expected)).toEqual([]);
    }
  });

  it("plans a window TopN as insert-only, and a TopN without the window as updating", () => {
    const [windowed] = planSql(`${ddl(10)}${SINK};\n${CASES[0]?.sql}`).inserts;
    expect(windowed && changelogMode(windowed.optimized)).toEqual(["+I"]);
    expect(windowed && explain(windowed)).toContain(
      "WindowRank(window=[window_end], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=3], partitionBy=[window_start, window_end], orderBy=[num DESC]",
    );
    const unwindowed = CASES[0]?.sql.replace("PARTITION BY window_start, window_end", "PARTITION BY window_start");
    expect(() => planSql(`${ddl(10)}${SINK};\n${unwindowed}`)).toThrow(/accepts only \[\+I\].*a TopN/);
  });
});
