/**
 * The window join of distinct window aggregates (window-join.ts): two window aggregates that
 * only group, joined on their windows and keys, run as one operator keyed by the join key. Its
 * EXPLAIN and the joins that keep the interval join; its results against DuckDB (q8's shape over
 * TUMBLE; HOP joined on window_start alone, sides whose groups repeat and several groups per
 * key, a condition across the sides) at parallelism 1 and 4, under injected faults, and stopped
 * with a savepoint in the middle then restored from it; and the operator by hand (late rows,
 * repeated groups, null keys, the window's end).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Key } from "../../core/keys.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import type { Row } from "../../core/sql/expr.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { windowJoin } from "../../core/sql/window-join-fn.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { expectExactlyOnceUnderFaults, expectSavepointInTheMiddle, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

/** 192 s of events, 8 ms apart. */
const EVENTS = 24_000;
const RATE = 125;

const tumble = (table: string, cols: string) =>
  `SELECT ${cols}, window_start AS ws, window_end AS we
   FROM TABLE(TUMBLE(TABLE ${table}, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY ${cols}, window_start, window_end`;
const hop = (table: string, cols: string) =>
  `SELECT window_start AS ws, ${cols}
   FROM TABLE(HOP(TABLE ${table}, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '4' SECOND)) GROUP BY ${cols}, window_start, window_end`;
/** DuckDB: a table's rows in their HOP windows of 4 s sliding by 2 s (two per row). */
const duckHop = (table: string, cols: string) =>
  `SELECT DISTINCT dateTime - dateTime % 2000 - k * 2000 AS ws, ${cols} FROM ${table}, range(0, 2) r(k)`;

const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  "q8's shape: people and the sellers of auctions per TUMBLE window, on id, start and end": {
    sql: `SELECT P.id, P.name, P.ws FROM (${tumble("person", "id, name")}) P
      JOIN (${tumble("auction", "seller")}) A ON P.id = A.seller AND P.ws = A.ws AND P.we = A.we`,
    duckdb: `WITH P AS (SELECT DISTINCT id, name, dateTime - dateTime % 10000 AS ws FROM person),
      A AS (SELECT DISTINCT seller, dateTime - dateTime % 10000 AS ws FROM auction)
      SELECT P.id, P.name, P.ws FROM P JOIN A ON P.id = A.seller AND P.ws = A.ws`,
  },
  "HOP on window_start alone; groups that repeat, several per key, and a condition across the sides": {
    sql: `SELECT B.bidder, A.category, B.ws FROM (${hop("bid", "bidder")}) B
      JOIN (${hop("auction", "seller, category")}) A ON A.ws = B.ws AND B.bidder = A.seller
      WHERE B.bidder % 3 <> A.category % 3`,
    duckdb: `WITH B AS (${duckHop("bid", "bidder")}), A AS (${duckHop("auction", "seller, category")})
      SELECT B.bidder, A.category, B.ws FROM B JOIN A ON A.ws = B.ws AND B.bidder = A.seller
      WHERE B.bidder % 3 <> A.category % 3`,
  },
};

const script = (sql: string) =>
  `${nexmarkTables(EVENTS, RATE)};
  CREATE TABLE out (a BIGINT, b VARCHAR, c TIMESTAMP(3)) WITH ('connector' = 'print');
  INSERT INTO out ${sql}`;
const scriptOf = (name: string) => {
  const sql = QUERIES[name]?.sql ?? "";
  // The HOP query's second column is a category (BIGINT).
  return name.startsWith("HOP") ? script(sql).replace("b VARCHAR", "b BIGINT") : script(sql);
};
const names = Object.keys(QUERIES);
const explain = (sql: string) =>
  (planSql(script(sql).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0] ?? "").split(
    "== Physical Plan ==",
  )[1] ?? "";

describe("the window join's plan", () => {
  it("runs q8's shape as one operator keyed by the join key, without the window aggregates", () => {
    const physical = explain(QUERIES[names[0] as string]?.sql ?? "");
    expect(physical).toMatch(/WindowJoin\(type=\[InnerJoin\], keys=\[id = seller, ws = ws, we = we\]/);
    expect(physical).not.toMatch(/WindowAggregate|IntervalJoin/);
  });

  it("is not used where a side aggregates, the windows differ, or no window is joined on", () => {
    const p = (right: string, on: string) =>
      explain(`SELECT P.id, P.name, P.ws FROM (${tumble("person", "id, name")}) P JOIN (${right}) A ON ${on}`);
    const sellers = tumble("auction", "seller");
    expect(p(sellers, "P.id = A.seller AND P.ws = A.ws")).toMatch(/WindowJoin/);
    // An aggregate call on a side.
    const counted = sellers.replace("SELECT seller,", "SELECT seller, COUNT(*) AS n,");
    expect(p(counted, "P.id = A.seller AND P.ws = A.ws")).not.toMatch(/WindowJoin/);
    // Another window size.
    expect(p(sellers.replace("'10' SECOND", "'5' SECOND"), "P.id = A.seller AND P.ws = A.ws")).not.toMatch(
      /WindowJoin/,
    );
    // No window equated (a start with an end).
    expect(p(sellers, "P.id = A.seller AND P.ws = A.we")).not.toMatch(/WindowJoin/);
  });
});

describe("the window join vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS, RATE);
  });
  afterAll(() => oracle?.close());

  for (const name of names) {
    it(`${name}, at parallelism 1 and 4`, async () => {
      const expected = await oracle.runSql(QUERIES[name]?.duckdb ?? "");
      expect(expected.length).toBeGreaterThan(30);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob("wj", scriptOf(name)), { clock: new ManualClock(), parallelism });
        expect(positionalDiff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
    }, 120_000);
  }

  it("has groups that repeat within a window on both sides, and keys with several groups (the cases the operator keeps apart)", async () => {
    const [b, a] = await Promise.all([
      oracle.runSql("SELECT COUNT(*) AS n FROM bid GROUP BY bidder, dateTime - dateTime % 2000 HAVING COUNT(*) > 1"),
      oracle.runSql(`SELECT COUNT(DISTINCT category) AS n FROM auction
        GROUP BY seller, dateTime - dateTime % 2000 HAVING COUNT(DISTINCT category) > 1`),
    ]);
    expect(b.length).toBeGreaterThan(10);
    expect(a.length).toBeGreaterThan(10);
  });

  it("under injected faults (crashes, duplicates, failovers) while windows close", async () => {
    const name = names[1] as string;
    await expectExactlyOnceUnderFaults("wj", scriptOf(name), await oracle.runSql(QUERIES[name]?.duckdb ?? ""));
  }, 180_000);

  it("stopped with a savepoint in the middle and restored from it, emits every row once", async () => {
    const name = names[1] as string;
    const expected = await oracle.runSql(QUERIES[name]?.duckdb ?? "");
    await expectSavepointInTheMiddle("wj", scriptOf(name), expected, { fraction: 1 / 3, rows: true });
  }, 120_000);
});

describe("the window join, by hand", () => {
  /** Keyed by [id, window start] of windows of 1 s; rows are [id, tag]; the output the pair. */
  const run = () => {
    const fn = windowJoin<Row>(
      { residual: (l, r) => l[1] !== "no" && r[1] !== "no", concat: (l, r) => [...l, ...r] },
      (k: Key) => ((k as number[])[1] as number) + 1000,
    );
    const groups = new Map<string, unknown>();
    let key: Key = [0, 0];
    let watermark = Number.NEGATIVE_INFINITY;
    const emitted: Row[] = [];
    const timers: [Key, number][] = [];
    const ctx = {
      get key() {
        return key;
      },
      state: {
        groups: {
          value: () => groups.get(JSON.stringify(key)),
          update: (v: unknown) => void groups.set(JSON.stringify(key), v),
          clear: () => void groups.delete(JSON.stringify(key)),
        },
      },
      emit: (r: Row) => void emitted.push(r),
      timers: {
        currentWatermark: () => watermark,
        registerEventTimeTimer: (t: number) => void timers.push([key, t]),
      },
    } as unknown as Parameters<typeof fn.processElement1>[1];
    return {
      emitted,
      groups,
      timers,
      left: (k: Key, ...rows: Row[]) => {
        key = k;
        fn.processBundle1?.(rows, ctx);
      },
      right: (k: Key, ...rows: Row[]) => {
        key = k;
        fn.processBundle2?.(rows, ctx);
      },
      advance(to: number) {
        watermark = to;
        for (const [k, t] of timers.splice(0)) {
          if (t > to) timers.push([k, t]);
          else {
            key = k;
            fn.onTimer?.(t, ctx as never);
          }
        }
      },
    };
  };

  it("joins each new group with the other side's at once, a repeated group not again", () => {
    const h = run();
    h.left([1, 0], [1, "a"], [1, "a"]);
    h.right([1, 0], [1, "x"]);
    h.right([1, 0], [1, "x"], [1, "y"]);
    h.left([1, 0], [1, "a"], [1, "b"]);
    expect(h.emitted).toEqual([
      [1, "a", 1, "x"],
      [1, "a", 1, "y"],
      [1, "b", 1, "x"],
      [1, "b", 1, "y"],
    ]);
    expect(h.timers).toEqual([[[1, 0], 999]]);
  });

  it("keeps a group that fails the condition (it may join another), and keys apart", () => {
    const h = run();
    h.left([1, 0], [1, "no"]);
    h.right([1, 0], [1, "x"]);
    h.right([2, 0], [2, "x"]);
    h.left([1, 0], [1, "a"]);
    expect(h.emitted).toEqual([[1, "a", 1, "x"]]);
  });

  it("drops a row of a window the watermark has passed, and the key's groups at the window's end", () => {
    const h = run();
    h.left([1, 0], [1, "a"]);
    h.advance(998);
    h.right([1, 0], [1, "x"]); // the window is not yet due: joins
    h.advance(999);
    expect(h.groups.size).toBe(0);
    h.right([1, 0], [1, "y"]); // late: its window aggregate has emitted its groups
    h.left([1, 0], [1, "c"]); // late too: it does not join the late row above
    h.left([1, 1000], [1, "a"]);
    h.right([1, 1000], [1, "x"]);
    expect(h.emitted).toEqual([
      [1, "a", 1, "x"],
      [1, "a", 1, "x"],
    ]);
  });

  it("joins nothing on a null key, and keeps nothing for it", () => {
    const h = run();
    h.left([null, 0] as unknown as Key, [null, "a"]);
    h.right([null, 0] as unknown as Key, [null, "x"]);
    expect(h.emitted).toEqual([]);
    expect(h.groups.size).toBe(0);
  });
});
