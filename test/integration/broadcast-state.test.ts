/**
 * The broadcast state pattern end to end on the embedded runtime: rules broadcast
 * to a keyed stream at parallelism 2, under injected faults, and restored from a
 * savepoint at parallelism 3 (the new partition gets a copy of the broadcast state).
 * Committed output must equal a plain-JS oracle.
 */
import { describe, expect, it } from "vitest";
import { MapStateDescriptor } from "../../core/api/broadcast.ts";
import { defineJob, type Job } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { runWithFaults } from "../support/embedded-faults.ts";

type Event = { user: string; kind: string; amount: number };
/** A rule sets (or, with weight 0, removes) the weight of a kind; later rules replace earlier ones (one split: in order). */
type Rule = { id: number; kind: string; weight: number };
type Out = { seen: number } | { user: string; score: number };

const N = 6000;
const R = 60;
const KINDS = 12;
const event = (i: number): Event => {
  const h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  return { user: `u${h % 53}`, kind: `k${(h >>> 8) % KINDS}`, amount: (h >>> 13) % 100 };
};
const rule = (i: number): Rule => ({ id: i, kind: `k${(i * 7) % KINDS}`, weight: i % 5 });

const weights = new MapStateDescriptor<string, number>("weights");

/** events (×2) keyBy user, connected with rules (×1) broadcast, keyed broadcast process (×`parallelism`). */
function job(parallelism: number, eventBatch = 200): Job {
  return defineJob("rules", (env) => {
    env.configure({ sourceBatchSize: eventBatch, maxRecordsPerEnvelope: 100 });
    env.enableCheckpointing(10);
    const events = env.fromGenerator(event, { count: N }).uid("events").setParallelism(2);
    const rules = env.fromGenerator(rule, { count: R, splits: 1 }).uid("rules").setParallelism(1);
    events
      .keyBy((e) => e.user)
      .connect(rules.broadcast(weights))
      .process<Out, { amounts: ReturnType<typeof valueState<Record<string, number>>> }>({
        state: { amounts: valueState<Record<string, number>>() },
        processElement(e, ctx) {
          const amounts = ctx.state.amounts.value() ?? {};
          if (Object.keys(amounts).length === 0) ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
          ctx.state.amounts.update({ ...amounts, [e.kind]: (amounts[e.kind] ?? 0) + e.amount });
        },
        processBroadcastElement(r, ctx) {
          const state = ctx.getBroadcastState(weights);
          if (r.weight === 0) state.remove(r.kind);
          else state.put(r.kind, r.weight);
          ctx.emit({ seen: r.id });
        },
        // At the end of both inputs: the broadcast state holds every rule, whatever the arrival order.
        onTimer(_t, ctx) {
          const state = ctx.getBroadcastState(weights);
          let score = 0;
          for (const [kind, amount] of Object.entries(ctx.state.amounts.value() ?? {})) {
            score += amount * (state.get(kind) ?? 0);
          }
          ctx.emit({ user: ctx.key, score });
        },
      })
      .uid("score")
      .setParallelism(parallelism)
      .sinkTo("out");
  });
}

function oracle(): { user: string; score: number }[] {
  const w = new Map<string, number>();
  for (let i = 0; i < R; i++) {
    const r = rule(i);
    if (r.weight === 0) w.delete(r.kind);
    else w.set(r.kind, r.weight);
  }
  const scores = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const e = event(i);
    scores.set(e.user, (scores.get(e.user) ?? 0) + e.amount * (w.get(e.kind) ?? 0));
  }
  return [...scores].map(([user, score]) => ({ user, score }));
}

const sorted = (xs: readonly unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
const scores = (out: readonly Out[]) => out.filter((o) => "user" in o);
const seen = (out: readonly Out[]) => out.filter((o) => "seen" in o);
/** Every rule, processed once by each of `p` partitions. */
const everyRule = (p: number) => sorted(Array.from({ length: R * p }, (_, i) => ({ seen: i % R })));

describe("broadcast state end to end", () => {
  const expected = sorted(oracle());

  it("commits the oracle's scores, and each rule once per partition, on a clean run", async () => {
    const out = ((await runToCompletion(job(2), { clock: new ManualClock() })).get("out") ?? []) as Out[];
    expect(sorted(scores(out))).toEqual(expected);
    expect(sorted(seen(out))).toEqual(everyRule(2));
  });

  for (const seed of [1, 2]) {
    it(`commits exactly the oracle's output under injected faults (seed ${seed})`, async () => {
      const { output: result, faults } = await runWithFaults(job(2), seed);
      const out = (result.get("out") ?? []) as Out[];
      expect(faults).toBeGreaterThan(10);
      expect(sorted(scores(out))).toEqual(expected);
      expect(sorted(seen(out))).toEqual(everyRule(2));
    });
  }

  it("a savepoint restore at parallelism 3 gives the new partition the broadcast state", async () => {
    const state = new InMemoryStateStore({ copy: true });
    const checkpoints = new InMemoryCheckpointStore();
    const clock = new ManualClock();
    const first: Out[] = [];
    const stop = new AbortController();
    await new EmbeddedRuntime(job(2, 20), {
      clock,
      store: state,
      checkpoints,
      batchTimeMs: 1,
      signal: stop.signal,
      stopWithSavepoint: "rules-in",
      onOutput: (_s, values) => {
        first.push(...(values as Out[]));
        if (seen(first).length === 2 * R) stop.abort();
      },
    }).run();
    // Stopped after every rule reached both partitions, before the end of the events.
    expect(sorted(seen(first))).toEqual(everyRule(2));
    expect(scores(first)).toEqual([]);

    const second: Out[] = [];
    const rt = new EmbeddedRuntime(job(3, 20), {
      clock,
      store: state,
      checkpoints,
      batchTimeMs: 1,
      fromSavepoint: "rules-in",
      onOutput: (_s, values) => second.push(...(values as Out[])),
    });
    await rt.run();
    expect(rt.plan.tasks.find((t) => t.id === "score")?.parallelism).toBe(3);
    // No rule arrives again (the rules source is past its end), yet every partition scores with all of them.
    expect(seen(second)).toEqual([]);
    expect(sorted(scores(second))).toEqual(expected);
  });
});
