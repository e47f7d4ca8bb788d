/**
 * The bucketed interval join (band-join.ts): a join whose condition bounds the difference of two
 * event-time columns on both sides. Its EXPLAIN (and the joins that keep the per-key interval
 * join), its results against DuckDB with either side stored (parallelism 1 and 4, under
 * injected faults, and stopped with a savepoint in the middle then restored from it), and,
 * driven by hand, that it joins what a nested loop joins while dropping whole buckets as the
 * watermark passes them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyedContext, TimerContext } from "../../core/api/functions.ts";
import type { Key } from "../../core/keys.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { bandJoin, bandKeys, type Copy, copiesOf, encodedJoinKey } from "../../core/sql/band-join.ts";
import type { Row } from "../../core/sql/expr.ts";
import { type Band, bucketExpiry } from "../../core/sql/join-band.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { memoryMap } from "../support/memory-map.ts";
import { expectExactlyOnceUnderFaults, expectSavepointInTheMiddle, nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

/** 12 s of events with the watermark 4 s behind: buckets expire while rows still come, not only at the end. */
const EVENTS = 12_000;
const RATE = 1000;

/** Per auction and 1 s window, its bid count, joined with the auction's bids from 1 s before the window's end to 1 s after. */
const WINDOWS = `SELECT auction, COUNT(*) AS n, window_end AS we
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '1' SECOND)) GROUP BY auction, window_start, window_end`;
const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  "bids stored, window counts copied": {
    sql: `SELECT B.auction, B.price, B.dateTime, W.n FROM bid B JOIN (${WINDOWS}) W ON B.auction = W.auction
      WHERE B.dateTime BETWEEN W.we - INTERVAL '1' SECOND AND W.we + INTERVAL '1' SECOND`,
    duckdb: `WITH W AS (SELECT auction, COUNT(*) AS n, dateTime - dateTime % 1000 + 1000 AS we FROM bid GROUP BY 1, 3)
      SELECT B.auction, B.price, B.dateTime, W.n FROM bid B JOIN W ON B.auction = W.auction
      WHERE B.dateTime BETWEEN W.we - 1000 AND W.we + 1000`,
  },
  "window counts on the left, copied; bids on the right, stored": {
    sql: `SELECT W.auction, B.price, B.dateTime, W.n FROM (${WINDOWS}) W JOIN bid B ON W.auction = B.auction
      WHERE B.dateTime > W.we - INTERVAL '2' SECOND AND B.dateTime <= W.we`,
    duckdb: `WITH W AS (SELECT auction, COUNT(*) AS n, dateTime - dateTime % 1000 + 1000 AS we FROM bid GROUP BY 1, 3)
      SELECT W.auction, B.price, B.dateTime, W.n FROM W JOIN bid B ON W.auction = B.auction
      WHERE B.dateTime > W.we - 2000 AND B.dateTime <= W.we`,
  },
};

const script = (sql: string, events = EVENTS) =>
  `${nexmarkTables(events, RATE)};
  CREATE TABLE out (a BIGINT, b BIGINT, c TIMESTAMP(3), d BIGINT) WITH ('connector' = 'print');
  INSERT INTO out ${sql}`;

const explain = (sql: string) => planSql(script(sql).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0];

describe("the bucketed interval join's plan", () => {
  it("explains its band and buckets, with the stored side the one that is not an aggregate", () => {
    expect(explain(QUERIES["bids stored, window counts copied"]?.sql ?? "")).toMatch(
      /IntervalJoin\(type=\[InnerJoin\], keys=\[auction = auction\], .*band=\[dateTime BETWEEN we - 1000 AND we \+ 1000\], buckets=\[500 ms, left stored\]/,
    );
    expect(explain(QUERIES["window counts on the left, copied; bids on the right, stored"]?.sql ?? "")).toMatch(
      /band=\[dateTime BETWEEN we - 2000 AND we\], buckets=\[500 ms, right stored\]/,
    );
  });

  it("is not used for a bound on one side only, nor for a band wider than five minutes", () => {
    const during =
      explain(`SELECT B.auction, B.price, B.dateTime, A.seller FROM bid B JOIN auction A ON B.auction = A.id
      WHERE B.dateTime BETWEEN A.dateTime AND A.expires`);
    expect(during).toMatch(/IntervalJoin\(/);
    expect(during).not.toMatch(/band=/);
    const wide = explain(`SELECT B.auction, B.price, B.dateTime, A.seller FROM bid B JOIN auction A ON B.auction = A.id
      WHERE B.dateTime BETWEEN A.dateTime AND A.dateTime + INTERVAL '10' MINUTE`);
    expect(wide).toMatch(/IntervalJoin\(/);
    expect(wide).not.toMatch(/band=/);
  });
});

describe("the bucketed interval join vs DuckDB", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS, RATE);
  });
  afterAll(() => oracle?.close());

  for (const [name, q] of Object.entries(QUERIES)) {
    it(`${name}, at parallelism 1 and 4`, async () => {
      const expected = await oracle.runSql(q.duckdb);
      expect(expected.length).toBeGreaterThan(500);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob("band", script(q.sql)), { clock: new ManualClock(), parallelism });
        expect(positionalDiff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
    }, 120_000);
  }

  it("under injected faults (crashes, duplicates, failovers) while buckets expire", async () => {
    const q = QUERIES["bids stored, window counts copied"] ?? { sql: "", duckdb: "" };
    await expectExactlyOnceUnderFaults("band", script(q.sql), await oracle.runSql(q.duckdb));
  }, 180_000);

  it("stopped with a savepoint in the middle and restored from it, emits every row once", async () => {
    const q = QUERIES["bids stored, window counts copied"] ?? { sql: "", duckdb: "" };
    const expected = await oracle.runSql(q.duckdb);
    await expectSavepointInTheMiddle("band", script(q.sql), expected, { fraction: 1 / 3, rows: true });
  }, 120_000);
});

/**
 * Drives the band join of rows [key, time] by hand: the left (stored) rows' time within
 * [u - 300, u + 200] of the right (copied) rows' time u, in 100 ms buckets; per slot its own
 * state, timers fired as the watermark advances.
 */
function harness() {
  const band: Band = { stored: "left", time: 1, copiedTime: 1, lo: -300, hi: 200, bucketMs: 100 };
  const key = encodedJoinKey((r) => r[0] as Key);
  const residual = (r: Row) =>
    (r[1] as number) >= (r[3] as number) + band.lo && (r[1] as number) <= (r[3] as number) + band.hi;
  const fn = bandJoin(band, { residual: (l, r) => residual([...l, ...r]), concat: (l, r) => [...l, ...r] }, key, key);
  const keys = bandKeys(band, key, key);
  const slots = new Map<
    number,
    { stored: ReturnType<typeof memoryMap<Row[]>>; copied: ReturnType<typeof memoryMap<Row[]>> }
  >();
  const timers = new Map<number, Set<number>>();
  let watermark = Number.NEGATIVE_INFINITY;
  const emitted: Row[] = [];
  const ctxOf = (slot: number) => {
    let state = slots.get(slot);
    if (!state) {
      state = { stored: memoryMap<Row[]>(), copied: memoryMap<Row[]>() };
      slots.set(slot, state);
    }
    const registered = timers.get(slot) ?? new Set<number>();
    timers.set(slot, registered);
    return {
      key: slot,
      state,
      emit: (r: Row) => emitted.push(r),
      timers: { currentWatermark: () => watermark, registerEventTimeTimer: (t: number) => void registered.add(t) },
    } as unknown as KeyedContext<Key, never, Row> & TimerContext<Key, never, Row>;
  };
  const stored = () => [...slots.values()].reduce((n, s) => n + s.stored.size() + s.copied.size(), 0);
  return {
    band,
    emitted,
    stored,
    timerCount: () => [...timers.values()].reduce((n, s) => n + s.size, 0),
    left: (k: string, t: number) => {
      const row = [k, t];
      fn.processElement1(row, ctxOf(keys.stored(row)));
    },
    right: (k: string, u: number) => {
      for (const c of copiesOf(band)([k, u]) as Copy[]) fn.processElement2(c, ctxOf(keys.copied(c)));
    },
    advance(to: number) {
      watermark = to;
      for (const [slot, ts] of timers)
        for (const t of [...ts].sort((a, b) => a - b)) {
          if (t > to) break;
          ts.delete(t);
          fn.onTimer?.(t, ctxOf(slot));
        }
    },
  };
}

describe("the bucketed interval join, by hand", () => {
  it("joins what a nested loop joins, and keeps only the buckets the watermark has not passed", () => {
    const h = harness();
    const lefts: [string, number][] = [];
    const rights: [string, number][] = [];
    let most = 0;
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let t = 0; t < 20_000; t += 5) {
      // Rows come up to 50 ms out of order, above the watermark (t - 60).
      const k = `k${Math.floor(rand() * 40)}`;
      const lt = t + Math.floor(rand() * 50);
      h.left(k, lt);
      lefts.push([k, lt]);
      if (rand() < 0.3) {
        const ru = t + Math.floor(rand() * 50);
        h.right(k, ru);
        rights.push([k, ru]);
      }
      h.advance(t - 60);
      most = Math.max(most, h.stored());
    }
    const expected = lefts.flatMap(([k, t]) =>
      rights.filter(([k2, u]) => k === k2 && t >= u - 300 && t <= u + 200).map(([, u]) => [k, t, k, u]),
    );
    const sort = (rows: readonly Row[]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(expected.length).toBeGreaterThan(1000);
    expect(sort(h.emitted)).toEqual(sort(expected));
    // Buckets live about 400 ms past their start (100 ms wide, plus 300 for lo): some 40 keys' entries per bucket, never thousands.
    expect(most).toBeGreaterThan(40);
    expect(most).toBeLessThan(8 * 2 * 40);
    h.advance(Number.POSITIVE_INFINITY);
    expect(h.stored()).toBe(0);
    expect(h.timerCount()).toBe(0);
  });

  it("puts a pair's rows in one slot only, and keeps no row whose bucket the watermark has passed", () => {
    const h = harness();
    h.right("a", 1000); // copied to buckets 7..12 (700..1299 ms)
    expect(h.stored()).toBe(6);
    h.advance(bucketExpiry(h.band, 9)); // buckets 7..9 dropped
    expect(h.stored()).toBe(3);
    h.left("a", 950); // late, its bucket (9) is past: joins nothing stored there, and is not kept
    h.left("a", 1100); // bucket 11: joins the copy there
    expect(h.emitted).toEqual([["a", 1100, "a", 1000]]);
    expect(h.stored()).toBe(4);
  });
});
