/**
 * The group extreme join (group-extreme-join.ts): an insert-only relation joined on its grouping
 * keys with its own group MAX or MIN, under `v >= max` or `v = max`, runs as one operator keyed
 * by group. Its EXPLAIN and the joins that keep the regular join; its results against DuckDB
 * (ties, a maximum that grows while rows come, MIN, `=` as a key, a condition across the sides)
 * at parallelism 1 and 4, under injected faults, and through a savepoint in the middle.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { expectExactlyOnceUnderFaults, expectSavepointInTheMiddle, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

/** 120 s of events: 120 windows of 1 s, with few bids per auction in each, so that several tie. */
const EVENTS = 12_000;
const RATE = 100;

/** Bids per auction and 1 s window (q5's counts, tumbling). */
const COUNTS = `CREATE VIEW counts AS SELECT auction, COUNT(*) AS num, window_start AS ws, window_end AS we
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '1' SECOND)) GROUP BY auction, window_start, window_end`;
/** A bid's price cut to four values: a bidder's bids tie at the lowest. */
const COARSE = "CREATE VIEW coarse AS SELECT bidder, price % 4 AS p, dateTime, auction FROM bid";
const DUCK_COUNTS = `C AS (SELECT auction, COUNT(*) AS num, dateTime - dateTime % 1000 AS ws,
  dateTime - dateTime % 1000 + 1000 AS we FROM bid GROUP BY 1, 3, 4)`;

const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  "the auctions with the most bids per window (q5's shape, num >= maxn), ties and all": {
    sql: `SELECT C.auction, C.num, C.ws, M.maxn FROM counts C
      JOIN (SELECT MAX(num) AS maxn, ws, we FROM counts GROUP BY ws, we) M
      ON C.ws = M.ws AND C.we = M.we AND C.num >= M.maxn`,
    duckdb: `WITH ${DUCK_COUNTS}, M AS (SELECT MAX(num) AS maxn, ws, we FROM C GROUP BY ws, we)
      SELECT C.auction, C.num, C.ws, M.maxn FROM C JOIN M ON C.ws = M.ws AND C.we = M.we AND C.num >= M.maxn`,
  },
  "each bidder's bids at their lowest price % 4 (MIN, v = min as a join key, ties, a minimum that falls)": {
    sql: `SELECT B.bidder, B.p, B.dateTime, B.auction FROM coarse B
      JOIN (SELECT bidder, MIN(p) AS m FROM coarse GROUP BY bidder) M ON B.bidder = M.bidder AND M.m = B.p`,
    duckdb: `WITH B AS (SELECT bidder, price % 4 AS p, dateTime, auction FROM bid),
      M AS (SELECT bidder, MIN(p) AS m FROM B GROUP BY bidder)
      SELECT B.bidder, B.p, B.dateTime, B.auction FROM B JOIN M ON B.bidder = M.bidder AND M.m = B.p`,
  },
  "the most bid auctions per window, with a condition across the sides": {
    sql: `SELECT C.auction, C.num, C.ws, M.maxn FROM counts C
      JOIN (SELECT MAX(num) AS maxn, ws, we FROM counts GROUP BY ws, we) M
      ON M.ws = C.ws AND M.we = C.we AND M.maxn <= C.num AND C.auction % 3 <> M.maxn % 3`,
    duckdb: `WITH ${DUCK_COUNTS}, M AS (SELECT MAX(num) AS maxn, ws, we FROM C GROUP BY ws, we)
      SELECT C.auction, C.num, C.ws, M.maxn FROM C JOIN M
      ON M.ws = C.ws AND M.we = C.we AND M.maxn <= C.num AND C.auction % 3 <> M.maxn % 3`,
  },
};

const script = (sql: string) =>
  `${nexmarkTables(EVENTS, RATE)};
  ${COUNTS};
  ${COARSE};
  CREATE TABLE out (a BIGINT, b BIGINT, c TIMESTAMP(3), d BIGINT) WITH ('connector' = 'print');
  INSERT INTO out ${sql}`;

const explain = (sql: string) => planSql(script(sql).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0] ?? "";
const query = (i: number) => QUERIES[Object.keys(QUERIES)[i] as string] ?? { sql: "", duckdb: "" };

describe("the group extreme join's plan", () => {
  it("runs q5's shape and the = form as one operator keyed by group, without the group aggregate", () => {
    for (const [i, of] of [
      [0, "MAX\\(num\\) per ws, we"],
      [1, "MIN\\(p\\) per bidder"],
    ] as const) {
      const physical = explain(query(i).sql).split("== Physical Plan ==")[1] ?? "";
      expect(physical).toMatch(new RegExp(`GroupExtremeJoin\\(type=\\[InnerJoin\\], .*extreme=\\[${of}\\]\\)`));
      expect(physical).not.toMatch(/GroupAggregate| {2}Join\(/);
    }
  });

  it("is not used where the sides may read different rows, the comparison is not the extreme's, or the input retracts", () => {
    const q = (m: string, on = "C.num >= M.maxn", from = "counts") =>
      explain(`SELECT C.auction, C.num, C.ws, M.maxn FROM ${from} C
        JOIN (SELECT ${m} AS maxn, ws, we FROM counts GROUP BY ws, we) M ON C.ws = M.ws AND C.we = M.we AND ${on}`);
    expect(q("MAX(num)")).toMatch(/GroupExtremeJoin/);
    expect(q("MAX(num)", "C.num >= M.maxn AND C.auction % 2 = 0")).toMatch(/ Join\(/); // a filter on the left alone
    expect(q("MAX(num)", "C.num > M.maxn")).toMatch(/ Join\(/);
    expect(q("MAX(num)", "C.num <= M.maxn")).toMatch(/ Join\(/);
    expect(q("MIN(num)")).toMatch(/ Join\(/);
    expect(q("SUM(num)")).toMatch(/ Join\(/);
    // Per auction, its most frequent bidders, from counts that retract (a group aggregate's).
    const pairs = "(SELECT auction, bidder, COUNT(*) AS n, MAX(dateTime) AS d FROM bid GROUP BY auction, bidder)";
    const retracting = explain(`SELECT C.auction, C.n, C.d, M.m FROM ${pairs} C
      JOIN (SELECT auction, MAX(n) AS m FROM ${pairs} GROUP BY auction) M ON C.auction = M.auction AND C.n >= M.m`);
    expect(retracting).toMatch(/ Join\(/);
    expect(retracting).not.toMatch(/GroupExtremeJoin/);
  });
});

describe("the group extreme join vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS, RATE);
  });
  afterAll(() => oracle?.close());

  it("has bidders with ties at the minimum, and minimums that fell, in its expected rows", async () => {
    const rows = await oracle.runSql(
      `SELECT MAX(n) AS ties FROM (SELECT COUNT(*) AS n FROM (${query(1).duckdb}) GROUP BY bidder)`,
    );
    expect(Number((rows[0] as { ties: number }).ties)).toBeGreaterThan(10);
    // Bidders whose first bid is above their minimum: the join retracted what it emitted for them.
    const fell =
      await oracle.runSql(`WITH F AS (SELECT bidder, arg_min(price % 4, dateTime) AS first, MIN(price % 4) AS m
      FROM bid GROUP BY bidder) SELECT COUNT(*) AS n FROM F WHERE first > m`);
    expect(Number((fell[0] as { n: number }).n)).toBeGreaterThan(10);
  });

  for (const [name, q] of Object.entries(QUERIES)) {
    it(`${name}, at parallelism 1 and 4`, async () => {
      const expected = await oracle.runSql(q.duckdb);
      expect(expected.length).toBeGreaterThan(50);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob("top", script(q.sql)), { clock: new ManualClock(), parallelism });
        expect(positionalDiff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
    }, 120_000);
  }

  it("under injected faults (crashes, duplicates, failovers) while extremes move", async () => {
    for (const i of [0, 1])
      await expectExactlyOnceUnderFaults("top", script(query(i).sql), await oracle.runSql(query(i).duckdb));
  }, 180_000);

  it("stopped with a savepoint in the middle and restored from it, folds to the same rows", async () => {
    const expected = await oracle.runSql(query(1).duckdb);
    await expectSavepointInTheMiddle("top", script(query(1).sql), expected, { fraction: 1 / 2, rows: false });
  }, 120_000);
});
