/**
 * The window extreme join (extreme-join.ts): a join of a stream with its own tumbling-window MAX
 * or MIN on that value, within the window's time, runs as one operator keyed by window. Its
 * EXPLAIN and the joins that keep the interval join; its results against DuckDB (ties at the
 * extreme, rows exactly at a window's end, MIN, a band from window_start, a residual condition
 * across the sides) at parallelism 1 and 4, under injected faults, and stopped with a savepoint
 * in the middle then restored from it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import type { Row } from "../../core/sql/expr.ts";
import type { Extreme } from "../../core/sql/extreme-join.ts";
import { type Edge, extremeJoin } from "../../core/sql/extreme-join-fn.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { BIGINT } from "../../core/sql/types.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { expectExactlyOnceUnderFaults, expectSavepointInTheMiddle, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

/** 192 s of events, 8 ms apart: 192 windows of 1 s, every other one with a bid at its very start. */
const EVENTS = 24_000;
const RATE = 125;

/** A bid's price cut to four values: many bids tie at a window's extreme, and many at a window's start hold it. */
const COARSE = "CREATE VIEW coarse AS SELECT auction, bidder, price % 4 AS p, dateTime FROM bid";
const windows = (agg: string) => `SELECT ${agg} AS m, window_start AS ws, window_end AS we
  FROM TABLE(TUMBLE(TABLE coarse, DESCRIPTOR(dateTime), INTERVAL '1' SECOND)) GROUP BY window_start, window_end`;
const duckWindows = (agg: string) =>
  `SELECT ${agg} AS m, dateTime - dateTime % 1000 AS ws, dateTime - dateTime % 1000 + 1000 AS we FROM C GROUP BY 2, 3`;
const DUCK_COARSE = "WITH C AS (SELECT auction, bidder, price % 4 AS p, dateTime FROM bid)";

const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  "MAX, BETWEEN window_end - size AND window_end (q7's shape: a row at a window's end joins it too)": {
    sql: `SELECT B.auction, B.p, B.dateTime, W.m FROM coarse B JOIN (${windows("MAX(p)")}) W ON B.p = W.m
      WHERE B.dateTime BETWEEN W.we - INTERVAL '1' SECOND AND W.we`,
    duckdb: `${DUCK_COARSE}, W AS (${duckWindows("MAX(p)")})
      SELECT B.auction, B.p, B.dateTime, W.m FROM C B JOIN W ON B.p = W.m WHERE B.dateTime BETWEEN W.we - 1000 AND W.we`,
  },
  "MIN, from window_start to before window_end, with a condition across the sides": {
    sql: `SELECT B.auction, B.bidder, B.dateTime, W.m FROM coarse B JOIN (${windows("MIN(p)")}) W ON W.m = B.p
      WHERE B.dateTime >= W.ws AND B.dateTime < W.we AND B.bidder % 3 <> W.m % 3`,
    duckdb: `${DUCK_COARSE}, W AS (${duckWindows("MIN(p)")})
      SELECT B.auction, B.bidder, B.dateTime, W.m FROM C B JOIN W ON W.m = B.p
      WHERE B.dateTime >= W.ws AND B.dateTime < W.we AND B.bidder % 3 <> W.m % 3`,
  },
};

const script = (sql: string) =>
  `${nexmarkTables(EVENTS, RATE)};
  ${COARSE};
  CREATE TABLE out (a BIGINT, b BIGINT, c TIMESTAMP(3), d BIGINT) WITH ('connector' = 'print');
  INSERT INTO out ${sql}`;

const explain = (sql: string) => planSql(script(sql).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0];

describe("the window extreme join's plan", () => {
  it("runs q7's shape as one operator keyed by window, without the window aggregate", () => {
    const plan = explain(QUERIES[Object.keys(QUERIES)[0] as string]?.sql ?? "") ?? "";
    const physical = plan.split("== Physical Plan ==")[1] ?? "";
    expect(physical).toMatch(
      /WindowExtremeJoin\(type=\[InnerJoin\], keys=\[p = m\], .*extreme=\[MAX\(p\) per TUMBLE\(dateTime, 1000 ms\)\], edges=/,
    );
    expect(physical).not.toMatch(/WindowAggregate|IntervalJoin/);
    expect(explain(QUERIES[Object.keys(QUERIES)[1] as string]?.sql ?? "")).not.toMatch(/edges=/);
  });

  it("is not used where the two sides may read different rows, or the band leaves the window", () => {
    const q7 = (where: string, agg = "MAX(p)", having = "") =>
      explain(`SELECT B.auction, B.p, B.dateTime, W.m FROM coarse B JOIN (${windows(agg)}${having}) W
        ON B.p = W.m WHERE ${where}`) ?? "";
    const band = "B.dateTime BETWEEN W.we - INTERVAL '1' SECOND AND W.we";
    expect(q7(band)).toMatch(/WindowExtremeJoin/);
    // A filter on the bids alone (it filters the join's side, not the aggregate's input).
    expect(q7(`${band} AND B.bidder % 2 = 0`)).toMatch(/IntervalJoin/);
    // The band reaches into the window before.
    expect(q7("B.dateTime BETWEEN W.we - INTERVAL '2' SECOND AND W.we")).toMatch(/IntervalJoin/);
    // Not an extreme, and a HAVING over the aggregate.
    expect(q7(band, "SUM(p)")).toMatch(/IntervalJoin/);
    expect(q7(band, "MAX(p)", " HAVING MAX(p) > 5")).toMatch(/IntervalJoin/);
  });
});

describe("the window extreme join vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS, RATE);
  });
  afterAll(() => oracle?.close());

  it("has ties and rows at a window's end in its expected rows (the cases the operator keeps apart)", async () => {
    const q = QUERIES[Object.keys(QUERIES)[0] as string] ?? { sql: "", duckdb: "" };
    const rows = await oracle.runSql(`WITH R AS (${q.duckdb}) SELECT
      (SELECT COUNT(*) FROM R WHERE dateTime % 1000 = 0) AS edges,
      (SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM R GROUP BY dateTime - dateTime % 1000)) AS ties`);
    const { edges, ties } = rows[0] as { edges: number; ties: number };
    expect(Number(edges)).toBeGreaterThan(10);
    expect(Number(ties)).toBeGreaterThan(10);
  });

  for (const [name, q] of Object.entries(QUERIES)) {
    it(`${name}, at parallelism 1 and 4`, async () => {
      const expected = await oracle.runSql(q.duckdb);
      expect(expected.length).toBeGreaterThan(500);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob("extreme", script(q.sql)), { clock: new ManualClock(), parallelism });
        expect(positionalDiff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
    }, 120_000);
  }

  it("under injected faults (crashes, duplicates, failovers) while windows close", async () => {
    const q = QUERIES[Object.keys(QUERIES)[0] as string] ?? { sql: "", duckdb: "" };
    await expectExactlyOnceUnderFaults("extreme", script(q.sql), await oracle.runSql(q.duckdb));
  }, 180_000);

  it("stopped with a savepoint in the middle and restored from it, emits every row once", async () => {
    const q = QUERIES[Object.keys(QUERIES)[0] as string] ?? { sql: "", duckdb: "" };
    const expected = await oracle.runSql(q.duckdb);
    await expectSavepointInTheMiddle("extreme", script(q.sql), expected, { fraction: 1 / 3, rows: true });
  }, 120_000);
});

describe("the window extreme join, by hand", () => {
  /** Windows of 1 s over rows [value, time]; MAX(value); the right row [max, window_end]. */
  const extreme: Extreme = {
    fn: "MAX",
    value: { kind: "input", index: 0, type: BIGINT },
    time: 1,
    window: { fn: "TUMBLE", sizeMs: 1000, stepMs: 1000, offsetMs: 0 },
    edge: true,
    startAt: 0,
    right: [2, 1],
  };
  const run = () => {
    const fn = extremeJoin(extreme, { residual: undefined, concat: (l, r) => [...l, ...r] });
    let top: unknown;
    let watermark = Number.NEGATIVE_INFINITY;
    const emitted: Row[] = [];
    const timers: number[] = [];
    const ctx = {
      key: 0,
      state: {
        top: {
          value: () => top,
          update: (v: unknown) => {
            top = v;
          },
          clear: () => {
            top = undefined;
          },
        },
      },
      emit: (r: Row) => void emitted.push(r),
      timers: { currentWatermark: () => watermark, registerEventTimeTimer: (t: number) => void timers.push(t) },
    } as unknown as Parameters<typeof fn.processElement>[1];
    return {
      emitted,
      row: (r: Row | Edge) => fn.processElement(r, ctx),
      /** Moves the watermark without running the timers it makes due (as between a watermark and its timers). */
      due(to: number) {
        watermark = to;
      },
      advance(to: number) {
        watermark = to;
        for (const t of timers.splice(0).sort((a, b) => a - b)) {
          if (t > to) timers.push(t);
          else fn.onTimer?.(t, ctx as never);
        }
      },
    };
  };

  it("joins the rows tied at the window's maximum when the watermark reaches its end, and no other", () => {
    const h = run();
    h.row([5, 100]);
    h.row([7, 200]);
    h.row([7, 900]);
    h.row([3, 950]);
    h.advance(998);
    expect(h.emitted).toEqual([]);
    h.advance(999);
    expect(h.emitted).toEqual([
      [7, 200, 7, 1000],
      [7, 900, 7, 1000],
    ]);
  });

  it("joins a row at the window's end that comes once the window is due, before it is emitted; a late row of its own does not count", () => {
    const h = run();
    h.row([7, 200]);
    h.due(999);
    h.row({ edge: [7, 1000] }); // not late itself (time 1000): joins the window at its emission
    h.row([9, 990]); // late for the window's maximum, as the window aggregate drops it
    h.advance(999);
    expect(h.emitted.map((r) => r[1])).toEqual([200, 1000]);
  });

  it("offers a row at the window's end to the window before, until the watermark reaches that end", () => {
    const h = run();
    h.row([7, 200]);
    h.advance(998);
    h.row({ edge: [7, 1000] }); // due at 999: kept beside the maximum
    h.advance(999);
    expect(h.emitted.map((r) => r[1])).toEqual([200, 1000]);
    h.row({ edge: [7, 1000] }); // emitted already, the maximum kept until 1000: joins at once
    h.row({ edge: [6, 1000] });
    h.advance(1000);
    h.row({ edge: [7, 1000] }); // the window is gone
    expect(h.emitted.map((r) => r[1])).toEqual([200, 1000, 1000]);
  });
});
