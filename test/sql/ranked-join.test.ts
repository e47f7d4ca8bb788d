/**
 * A TopN partitioned by the key of the interval join below it runs inside the join
 * (ranked-join.ts): its EXPLAIN, the TopNs that stay apart, and its results against DuckDB
 * (a top 2 with row numbers, partitioned by either side's key) at parallelism 1 and 4 and
 * under injected faults.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { expectExactlyOnceUnderFaults, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

const EVENTS = 12_000;
const RATE = 1000;

/** Each auction's two highest bids while it is open, partitioned by `partition`. */
const top2 = (partition: string) => `SELECT id, seller, price, bid_dt, rn FROM (
  SELECT A.id, A.seller, B.price, B.dateTime AS bid_dt,
    ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY B.price DESC, B.dateTime ASC) AS rn
  FROM auction A, bid B WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires) WHERE rn <= 2`;

const script = (sql: string) =>
  `${nexmarkTables(EVENTS, RATE)};
  CREATE TABLE out (a BIGINT, b BIGINT, c BIGINT, d TIMESTAMP(3), e BIGINT) WITH ('connector' = 'print');
  INSERT INTO out ${sql}`;

const explain = (sql: string) =>
  planSql(script(sql).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0]?.split("== Physical Plan ==")[1] ?? "";

describe("a TopN partitioned by its join's key", () => {
  it("runs inside the join, partitioned by either side's key; by another column it stays apart", () => {
    for (const partition of ["A.id", "B.auction"]) {
      expect(explain(top2(partition))).toMatch(
        /Rank\(.*partitionBy=\[\w+\].* → in the join below \(partitioned by its key\)/,
      );
    }
    expect(explain(top2("A.seller"))).toMatch(/Rank\(.*\) → keyBy \+ keyed process/);
  });

  describe("vs DuckDB", () => {
    let oracle: Oracle;
    beforeAll(async () => {
      oracle = await nexmarkOracle(EVENTS, RATE);
    });
    afterAll(() => oracle?.close());

    for (const partition of ["A.id", "B.auction"]) {
      it(`partitioned by ${partition}, at parallelism 1 and 4`, async () => {
        const expected = await oracle.runSql(top2(partition));
        expect(expected.length).toBeGreaterThan(300);
        for (const parallelism of [1, 4]) {
          const out = await runToCompletion(sqlJob("ranked", script(top2(partition))), {
            clock: new ManualClock(),
            parallelism,
          });
          expect(positionalDiff(out, expected), `parallelism ${parallelism}`).toEqual([]);
        }
      }, 120_000);
    }

    it("under injected faults (crashes, duplicates, failovers) while bids expire", async () => {
      await expectExactlyOnceUnderFaults("ranked", script(top2("A.id")), await oracle.runSql(top2("A.id")));
    }, 180_000);
  });
});
