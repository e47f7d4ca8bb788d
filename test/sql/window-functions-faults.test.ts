/**
 * OVER aggregates (ROWS and RANGE frames) and a window TopN under injected faults (crashes,
 * duplicates, zombies, failovers: test/sim): the committed table equals DuckDB's over the same
 * events, as without faults. Ties on the ORDER BY keys go by the whole row, as in riffle
 * (core/sql/rank.ts), and the DuckDB SQL writes that order out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { sqlJob } from "../../core/sql/session.ts";
import { compareMultisets, type Oracle } from "../oracle/duckdb-oracle.ts";
import { simulate } from "../sim/simulate.ts";
import { nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkScript } from "./nexmark/script.ts";

const EVENTS = 2000;
const SINK = "CREATE TABLE out (k BIGINT, t TIMESTAMP(3), v BIGINT, agg BIGINT) WITH ('connector' = 'print')";
const BID_ORDER = "auction, bidder, price, channel, url, dateTime, extra";

const CASES: { name: string; sql: string; duck: string }[] = [
  {
    name: "SUM OVER ROWS BETWEEN 2 PRECEDING",
    sql: `INSERT INTO out SELECT auction, \`dateTime\`, price,
            SUM(price) OVER (PARTITION BY auction ORDER BY \`dateTime\` ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM bid`,
    duck: `SELECT auction AS k, dateTime AS t, price AS v,
             SUM(price) OVER (PARTITION BY auction ORDER BY dateTime, ${BID_ORDER} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS agg
           FROM bid`,
  },
  {
    name: "MAX OVER RANGE BETWEEN INTERVAL '2' SECOND PRECEDING",
    sql: `INSERT INTO out SELECT bidder, \`dateTime\`, price,
            MAX(price) OVER (PARTITION BY bidder ORDER BY \`dateTime\` RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW) FROM bid`,
    duck: `SELECT bidder AS k, dateTime AS t, price AS v,
             MAX(price) OVER (PARTITION BY bidder ORDER BY dateTime RANGE BETWEEN 2000 PRECEDING AND CURRENT ROW) AS agg
           FROM bid`,
  },
  {
    name: "a window TopN: the 2 highest bids per 10 s tumbling window",
    sql: `INSERT INTO out SELECT auction, window_end, price, rn FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
            FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(\`dateTime\`), INTERVAL '10' SECOND)))
          WHERE rn <= 2`,
    duck: `SELECT auction AS k, we AS t, price AS v, rn AS agg FROM (
             SELECT *, ROW_NUMBER() OVER (PARTITION BY we ORDER BY price DESC, ${BID_ORDER}) AS rn
             FROM (SELECT *, dateTime // 10000 * 10000 + 10000 AS we FROM bid))
           WHERE rn <= 2`,
  },
];

describe("OVER aggregates and window TopN vs DuckDB, with and without injected faults", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS);
  });
  afterAll(() => oracle?.close());

  const script = (sql: string) =>
    `${nexmarkScript("q0", EVENTS, 10_000).replace(/CREATE TABLE nexmark_q0[\s\S]*$/, "")}${SINK};\n${sql}`;
  const diff = (out: ReadonlyMap<string, readonly unknown[]>, expected: Record<string, unknown>[]) =>
    compareMultisets(foldChangelog(out.get("out") ?? []), expected);

  for (const c of CASES) {
    it(`${c.name}: at parallelism 1 and 3, and under faults (seeds 1-2)`, async () => {
      const expected = await oracle.runSql(c.duck);
      expect(expected.length).toBeGreaterThan(0);
      for (const parallelism of [1, 3]) {
        const out = await runToCompletion(sqlJob("over", script(c.sql)), { clock: new ManualClock(), parallelism });
        expect(diff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
      for (const seed of [1, 2]) {
        const job = sqlJob("over", script(c.sql));
        const r = await simulate({ name: "sql-over", job, check: (out) => diff(out, expected) }, seed);
        expect(r.diffs, `seed ${seed}`).toEqual([]);
      }
    });
  }
});
