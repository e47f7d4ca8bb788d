/**
 * Interval joins: an inner join of insert-only inputs whose condition bounds a side's event time
 * by the other side's row (join-bounds.ts) runs as the append join with expiring state, or, when
 * the bounds make a band between two event-time columns (both queries here), as the bucketed
 * interval join (band-join.ts; its own tests in band-join.test.ts). Its results against DuckDB (parallelism 1 and 4, injected faults), its EXPLAIN, the state it keeps
 * while the watermark advances (driven by hand: bounded, where the same join without bounds keeps
 * every row), and the refusal of a savepoint with the old join layout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGraph, type StreamExecutionEnvironment } from "../../core/api/environment.ts";
import type { KeyedContext, TimerContext } from "../../core/api/functions.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import type { Segment } from "../../core/ports/state-store.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { appendJoin, TIMER_STEP_MS, type UniqueSides } from "../../core/sql/append-join.ts";
import type { Row } from "../../core/sql/expr.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { simulate } from "../sim/simulate.ts";
import { expectOlderLayoutRefused } from "../support/layout-refusal.ts";
import { memoryMap, memoryValue } from "../support/memory-map.ts";
import { expectSavepointOverSlowNexmark, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

const EVENTS = 3000;
const RATE = 1000;

/** Bids in the first second of their auction's life, and a bidder's bids within 1 s after another of theirs on the same auction. */
const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  "bids in the first second of their auction": {
    sql: `SELECT B.auction, B.price, B.dateTime, A.seller FROM bid B JOIN auction A ON B.auction = A.id
      WHERE B.dateTime BETWEEN A.dateTime AND A.dateTime + INTERVAL '1' SECOND`,
    duckdb: `SELECT B.auction, B.price, B.dateTime, A.seller FROM bid B JOIN auction A ON B.auction = A.id
      WHERE B.dateTime BETWEEN A.dateTime AND A.dateTime + 1000`,
  },
  "a bidder's bids on an auction up to 1 s after another of theirs (a self join)": {
    sql: `SELECT X.bidder, X.price, Y.price FROM bid X, bid Y WHERE X.bidder = Y.bidder AND X.auction = Y.auction
      AND Y.dateTime > X.dateTime AND Y.dateTime <= X.dateTime + INTERVAL '1' SECOND`,
    duckdb: `SELECT X.bidder, X.price, Y.price FROM bid X, bid Y WHERE X.bidder = Y.bidder AND X.auction = Y.auction
      AND Y.dateTime > X.dateTime AND Y.dateTime <= X.dateTime + 1000`,
  },
};

const script = (sql: string, events = EVENTS) =>
  `${nexmarkTables(events, RATE)};
  CREATE TABLE out (a BIGINT, b BIGINT, c ${sql.includes("Y.price") ? "BIGINT" : "TIMESTAMP(3), d BIGINT"})
  WITH ('connector' = 'print');
  INSERT INTO out ${sql}`;

const diff = positionalDiff;

describe("interval joins vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS, RATE);
  });
  afterAll(() => oracle?.close());

  it("explains each side's expiry, and a join without time bounds as a plain join", () => {
    const explain = (sql: string) => planSql(script(sql).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0];
    expect(explain(QUERIES["bids in the first second of their auction"]?.sql ?? "")).toMatch(
      /IntervalJoin\(type=\[InnerJoin\], keys=\[auction = id\], .*leftExpiry=\[dateTime\], rightExpiry=\[\(dateTime \+ 1000\)\]\).*changelogMode=\[I\]/,
    );
    const plain = explain(
      "SELECT B.auction, B.price, B.dateTime, A.seller FROM bid B JOIN auction A ON B.auction = A.id",
    );
    expect(plain).toMatch(/ Join\(type=\[InnerJoin\], keys=\[auction = id\], leftInputSpec=.*\) → connect/);
    expect(plain).not.toMatch(/IntervalJoin/);
    // The query's calc over the join runs in the join, making the sink's records.
    expect(plain).toMatch(/Calc\(select=\[auction, price, dateTime, seller\]\) → in the join/);
  });

  for (const [name, q] of Object.entries(QUERIES)) {
    it(`${name}, at parallelism 1 and 4 and under injected faults`, async () => {
      const expected = await oracle.runSql(q.duckdb);
      expect(expected.length).toBeGreaterThan(50);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob("interval", script(q.sql)), { clock: new ManualClock(), parallelism });
        expect(diff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
      const faulty = (env: StreamExecutionEnvironment) => {
        env.configure({ sourceBatchSize: 37, maxRecordsPerEnvelope: 16 });
        env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
      };
      let crashes = 0;
      for (const seed of [1, 2]) {
        const job = sqlJob("interval", script(q.sql), faulty);
        const r = await simulate({ name: "interval", job, check: (out) => diff(out, expected) }, seed);
        expect(r.diffs, `seed ${seed}`).toEqual([]);
        crashes += r.faults.crashBeforeCommit + r.faults.crashAfterCommit + r.faults.crashMidSend + r.faults.failovers;
      }
      expect(crashes, "crashes injected").toBeGreaterThan(0);
    }, 180_000); // two runs and two fault simulations against DuckDB: about 15 s on a quiet 2-core machine
  }
});

/**
 * Drives the append join of rows [key, time] by hand, one key, with timers fired as the
 * watermark advances; `expiring` gives the left rows the expiry `time + 1000` and the right
 * rows `time` (the condition `r.time BETWEEN l.time AND l.time + 1000`).
 */
function harness(expiring: boolean, unique: UniqueSides = { left: false, right: false }) {
  const inWindow = (row: Row) =>
    (row[3] as number) >= (row[1] as number) && (row[3] as number) <= (row[1] as number) + 1000;
  const fn = appendJoin(
    { residual: (l, r) => inWindow([...l, ...r]), concat: (l, r) => [...l, ...r] },
    {
      left: expiring ? (r) => (r[1] as number) + 1000 : undefined,
      right: expiring ? (r) => r[1] as number : undefined,
    },
    unique,
  );
  // A side unique on the key keeps its one row in a value state.
  const sideState = (one: boolean) => (one ? memoryValue<Row>() : memoryMap<Row | number>());
  const state = { left: sideState(unique.left), right: sideState(unique.right) };
  const timers = new Set<number>();
  let watermark = Number.NEGATIVE_INFINITY;
  const emitted: Row[] = [];
  const ctx = {
    key: "k",
    state,
    emit: (r: Row) => emitted.push(r),
    timers: {
      currentWatermark: () => watermark,
      registerEventTimeTimer: (t: number) => void timers.add(t),
      deleteEventTimeTimer: (t: number) => void timers.delete(t),
    },
  };
  const size = (s: ReturnType<typeof sideState>) =>
    "entries" in s ? s.entries().length : s.value() === undefined ? 0 : 1;
  const stored = () => size(state.left) + size(state.right);
  return {
    emitted,
    stored,
    timers,
    left: (t: number) => fn.processElement1(["k", t], ctx as unknown as KeyedContext<never, never, Row>),
    right: (t: number) => fn.processElement2(["k", t], ctx as unknown as KeyedContext<never, never, Row>),
    advance(to: number) {
      watermark = to;
      for (const t of [...timers].sort((a, b) => a - b)) {
        if (t > to) break;
        timers.delete(t);
        fn.onTimer?.(t, ctx as unknown as TimerContext<never, never, Row>);
      }
    },
  };
}

describe("the append join's state", () => {
  it("stays bounded while the watermark advances, where the same join without bounds keeps every row", () => {
    const run = (expiring: boolean) => {
      const h = harness(expiring);
      let most = 0;
      for (let t = 0; t < 20_000; t += 10) {
        h.left(t);
        h.right(t + 500);
        h.advance(t - 100);
        most = Math.max(most, h.stored());
      }
      return { most, emitted: h.emitted.length, end: h.stored() };
    };
    const bounded = run(true);
    const unbounded = run(false);
    expect(bounded.emitted).toBe(unbounded.emitted); // the same rows joined
    expect(bounded.emitted).toBeGreaterThan(1000);
    expect(unbounded.end).toBeGreaterThan(4000); // every row, with its sequence entries
    // Left rows live 1000 ms past the watermark, right rows until it: a few hundred rows, never thousands.
    expect(bounded.most).toBeLessThan(2 * ((1000 + 100 + TIMER_STEP_MS) / 10 + 100));
  });

  it("does not store a row whose expiry the watermark has passed, but joins it with what is stored", () => {
    const h = harness(true);
    h.left(1000);
    h.advance(1500);
    h.right(1600); // late: its expiry (1600) is ahead of the watermark, so it is stored
    h.advance(3000); // every left row with time + 1000 <= 3000 is gone, and every right row
    expect(h.stored()).toBe(0);
    h.left(2500);
    h.right(2900); // late: expired already, yet it joins the left row stored at 2500
    expect(h.emitted).toEqual([
      ["k", 1000, "k", 1600],
      ["k", 2500, "k", 2900],
    ]);
    expect(h.stored()).toBe(2); // the left row and its sequence entry; the late right row is not kept
  });
});

describe("the append join of a side unique on the join key", () => {
  it("joins a row of the other side that comes after the key's row and does not store it; one that comes before is kept until that row comes", () => {
    const h = harness(true, { left: true, right: false });
    h.right(1100); // before the key's left row: stored, for it
    expect(h.stored()).toBe(2); // the right row and its sequence entry
    h.left(1000);
    h.right(1200); // after it: joins it, and is not stored
    h.right(1300);
    expect(h.emitted).toEqual([
      ["k", 1000, "k", 1100],
      ["k", 1000, "k", 1200],
      ["k", 1000, "k", 1300],
    ]);
    // The left row alone (a value state: no sequence entry); the early right row went when it met its only left row.
    expect(h.stored()).toBe(1);
  });

  it("drops the timers of the rows its key's row met (they have nothing left to expire), and keeps its own", () => {
    const h = harness(true, { left: true, right: false });
    h.right(1100); // stored until 1100: a timer at 2000
    h.right(1900); // the same timer
    expect([...h.timers]).toEqual([2000]);
    h.left(1050); // joins both and drops them: their timer goes; its own (expiry 2050) is at 3000
    expect(h.emitted.length).toBe(2);
    expect([...h.timers]).toEqual([3000]);
    h.advance(3000);
    expect(h.stored()).toBe(0);
  });

  it("relies on the uniqueness: a second left row of the key (which a unique side never has) meets only the rows stored", () => {
    const run = (unique: boolean) => {
      const h = harness(true, { left: unique, right: false });
      h.left(1000);
      h.right(1200);
      h.left(1100);
      return h.emitted;
    };
    expect(run(false)).toEqual([
      ["k", 1000, "k", 1200],
      ["k", 1100, "k", 1200],
    ]);
    expect(run(true)).toEqual([["k", 1000, "k", 1200]]);
  });
});

describe("a join side unique on the key (the auctions), whose state implies its row's expiry timer", () => {
  // Bounded on one side only (bids within their auction's life): the per-key join, not the bucketed one.
  const sql = `SELECT B.auction, B.price, B.dateTime, A.seller FROM bid B JOIN auction A ON B.auction = A.id
    WHERE B.dateTime BETWEEN A.dateTime AND A.expires`;
  const JOIN = /-u1\/(left|right|\$timers)$/;

  it("writes no timer for its row: the keys with stored timers are those of bids stored before their auction", async () => {
    const written = new Map<string, Set<string>>();
    const store = new InMemoryStateStore();
    const append = store.append.bind(store);
    store.append = (task: string, partition: number, segment: Segment) => {
      for (const c of segment.changes) {
        const state = JOIN.exec(c.s)?.[1];
        if (state !== undefined) written.set(state, (written.get(state) ?? new Set()).add(c.k));
      }
      return append(task, partition, segment);
    };
    await runToCompletion(sqlJob("unique", script(sql)), { clock: new ManualClock(), store });
    const [bids, auctions, timers] = ["left", "right", "$timers"].map((s) => [...(written.get(s) ?? [])]);
    expect(auctions?.length).toBeGreaterThan(50);
    expect(timers?.length).toBeGreaterThan(0); // the early bids' timers
    expect(timers?.filter((k) => !bids?.includes(k))).toEqual([]);
  });

  it("sets the timers again on a restore from a savepoint taken while auctions are open: every auction expires", async () => {
    const sink = "CREATE TABLE out (a BIGINT, b BIGINT, c TIMESTAMP(3), d BIGINT) WITH ('connector' = 'print')";
    const { job, store } = await expectSavepointOverSlowNexmark(
      "unique-restore",
      { events: 3000, rate: 100 },
      `${sink}; INSERT INTO out ${sql}`,
      sql,
      true,
    );
    const task = planJob(buildGraph(job)).tasks.find((t) => t.id.endsWith("-u1"));
    if (!task) throw new Error("the join's task is gone");
    const held = (name: string) => store.scanState(task.id, `${task.id}/${name}`, 0, Number.MAX_SAFE_INTEGER);
    // The end of input passed every auction's expiry: its timer, set again by the restore, dropped it.
    expect(await held("right")).toEqual([]);
    expect(await held("$timers")).toEqual([]);
  });
});

describe("a savepoint of the old join layout", () => {
  it("is refused on restore, naming the join's uid, instead of reading state it cannot understand", async () => {
    // A bound on one side only: the per-key interval join, not the bucketed one (band-join.test.ts).
    const sql = `SELECT B.auction, B.price, B.dateTime, A.seller FROM bid B JOIN auction A ON B.auction = A.id
      WHERE B.dateTime BETWEEN A.dateTime AND A.expires`;
    const job = sqlJob("interval", script(sql, 1000), (env) => {
      env.configure({ sourceBatchSize: 50 });
      env.enableCheckpointing(10);
    });
    // The same savepoint as the layout before version 2 named it: the join's uid without `-j2`
    // (and without `-u1`, the value state of the auctions' one row per key, which came later).
    await expectOlderLayoutRefused(job, "interval", "j2-u1", "");
  });
});
