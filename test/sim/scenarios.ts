/**
 * Jobs the simulation runs, each with an oracle: what its committed output must be
 * in every run, failures or not, as plain JavaScript.
 */
import type { DataStream } from "../../core/api/datastream.ts";
import { defineJob, type Job } from "../../core/api/environment.ts";
import type { Source, SourceContext } from "../../core/api/source.ts";
import { valueState } from "../../core/api/state.ts";
import type { RemoteInvoker } from "../../core/remote/invoker.ts";
import { RemoteDataStream } from "../../core/remote/remote-stream.ts";
import { answerMap } from "../support/wire-functions.ts";

/** A job under simulation and the check of its committed output. */
export interface Scenario {
  readonly name: string;
  readonly job: Job;
  /** Returns the differences between the committed output and the oracle (empty: equal). */
  check(output: ReadonlyMap<string, readonly unknown[]>): string[];
}

interface Order {
  id: number;
  user: string;
  cents: number;
}
const order = (i: number): Order => {
  const h = Math.imul(i + 7, 0x9e3779b1) >>> 0;
  return { id: i, user: `u${h % 13}`, cents: 1 + ((h >>> 9) % 997) };
};

/** Compares two multisets of JSON-serializable values; reports the first few differences. */
export function multisetDiff(label: string, actual: readonly unknown[], expected: readonly unknown[]): string[] {
  const count = (xs: readonly unknown[]) => {
    const m = new Map<string, number>();
    for (const x of xs) {
      const k = JSON.stringify(x);
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  };
  const a = count(actual);
  const e = count(expected);
  const out: string[] = [];
  for (const [k, n] of e) if ((a.get(k) ?? 0) !== n) out.push(`${label}: expected ${n}× ${k}, got ${a.get(k) ?? 0}`);
  for (const [k, n] of a) if (!e.has(k)) out.push(`${label}: unexpected ${n}× ${k}`);
  return out.slice(0, 5);
}

/**
 * orders (×2) → map: stamp a random shard and the processing clock (non-deterministic)
 * → keyBy(shard) count per shard (×3) → keyBy(user) running count + final total (×2).
 */
function shardedTotals(n: number): Scenario {
  type Stamped = Order & { shard: number; seenAt: number };
  type Row = { kind: "running" | "total"; user: string; n: number; cents: number };
  const job = defineJob("sim-sharded", (env) => {
    env.configure({ sourceBatchSize: 37, maxRecordsPerEnvelope: 16 });
    env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
    const stamped: DataStream<Stamped> = env
      .fromGenerator(order, { count: n, splits: 4 })
      .setParallelism(2)
      .map((o) => ({ ...o, shard: Math.floor(Math.random() * 4), seenAt: Date.now() }));
    const perShard: DataStream<Stamped> = stamped
      .keyBy((o) => o.shard)
      .process({
        state: { seen: valueState<number>() },
        processElement(o, ctx) {
          ctx.state.seen.update((ctx.state.seen.value() ?? 0) + 1);
          ctx.emit(o);
        },
      });
    perShard.setParallelism(3);
    const rows: DataStream<Row> = perShard
      .keyBy((o) => o.user)
      .process({
        state: { n: valueState<number>(), cents: valueState<number>() },
        processElement(o, ctx) {
          const count = (ctx.state.n.value() ?? 0) + 1;
          const cents = (ctx.state.cents.value() ?? 0) + o.cents;
          ctx.state.n.update(count);
          ctx.state.cents.update(cents);
          if (count === 1) ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
          ctx.emit({ kind: "running", user: ctx.key, n: count, cents: 0 });
        },
        onTimer(_t, ctx) {
          ctx.emit({ kind: "total", user: ctx.key, n: ctx.state.n.value() ?? 0, cents: ctx.state.cents.value() ?? 0 });
        },
      });
    rows.setParallelism(2).sinkTo("rows");
  });
  const totals = new Map<string, { n: number; cents: number }>();
  for (let i = 0; i < n; i++) {
    const o = order(i);
    const t = totals.get(o.user) ?? { n: 0, cents: 0 };
    t.n++;
    t.cents += o.cents;
    totals.set(o.user, t);
  }
  const expected: unknown[] = [];
  for (const [user, t] of totals) {
    for (let k = 1; k <= t.n; k++) expected.push({ kind: "running", user, n: k, cents: 0 });
    expected.push({ kind: "total", user, n: t.n, cents: t.cents });
  }
  return {
    name: "sharded-totals",
    job,
    check: (out) => multisetDiff("rows", out.get("rows") ?? [], expected),
  };
}

/** Two sources (×2 and ×1) → union → keyBy(key) → rolling sum (×3). */
function unionSums(n: number): Scenario {
  type R = { k: string; v: number };
  const a = (i: number): R => ({ k: `k${i % 5}`, v: i });
  const b = (i: number): R => ({ k: `k${(i * 3) % 5}`, v: 1000 + i });
  const job = defineJob("sim-union", (env) => {
    env.configure({ sourceBatchSize: 23, maxRecordsPerEnvelope: 8 });
    env.enableCheckpointing(4).setRestartStrategy({ attempts: 50, delayMs: 5 });
    const left = env.fromGenerator(a, { count: n, splits: 3 }).setParallelism(2);
    const right = env.fromGenerator(b, { count: Math.floor(n / 2), splits: 2 }).setParallelism(1);
    left
      .union(right)
      .keyBy((r) => r.k)
      .sum("v")
      .setParallelism(3)
      .sinkTo("sums");
  });
  const finals = new Map<string, number>();
  const counts = new Map<string, number>();
  const add = (r: R) => {
    finals.set(r.k, (finals.get(r.k) ?? 0) + r.v);
    counts.set(r.k, (counts.get(r.k) ?? 0) + 1);
  };
  for (let i = 0; i < n; i++) add(a(i));
  for (let i = 0; i < Math.floor(n / 2); i++) add(b(i));
  return { name: "union-sums", job, check: (out) => rollingSumDiffs((out.get("sums") ?? []) as R[], counts, finals) };
}

/** What a rolling sum per key emitted, against the count of records and the final sum of each key. */
function rollingSumDiffs(
  rows: readonly { k: string; v: number }[],
  counts: ReadonlyMap<string, number>,
  finals: ReadonlyMap<string, number>,
): string[] {
  const gotCounts = new Map<string, number>();
  const gotMax = new Map<string, number>();
  for (const r of rows) {
    gotCounts.set(r.k, (gotCounts.get(r.k) ?? 0) + 1);
    gotMax.set(r.k, Math.max(gotMax.get(r.k) ?? 0, r.v));
  }
  const diffs: string[] = [];
  for (const [k, c] of counts)
    if (gotCounts.get(k) !== c) diffs.push(`sums: ${k} has ${gotCounts.get(k) ?? 0} outputs, expected ${c}`);
  for (const [k, v] of finals)
    if (gotMax.get(k) !== v) diffs.push(`sums: ${k} ends at ${gotMax.get(k)}, expected ${v}`);
  if (gotCounts.size !== counts.size) diffs.push(`sums: ${gotCounts.size} keys, expected ${counts.size}`);
  return diffs;
}

/**
 * One source (×2) forked in its own task: multiples of 4 and odds (mapped) → union of the two
 * branches → keyBy → rolling sum (×3), and a third branch counted into a sink. The
 * union reads two channels of one upstream task (one per branch).
 */
function forkedSums(n: number): Scenario {
  type R = { k: string; v: number };
  const a = (i: number): R => ({ k: `k${(i * 7) % 6}`, v: i });
  const job = defineJob("sim-fork", (env) => {
    // Branches of unequal volume, so their channels into the union number their envelopes apart.
    env.configure({ sourceBatchSize: 19, maxRecordsPerEnvelope: 2 });
    env.enableCheckpointing(4).setRestartStrategy({ attempts: 50, delayMs: 5 });
    env.setParallelism(2);
    const src = env.fromGenerator(a, { count: n, splits: 3 });
    const evens = src.filter((r) => r.v % 4 === 0);
    const odds = src.filter((r) => r.v % 2 === 1).map((r) => ({ k: r.k, v: r.v + 1000 }));
    evens
      .union(odds)
      .keyBy((r) => r.k)
      .sum("v")
      .setParallelism(3)
      .sinkTo("sums");
    src.map((r) => r.v).sinkTo("all");
  });
  const finals = new Map<string, number>();
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = a(i);
    if (r.v % 4 === 2) continue;
    finals.set(r.k, (finals.get(r.k) ?? 0) + r.v + (r.v % 2 === 1 ? 1000 : 0));
    counts.set(r.k, (counts.get(r.k) ?? 0) + 1);
  }
  const all = Array.from({ length: n }, (_, i) => i);
  return {
    name: "forked-sums",
    job,
    check: (out) => [
      ...rollingSumDiffs((out.get("sums") ?? []) as R[], counts, finals),
      ...multisetDiff("all", out.get("all") ?? [], all),
    ],
  };
}

/**
 * An unbounded source of `n` records per split that arrive over processing time:
 * record i of a split is there from time `2 i`. A read returns what is there and says
 * `idle` when it reached the end of it (as an ingest split does after a short read),
 * with `wakeAt` the next arrival, so partitions park after records and are woken by
 * their timers (the inline poll of `source-wake.ts`) all through the run.
 */
function trickle(n: number, splits: number, idle: { reads: number }): Source<{ k: string; v: number }> {
  return {
    name: "trickle",
    bounded: false,
    splits: () => Array.from({ length: splits }, (_, i) => ({ id: String(i) })),
    reader: (split, position, context?: SourceContext) => {
      let at = typeof position === "number" ? position : 0;
      return {
        read(max) {
          if (at >= n) return { records: [], position: at, done: true };
          const now = context?.currentProcessingTime?.() ?? Number.POSITIVE_INFINITY;
          const there = Math.min(n, Math.floor(now / 2) + 1);
          const to = Math.min(there, at + max);
          const records = Array.from({ length: Math.max(0, to - at) }, (_, j) => ({
            k: `k${(at + j + Number(split.id)) % 7}`,
            v: Number(split.id) * n + at + j,
          }));
          at = Math.max(at, to);
          if (at >= n) return { records, position: at, done: true };
          if (to >= there) idle.reads++;
          return { records, position: at, done: false, ...(to >= there ? { idle: true, wakeAt: 2 * there } : {}) };
        },
      };
    },
  };
}

/** A trickling source (×2, 3 splits) → keyBy(k) → running count and sum (×2). */
function trickleCounts(n: number): Scenario {
  type R = { k: string; v: number };
  const idle = { reads: 0 };
  const job = defineJob("sim-trickle", (env) => {
    env.configure({ sourceBatchSize: 11, maxRecordsPerEnvelope: 4 });
    env.enableCheckpointing(6).setRestartStrategy({ attempts: 50, delayMs: 5 });
    env
      .fromSource(trickle(n, 3, idle))
      .setParallelism(2)
      .keyBy((r) => r.k)
      .process({
        state: { n: valueState<number>() },
        processElement(_r: R, ctx) {
          const count = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(count);
          ctx.emit({ k: ctx.key, n: count });
        },
      })
      .setParallelism(2)
      .sinkTo("counts");
  });
  const per = new Map<string, number>();
  for (let s = 0; s < 3; s++)
    for (let i = 0; i < n; i++) per.set(`k${(i + s) % 7}`, (per.get(`k${(i + s) % 7}`) ?? 0) + 1);
  const expected: unknown[] = [];
  for (const [k, c] of per) for (let i = 1; i <= c; i++) expected.push({ k, n: i });
  return {
    name: "trickle-counts",
    job,
    check: (out) => {
      // The run must have parked: a source that never caught up would not test the wake-ups.
      const parked = idle.reads > 0 ? [] : ["trickle: no read caught up with the input, so no partition parked"];
      idle.reads = 0;
      return [...multisetDiff("counts", out.get("counts") ?? [], expected), ...parked];
    },
  };
}

/**
 * orders (×2) → a stateless remote map (×2; the function answered in process through
 * the JSON wire, batches of 7, 2 in flight) → keyBy(user) running count and cents (×2).
 * Under the simulation the remote task runs in turn like any other (embedded it runs
 * its batches beside the rounds, core/runtime/round.ts).
 */
function remoteTotals(n: number): Scenario {
  type Priced = { user: string; cents: number };
  const fn: RemoteInvoker = {
    target: "in-process",
    invoke: async (body) => answerMap(body, (o) => ({ user: (o as Order).user, cents: 2 * (o as Order).cents })),
  };
  const job = defineJob("sim-remote", (env) => {
    env.configure({ sourceBatchSize: 19, maxRecordsPerEnvelope: 6 });
    env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
    const orders = env.fromGenerator(order, { count: n, splits: 3 }).setParallelism(2);
    RemoteDataStream.map<Order, Priced>(orders, { name: "price", target: fn, batchSize: 7, concurrency: 2 })
      .setParallelism(2)
      .keyBy((p) => p.user)
      .process({
        state: { n: valueState<number>(), cents: valueState<number>() },
        processElement(p: Priced, ctx) {
          const count = (ctx.state.n.value() ?? 0) + 1;
          const cents = (ctx.state.cents.value() ?? 0) + p.cents;
          ctx.state.n.update(count);
          ctx.state.cents.update(cents);
          ctx.emit({ user: ctx.key, n: count, cents });
        },
      })
      .setParallelism(2)
      .sinkTo("priced");
  });
  const per = new Map<string, { n: number; cents: number }>();
  for (let i = 0; i < n; i++) {
    const o = order(i);
    const t = per.get(o.user) ?? { n: 0, cents: 0 };
    per.set(o.user, { n: t.n + 1, cents: t.cents + 2 * o.cents });
  }
  return {
    name: "remote-totals",
    job,
    check: (out) => {
      // Per user, the outputs count 1..n once each and the last carries the total.
      const rows = (out.get("priced") ?? []) as { user: string; n: number; cents: number }[];
      const diffs: string[] = [];
      for (const [user, t] of per) {
        const mine = rows.filter((r) => r.user === user).sort((a, b) => a.n - b.n);
        if (mine.length !== t.n || mine.some((r, i) => r.n !== i + 1))
          diffs.push(`priced: ${user} has counts ${mine.map((r) => r.n).join(",")}, expected 1..${t.n}`);
        else if (mine[mine.length - 1]?.cents !== t.cents)
          diffs.push(`priced: ${user} ends at ${mine[mine.length - 1]?.cents} cents, expected ${t.cents}`);
      }
      if (rows.some((r) => !per.has(r.user))) diffs.push("priced: a user the input does not have");
      return diffs.slice(0, 5);
    },
  };
}

/** The scenarios, sized for a quick seed. */
export const scenarios = (records = 400): Scenario[] => [
  shardedTotals(records),
  unionSums(records),
  forkedSums(records),
  trickleCounts(Math.floor(records / 4)),
  remoteTotals(records),
];
