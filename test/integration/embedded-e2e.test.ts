/**
 * End to end on the embedded runtime: a multi-task keyed job at parallelism > 1,
 * run clean and under injected faults (crashes before commit, after commit before
 * send, mid-send, lost containers, duplicated sends), must commit exactly what a
 * plain-JS oracle computes.
 */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { WatermarkStrategy } from "../../core/api/watermarks.ts";
import { TumblingEventTimeWindows } from "../../core/api/windows.ts";
import { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { seededRandom } from "../../core/ml/random.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { FaultyQueue, FaultyStore } from "../support/faults.ts";

interface Sale {
  id: number;
  user: string;
  region: string;
  cents: number;
}

type Row = { kind: "running" | "total"; user: string; n: number; cents?: number };

const N = 20_000;
function sale(i: number): Sale {
  const h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  return {
    id: i,
    user: `u${h % 97}`,
    region: ["eu", "us", "ap", "sa"][(h >>> 7) % 4] as string,
    cents: (h >>> 11) % 5000,
  };
}

/**
 * sales (×3) → filter → keyBy(user) running count + final totals (×2) ─┐
 * returns (×2) ─────────────────────────────────────────────────── union → keyBy(region) net sum (×3) → sink
 */
const job = defineJob("sales", (env) => {
  env.configure({ sourceBatchSize: 200, maxRecordsPerEnvelope: 100 });
  const sales = env
    .fromGenerator(sale, { count: N })
    .setParallelism(3)
    .filter((s) => s.cents > 0);
  const perUser: DataStream<Row> = sales
    .keyBy((s) => s.user)
    .process({
      state: { n: valueState<number>(), cents: valueState<number>() },
      processElement(s, ctx) {
        const n = (ctx.state.n.value() ?? 0) + 1;
        ctx.state.n.update(n);
        ctx.state.cents.update((ctx.state.cents.value() ?? 0) + s.cents);
        if (n === 1) ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
        ctx.emit({ kind: "running", user: ctx.key, n });
      },
      onTimer(_t, ctx) {
        ctx.emit({ kind: "total", user: ctx.key, n: ctx.state.n.value() ?? 0, cents: ctx.state.cents.value() ?? 0 });
      },
    });
  perUser.setParallelism(2);
  perUser.filter((r) => r.kind === "running").sinkTo("running");
  perUser.filter((r) => r.kind === "total").sinkTo("totals");

  const refunds = env
    .fromGenerator((i) => ({ region: ["eu", "us", "ap", "sa"][i % 4] as string, cents: -(i % 300) }), { count: 3000 })
    .setParallelism(2);
  sales
    .map((s) => ({ region: s.region, cents: s.cents }))
    .union(refunds)
    .keyBy((r) => r.region)
    .reduce((a, b) => ({ region: a.region, cents: a.cents + b.cents }))
    .setParallelism(3)
    .sinkTo("regions");
});

/** The oracle: the same computation as plain JavaScript. */
function oracle() {
  const sales = Array.from({ length: N }, (_, i) => sale(i)).filter((s) => s.cents > 0);
  const byUser = new Map<string, { n: number; cents: number }>();
  for (const s of sales) {
    const u = byUser.get(s.user) ?? { n: 0, cents: 0 };
    u.n++;
    u.cents += s.cents;
    byUser.set(s.user, u);
  }
  const running = [...byUser].flatMap(([user, { n }]) =>
    Array.from({ length: n }, (_, i) => ({ kind: "running", user, n: i + 1 })),
  );
  const totals = [...byUser].map(([user, t]) => ({ kind: "total", user, ...t }));
  const regions = new Map<string, number>();
  for (const s of sales) regions.set(s.region, (regions.get(s.region) ?? 0) + s.cents);
  for (let i = 0; i < 3000; i++) {
    const r = ["eu", "us", "ap", "sa"][i % 4] as string;
    regions.set(r, (regions.get(r) ?? 0) - (i % 300));
  }
  return { running, totals, finalRegions: Object.fromEntries(regions) };
}

const sortKey = (v: unknown) => JSON.stringify(v);
const sorted = (xs: readonly unknown[]) => [...xs].map(sortKey).sort();

/** Final value per region: the last running reduce output per region (order within a key is preserved). */
function lastPerRegion(rows: readonly unknown[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows as { region: string; cents: number }[]) out[r.region] = r.cents;
  return out;
}

describe("embedded end to end", () => {
  const expected = oracle();

  it("plans the job into several tasks of different parallelism", () => {
    const rt = new EmbeddedRuntime(job, { clock: new ManualClock() });
    expect(rt.plan.tasks.length).toBeGreaterThanOrEqual(4);
    expect(rt.plan.tasks.some((t) => t.keyed && t.parallelism === 2)).toBe(true);
    expect(rt.plan.tasks.some((t) => t.keyed && t.parallelism === 3)).toBe(true);
  });

  it("commits exactly the oracle's output on a clean run", async () => {
    const out = await runToCompletion(job, { clock: new ManualClock() });
    expect(sorted(out.get("running") ?? [])).toEqual(sorted(expected.running));
    expect(sorted(out.get("totals") ?? [])).toEqual(sorted(expected.totals));
    expect(out.get("regions")?.length).toBe(expected.running.length + 3000);
    expect(lastPerRegion(out.get("regions") ?? [])).toEqual(expected.finalRegions);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`commits exactly the oracle's output under injected faults (seed ${seed})`, async () => {
      const rng = seededRandom(seed);
      const clock = new ManualClock();
      const queue = new FaultyQueue(new InMemoryQueue(clock, { maxReceiveCount: 50 }));
      const store = new FaultyStore(new InMemoryStateStore());
      const faults = { crashes: 0, commitCrashes: 0, sendCrashes: 0, beforeCommit: 0 };
      const out = await runToCompletion(job, {
        clock,
        queue,
        store,
        beforeBatch: (runner) => {
          const x = rng();
          queue.duplicate = rng() < 0.1;
          if (x < 0.05) {
            runner.crash();
            faults.crashes++;
          } else if (x < 0.1) {
            store.crashAfterAppend = true;
            faults.commitCrashes++;
          } else if (x < 0.15) {
            queue.crashSendAfter = Math.floor(rng() * 3);
            faults.sendCrashes++;
          } else if (x < 0.2) {
            store.crashBeforeAppend = true;
            faults.beforeCommit++;
          }
        },
        simulation: {
          // Faults armed for a container's batch do not outlive it (the runtime's own sends stay clean).
          wrapBatch: async (_runner, _messages, run) => {
            try {
              return await run();
            } finally {
              queue.disarm();
              store.disarm();
            }
          },
        },
      });
      // Each kind of fault happened, many times.
      expect(Math.min(faults.crashes, faults.commitCrashes, faults.sendCrashes, faults.beforeCommit)).toBeGreaterThan(
        3,
      );
      expect(sorted(out.get("running") ?? [])).toEqual(sorted(expected.running));
      expect(sorted(out.get("totals") ?? [])).toEqual(sorted(expected.totals));
      expect(out.get("regions")?.length).toBe(expected.running.length + 3000);
      expect(lastPerRegion(out.get("regions") ?? [])).toEqual(expected.finalRegions);
    });
  }

  it("dead-letters a poison record, keeps going, and reports it", async () => {
    const poisoned = defineJob("poisoned", (env) => {
      env.setRecordFailureStrategy("dead-letter");
      env
        .fromGenerator((i) => i, { count: 1000 })
        .setParallelism(2)
        .map((i) => {
          if (i === 321) throw new Error("cannot handle 321");
          return { k: i % 10, v: i };
        })
        .keyBy((r) => r.k)
        .sum("v")
        .setParallelism(2)
        .sinkTo("sums");
    });
    const sums: { k: number; v: number }[] = [];
    const rt = new EmbeddedRuntime(poisoned, {
      clock: new ManualClock(),
      onOutput: (_s, values) => sums.push(...(values as { k: number; v: number }[])),
    });
    await rt.run();
    expect(rt.finished).toBe(true);
    expect(rt.deadLetters).toEqual([
      expect.objectContaining({ operator: "map-1", value: 321, error: "cannot handle 321", attempts: 3 }),
    ]);
    const expectedFinal = new Map<number, number>();
    for (let i = 0; i < 1000; i++) if (i !== 321) expectedFinal.set(i % 10, (expectedFinal.get(i % 10) ?? 0) + i);
    const final = new Map<number, number>();
    for (const r of sums) final.set(r.k, Math.max(final.get(r.k) ?? 0, r.v));
    expect(sums.length).toBe(999);
    expect(final).toEqual(expectedFinal);
  });
});

describe("failure handling", () => {
  it("by default (restart, as in Flink), a record that keeps failing fails the job over, then fails the job", async () => {
    const attempts: number[] = [];
    const failing = defineJob("restarting", (env) => {
      env.setRestartStrategy({ attempts: 2, delayMs: 10 }); // no record failure strategy: the default
      env
        .fromGenerator((i) => i, { count: 100 })
        .map((i) => {
          if (i === 42) {
            attempts.push(i);
            throw new Error("42 is cursed");
          }
          return i;
        })
        .sinkTo("out");
    });
    const events: string[] = [];
    const rt = new EmbeddedRuntime(failing, { clock: new ManualClock(), onCheckpoint: (e) => events.push(e.kind) });
    await expect(rt.run()).rejects.toThrow(/job 'restarting' failed after 2 restarts: .* 42 is cursed/);
    expect(rt.restarts).toBe(2);
    expect(events.filter((e) => e === "failover")).toHaveLength(2);
    expect(attempts.length).toBe(9); // 3 attempts in each of 3 generations; never dead-lettered
    expect(rt.deadLetters).toEqual([]);
  });

  it("notifies keyed process functions of completed checkpoints", async () => {
    const seen: number[] = [];
    const notified = defineJob("notified", (env) => {
      env
        .fromGenerator((i) => i, { count: 50 })
        .keyBy((i) => i % 2)
        .process({
          processElement() {},
          notifyCheckpointComplete(id) {
            seen.push(id);
          },
        })
        .sinkTo("none");
    });
    const rt = new EmbeddedRuntime(notified, { clock: new ManualClock() });
    await rt.run();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(rt.lastCheckpoint?.id);
  });
});

describe("routing and reading regressions", () => {
  it("a forward edge that is not chained carries its signals on its own channel only (fan-out and union at parallelism 2)", async () => {
    const fanout = defineJob("fanout", (env) => {
      const s = env.fromGenerator((i) => i, { count: 8 }).setParallelism(2);
      s.map((x) => x * 10)
        .union(s.map((x) => x + 1))
        .sinkTo("result");
    });
    const out = await runToCompletion(fanout, { clock: new ManualClock(), parallelism: 2 });
    expect((out.get("result") as number[]).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 30, 40, 50, 60, 70,
    ]);
  });

  it("splits of a source advance together, so a tight watermark bound drops nothing", async () => {
    const N = 20_000;
    const counted = defineJob("fair", (env) => {
      env
        .fromGenerator((i) => i, { count: N, splits: 16 })
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forBoundedOutOfOrderness<number>(2000).withTimestampAssigner((i) => i),
        )
        .keyBy(() => 0)
        .window(TumblingEventTimeWindows.of(1000))
        .aggregate({ createAccumulator: () => 0, add: (_i, n: number) => n + 1, getResult: (n) => n })
        .sinkTo("counts");
    });
    const out = await runToCompletion(counted, { clock: new ManualClock(), parallelism: 1 });
    expect((out.get("counts") as number[]).reduce((a, b) => a + b, 0)).toBe(N);
  });
});
