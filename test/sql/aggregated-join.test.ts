/**
 * A group aggregate with one group per join key runs inside the join below it
 * (aggregated-join.ts): its EXPLAIN and the aggregates that keep their own operator; its results
 * against DuckDB (q4's shape over the interval join; DISTINCT and FILTER calls with the unique
 * side on the right, over a join without time bounds) at parallelism 1 and 4, under injected
 * faults, and through a savepoint in the middle.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { expectExactlyOnceUnderFaults, expectSavepointInTheMiddle, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

const EVENTS = 20_000;
const RATE = 1000;

const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  "q4's shape: each auction's highest bid and its count within the auction's life": {
    sql: `SELECT A.id, A.category, MAX(B.price), COUNT(*) FROM auction A JOIN bid B ON A.id = B.auction
      WHERE B.dateTime BETWEEN A.dateTime AND A.expires GROUP BY A.id, A.category`,
    duckdb: `SELECT A.id, A.category, MAX(B.price), COUNT(*) FROM auction A JOIN bid B ON A.id = B.auction
      WHERE B.dateTime BETWEEN A.dateTime AND A.expires GROUP BY A.id, A.category`,
  },
  "each seller's distinct categories and the reserve of category 10, the unique side on the right": {
    sql: `SELECT P.id, P.name, COUNT(DISTINCT A.category), SUM(A.reserve) FILTER (WHERE A.category = 10)
      FROM auction A JOIN person P ON A.seller = P.id GROUP BY P.name, P.id`,
    duckdb: `SELECT P.id, P.name, COUNT(DISTINCT A.category), SUM(A.reserve) FILTER (WHERE A.category = 10)
      FROM auction A JOIN person P ON A.seller = P.id GROUP BY P.name, P.id`,
  },
};

const script = (sql: string) =>
  `${nexmarkTables(EVENTS, RATE)};
  CREATE TABLE out (a BIGINT, b VARCHAR, c BIGINT, d BIGINT) WITH ('connector' = 'print');
  INSERT INTO out ${sql}`;
const scriptOf = (i: number) => {
  const sql = QUERIES[Object.keys(QUERIES)[i] as string]?.sql ?? "";
  return i === 0 ? script(sql).replace("b VARCHAR", "b BIGINT") : script(sql);
};
const duckdb = (i: number) => QUERIES[Object.keys(QUERIES)[i] as string]?.duckdb ?? "";
const physical = (s: string) =>
  planSql(s.replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0]?.split("== Physical Plan ==")[1] ?? "";

describe("a group aggregate inside its join: the plan", () => {
  it("runs q4's aggregate and one over the right side in the join's operator", () => {
    for (const i of [0, 1]) {
      const plan = physical(scriptOf(i));
      expect(plan).toMatch(/GroupAggregate\(.*\) → in the join below \(one group per join key/);
      expect(plan).not.toMatch(/GroupAggregate\(.*\) → keyBy/);
    }
  });

  it("is not used where a group spans join keys, a join key has several groups, or no side is unique", () => {
    const q = (select: string, from = "auction A JOIN bid B ON A.id = B.auction", group = "") =>
      physical(script(`SELECT ${select} FROM ${from} GROUP BY ${group}`).replace("b VARCHAR", "b BIGINT"));
    const own = /→ in the join below/;
    expect(q("A.id, A.category, MAX(B.price), COUNT(*)", undefined, "A.id, A.category")).toMatch(own);
    // A group of the category alone holds many auctions.
    expect(q("A.category, A.category, MAX(B.price), COUNT(*)", undefined, "A.category")).not.toMatch(own);
    // A group with the bidder: many per auction.
    expect(q("A.id, B.bidder, MAX(B.price), COUNT(*)", undefined, "A.id, B.bidder")).not.toMatch(own);
    // Bids joined with bids: neither side is unique on the auction.
    expect(
      q("B.auction, B.auction, MAX(C.price), COUNT(*)", "bid B JOIN bid C ON B.auction = C.auction", "B.auction"),
    ).not.toMatch(own);
  });
});

describe("a group aggregate inside its join vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS, RATE);
  });
  afterAll(() => oracle?.close());

  for (const [i, name] of Object.keys(QUERIES).entries()) {
    it(`${name}, at parallelism 1 and 4`, async () => {
      const expected = await oracle.runSql(duckdb(i));
      expect(expected.length).toBeGreaterThan(100);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob("agg-join", scriptOf(i)), { clock: new ManualClock(), parallelism });
        expect(positionalDiff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
    }, 120_000);
  }

  it("under injected faults (crashes, duplicates, failovers)", async () => {
    await expectExactlyOnceUnderFaults("agg-join", scriptOf(0), await oracle.runSql(duckdb(0)));
  }, 180_000);

  it("stopped with a savepoint in the middle and restored from it, folds to the same rows", async () => {
    await expectSavepointInTheMiddle("agg-join", scriptOf(1), await oracle.runSql(duckdb(1)), {
      fraction: 1 / 3,
      rows: false,
    });
  }, 120_000);
});
