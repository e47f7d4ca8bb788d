/**
 * Implied event-time timers (`impliedTimers`): a keyed function whose state implies its timer
 * (a count per user and 100 ms window, emitted at the window's end) writes no timer, and still
 * emits every window once under injected faults, after a savepoint restored at another
 * parallelism, and at the end of input: a brute-force count is the oracle.
 */
import { describe, expect, it } from "vitest";
import { defineJob, type Job } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { WatermarkStrategy } from "../../core/api/watermarks.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import type { Segment } from "../../core/ports/state-store.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { multisetDiff } from "../sim/scenarios.ts";
import { simulate } from "../sim/simulate.ts";

const N = 3000;
const SIZE = 100;
type Ev = { user: string; t: number };
type Count = { user: string; start: number; n: number };
const event = (i: number): Ev => ({ user: `u${(i * 7919) % 5}`, t: i * 7 });
const windowOf = (t: number) => t - (t % SIZE);

/** Counts per user and window, emitted when the watermark passes the window's end (the timer the count implies). */
function windowCounts(name = "implied"): Job {
  return defineJob(name, (env) => {
    env.configure({ sourceBatchSize: 50, maxRecordsPerEnvelope: 32 });
    env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
    env
      .fromGenerator(event, { count: N, splits: 2 })
      .uid("events")
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forBoundedOutOfOrderness<Ev>(20).withTimestampAssigner((e) => e.t),
      )
      .keyBy((e): [string, number] => [e.user, windowOf(e.t)])
      .process<Count, { n: ReturnType<typeof valueState<number>> }>({
        state: { n: valueState<number>() },
        impliedTimers: { state: "n", at: (key) => (key[1] as number) + SIZE - 1 },
        processElement(_e, ctx) {
          const at = ctx.key[1] + SIZE - 1;
          if (at <= ctx.timers.currentWatermark()) return; // late: its window was emitted
          const n = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(n);
          if (n === 1) ctx.timers.registerEventTimeTimer(at);
        },
        onTimer(_t, ctx) {
          ctx.emit({ user: ctx.key[0], start: ctx.key[1], n: ctx.state.n.value() ?? 0 });
          ctx.state.n.clear();
        },
      })
      .uid("counter")
      .sinkTo("counts");
  });
}

const expected: Count[] = (() => {
  const m = new Map<string, Count>();
  for (let i = 0; i < N; i++) {
    const e = event(i);
    const k = `${e.user}/${windowOf(e.t)}`;
    const c = m.get(k) ?? { user: e.user, start: windowOf(e.t), n: 0 };
    m.set(k, { ...c, n: c.n + 1 });
  }
  return [...m.values()];
})();

describe("implied event-time timers", () => {
  it("emit every window once at parallelism 3, and no timer is ever written", async () => {
    const written = new Set<string>();
    const store = new InMemoryStateStore();
    const append = store.append.bind(store);
    store.append = (task: string, partition: number, segment: Segment) => {
      for (const c of segment.changes) written.add(c.s);
      return append(task, partition, segment);
    };
    const out = await runToCompletion(windowCounts(), { clock: new ManualClock(), parallelism: 3, store });
    expect(multisetDiff("implied", out.get("counts") ?? [], expected)).toEqual([]);
    expect(written).toContain("counter/n");
    expect([...written].filter((s) => s.startsWith("counter/"))).toEqual(["counter/n"]);
  });

  it("emit every window once under injected faults (crashes, duplicates, failovers)", async () => {
    for (const seed of [1, 2]) {
      const r = await simulate(
        {
          name: "implied",
          job: windowCounts(),
          check: (o) => multisetDiff("implied", o.get("counts") ?? [], expected),
        },
        seed,
      );
      expect(r.diffs).toEqual([]);
      expect(r.faults.crashBeforeCommit + r.faults.crashAfterCommit + r.faults.failovers).toBeGreaterThan(0);
    }
  });

  it("are set again after a savepoint restored at another parallelism: the open windows still emit", async () => {
    const opts = { store: new InMemoryStateStore({ copy: true }), checkpoints: new InMemoryCheckpointStore() };
    const out: Count[] = [];
    const stop = new AbortController();
    const first = new EmbeddedRuntime(windowCounts(), {
      ...opts,
      clock: new ManualClock(),
      parallelism: 2,
      batchTimeMs: 1,
      signal: stop.signal,
      stopWithSavepoint: "middle",
      onOutput: (_s, values) => {
        out.push(...(values as Count[]));
        if (out.length > expected.length / 3) stop.abort();
      },
    });
    await first.run();
    expect(first.finished).toBe(false);
    expect(out.length).toBeLessThan(expected.length);
    const second = new EmbeddedRuntime(windowCounts(), {
      ...opts,
      clock: new ManualClock(),
      parallelism: 3,
      fromSavepoint: "middle",
      onOutput: (_s, values) => void out.push(...(values as Count[])),
    });
    await second.run();
    expect(second.finished).toBe(true);
    expect(multisetDiff("restored", out, expected)).toEqual([]);
  });
});
