/**
 * Forked chains: a source read by two forward branches runs them in its own task (one
 * task, where an earlier planner made three), every branch sees every record, watermark
 * and end of input, and both branches feed one two-input keyed task on their own
 * channels. A run stored with the earlier task layout is refused on resume, naming the
 * operators that now run chained; a savepoint of it restores, with the same output.
 */
import { describe, expect, it } from "vitest";
import { defineJob, type Job } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { WatermarkStrategy } from "../../core/api/watermarks.ts";
import { describePlan } from "../../core/graph/describe.ts";
import { inputChannels } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { multisetDiff } from "../sim/scenarios.ts";

const N = 4000;
type Event = { user: string; amount: number; t: number };
const event = (i: number): Event => ({ user: `u${(i * 7919) % 17}`, amount: i % 100, t: i * 10 });

/** The highest finite watermark the join saw while records came in (the minimum over its channels from both branches). */
let joinWatermark = Number.NEGATIVE_INFINITY;

/**
 * Evens and odds of one source, joined per user in a keyed co-process. `split` gives the
 * branches' maps their own parallelism, so they cannot chain (as the earlier planner laid them out).
 */
function job(split = false): Job {
  return defineJob("forked", (env) => {
    env.setParallelism(2);
    env.configure({ sourceBatchSize: 50 });
    env.enableCheckpointing(10);
    const events = env
      .fromGenerator(event, { count: N, splits: 4 })
      .uid("events")
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((e) => e.t),
      )
      .uid("times");
    const evens = events
      .filter((e) => e.amount % 2 === 0)
      .uid("evens")
      .map((e) => ({ user: e.user, even: e.amount }))
      .uid("even-rows");
    const odds = events
      .filter((e) => e.amount % 2 === 1)
      .uid("odds")
      .map((e) => ({ user: e.user, odd: e.amount }))
      .uid("odd-rows");
    if (split) {
      evens.setParallelism(3);
      odds.setParallelism(3);
    }
    evens
      .connect(odds)
      .keyBy(
        (e) => e.user,
        (o) => o.user,
      )
      .process({
        state: { even: valueState<number>(), odd: valueState<number>(), timer: valueState<boolean>() },
        processElement1(e, ctx) {
          ctx.state.even.update((ctx.state.even.value() ?? 0) + e.even);
          if (!ctx.state.timer.value()) ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
          ctx.state.timer.update(true);
        },
        processElement2(o, ctx) {
          ctx.state.odd.update((ctx.state.odd.value() ?? 0) + o.odd);
          const w = ctx.timers.currentWatermark();
          if (w < Number.MAX_SAFE_INTEGER) joinWatermark = Math.max(joinWatermark, w);
          if (!ctx.state.timer.value()) ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
          ctx.state.timer.update(true);
          ctx.emit({ user: ctx.key, odd: o.odd });
        },
        onTimer(_t, ctx) {
          ctx.emit({ user: ctx.key, even: ctx.state.even.value() ?? 0, odd: ctx.state.odd.value() ?? 0 });
        },
      })
      .uid("joined")
      .sinkTo("rows");
    // A third branch straight to a sink: it sees every record and the end of input too.
    events
      .map((e) => e.amount)
      .uid("amounts")
      .sinkTo("amounts");
  });
}

/** Totals per user, computed directly. */
function expectedTotals(): Map<string, { even: number; odd: number }> {
  const m = new Map<string, { even: number; odd: number }>();
  for (let i = 0; i < N; i++) {
    const e = event(i);
    const t = m.get(e.user) ?? { even: 0, odd: 0 };
    if (e.amount % 2 === 0) t.even += e.amount;
    else t.odd += e.amount;
    m.set(e.user, t);
  }
  return m;
}

describe("forked chains", () => {
  it("plans the source and its three branches as one task, each branch on its own channel into the join", () => {
    const plan = new EmbeddedRuntime(job(), { clock: new ManualClock() }).plan;
    expect(plan.tasks.map((t) => t.id)).toEqual(["events", "joined"]);
    const source = plan.tasks[0];
    expect(source?.outputs.map((o) => [o.sender, o.partitioner])).toEqual([
      ["events/even-rows", "hash"],
      ["events/odd-rows", "hash"],
    ]);
    const joined = plan.tasks[1];
    expect(joined && inputChannels(plan, joined, 0).map((c) => c.id)).toEqual([
      "events/even-rows#0",
      "events/even-rows#1",
      "events/odd-rows#0",
      "events/odd-rows#1",
    ]);
    expect(describePlan(plan)).toContain("    map [odd-rows] ← odds");
    expect(new EmbeddedRuntime(job(true), { clock: new ManualClock() }).plan.tasks.map((t) => t.id)).toEqual([
      "events",
      "even-rows",
      "odd-rows",
      "joined",
    ]);
  });

  it("every branch gets every record, the watermarks (timers fire at the end) and end of input", async () => {
    for (const parallelism of [1, 2]) {
      joinWatermark = Number.NEGATIVE_INFINITY;
      const out = await runToCompletion(job(), { clock: new ManualClock(), parallelism });
      expect(joinWatermark).toBeGreaterThan(0); // watermarks came down both branches before the end
      expect((out.get("amounts") ?? []).length).toBe(N);
      const finals = (out.get("rows") ?? []).filter((r) => (r as { even?: number }).even !== undefined);
      const want = [...expectedTotals()].map(([user, t]) => ({ user, ...t }));
      expect(multisetDiff(`finals at ${parallelism}`, finals, want)).toEqual([]);
      const split = await runToCompletion(job(true), { clock: new ManualClock(), parallelism });
      expect(
        multisetDiff(`forked vs split at ${parallelism}`, [...out.values()].flat(), [...split.values()].flat()),
      ).toEqual([]);
    }
  });

  it("refuses to resume a run stored with the earlier layout, naming the operators that now run chained", async () => {
    const state = new InMemoryStateStore({ copy: true });
    const checkpoints = new InMemoryCheckpointStore();
    const clock = new ManualClock();
    const stop = new AbortController();
    let seen = 0;
    await new EmbeddedRuntime(job(true), {
      clock,
      store: state,
      checkpoints,
      batchTimeMs: 1,
      signal: stop.signal,
      onOutput: (_s, values) => {
        seen += values.length;
        if (seen > N / 4) stop.abort();
      },
    }).run();
    const resume = new EmbeddedRuntime(job(), { clock, store: state, checkpoints });
    await expect(resume.run()).rejects.toThrow(
      "job 'forked' cannot resume from its last run: the job's tasks changed: operator 'even-rows' now runs chained in task 'events', 'odd-rows' now runs chained in task 'events'",
    );
  });

  it("restores a savepoint of the earlier layout: the gone tasks were stateless, the output is unchanged", async () => {
    const reference = await runToCompletion(job(), { clock: new ManualClock() });
    const state = new InMemoryStateStore({ copy: true });
    const checkpoints = new InMemoryCheckpointStore();
    const clock = new ManualClock();
    const stop = new AbortController();
    const out = new Map<string, unknown[]>();
    const collect = (sink: string, values: readonly unknown[]) => out.set(sink, [...(out.get(sink) ?? []), ...values]);
    const first = new EmbeddedRuntime(job(true), {
      clock,
      store: state,
      checkpoints,
      batchTimeMs: 1,
      signal: stop.signal,
      stopWithSavepoint: "old-layout",
      onOutput: (sink, values) => {
        collect(sink, values);
        if ((out.get("amounts")?.length ?? 0) > N / 2) stop.abort();
      },
    });
    await first.run();
    expect(first.finished).toBe(false);
    const second = new EmbeddedRuntime(job(), {
      clock,
      store: state,
      checkpoints,
      fromSavepoint: "old-layout",
      onOutput: collect,
    });
    expect(second.plan.tasks.length).toBe(2);
    await second.run();
    expect(second.finished).toBe(true);
    for (const sink of ["rows", "amounts"]) {
      expect(multisetDiff(sink, out.get(sink) ?? [], reference.get(sink) ?? [])).toEqual([]);
    }
  });
});
