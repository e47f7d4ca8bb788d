/**
 * Savepoints: stop a job with a savepoint, restore it at another parallelism, and
 * the committed output of both runs together equals a run that never stopped.
 */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { defineJob, type Job } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { SavepointError } from "../../core/checkpoint/savepoint.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { multisetDiff } from "../sim/scenarios.ts";

type Row = { user: string; n: number; total?: number };
const N = 6000;
const event = (i: number) => ({ user: `u${(i * 7919) % 23}`, amount: i % 100 });

function counts(name = "counts", maxParallelism = 128): Job {
  return defineJob(name, (env) => {
    env.setMaxParallelism(maxParallelism);
    env.configure({ sourceBatchSize: 50 });
    env.enableCheckpointing(10);
    const rows: DataStream<Row> = env
      .fromGenerator(event, { count: N, splits: 8 })
      .uid("events")
      .keyBy((e) => e.user)
      .process({
        state: { n: valueState<number>(), total: valueState<number>() },
        processElement(e, ctx) {
          const n = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(n);
          ctx.state.total.update((ctx.state.total.value() ?? 0) + e.amount);
          if (n === 1) ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
          ctx.emit({ user: ctx.key, n });
        },
        onTimer(_t, ctx) {
          ctx.emit({ user: ctx.key, n: ctx.state.n.value() ?? 0, total: ctx.state.total.value() ?? 0 });
        },
      });
    rows.uid("counter").sinkTo("rows");
  });
}

describe("savepoints", () => {
  it("stop-with-savepoint at parallelism 2, restore at 3 and at 1: output equals an uninterrupted run", async () => {
    const reference = (await runToCompletion(counts(), { clock: new ManualClock(), parallelism: 2 })).get("rows") ?? [];
    expect(reference.length).toBe(N + 23);

    for (const restoreAt of [3, 1]) {
      const state = new InMemoryStateStore({ copy: true });
      const checkpoints = new InMemoryCheckpointStore();
      const clock = new ManualClock();
      const out: unknown[] = [];
      const stop = new AbortController();
      const first = new EmbeddedRuntime(counts(), {
        clock,
        store: state,
        checkpoints,
        parallelism: 2,
        batchTimeMs: 1,
        signal: stop.signal,
        stopWithSavepoint: "half",
        onOutput: (_s, values) => {
          out.push(...values);
          if (out.length > N / 2) stop.abort();
        },
      });
      await first.run();
      expect(first.finished).toBe(false);
      const stoppedAt = out.length;
      expect(stoppedAt).toBeGreaterThan(N / 2);
      expect(stoppedAt).toBeLessThan(N);
      const listed = await checkpoints.listSavepoints("counts");
      expect(listed).toEqual([expect.objectContaining({ name: "half", parallelism: { events: 2, counter: 2 } })]);

      const second = new EmbeddedRuntime(counts(), {
        clock,
        store: state,
        checkpoints,
        parallelism: restoreAt,
        fromSavepoint: "half",
        onOutput: (_s, values) => out.push(...values),
      });
      expect(second.plan.tasks.every((t) => t.parallelism === restoreAt)).toBe(true);
      await second.run();
      expect(second.finished).toBe(true);
      expect(multisetDiff(`restored at ${restoreAt}`, out, reference)).toEqual([]);
    }
  });

  it("takes a savepoint while running and keeps going", async () => {
    const clock = new ManualClock();
    let rt: EmbeddedRuntime | undefined;
    let asked: Promise<unknown> | undefined;
    const out: unknown[] = [];
    rt = new EmbeddedRuntime(counts(), {
      clock,
      parallelism: 2,
      batchTimeMs: 1,
      onOutput: (_s, values) => {
        out.push(...values);
        if (!asked && out.length > 100) asked = rt?.savepoint("mid");
      },
    });
    await rt.run();
    expect(await asked).toMatchObject({ job: "counts", name: "mid", values: 69 }); // 23 users × (n, total, timers)
    expect(rt.finished).toBe(true);
    await expect(rt.savepoint("bad name!")).rejects.toThrow(SavepointError);
  });

  it("refuses an unknown savepoint, another job's, other key groups, and lost operators, with clear errors", async () => {
    const state = new InMemoryStateStore();
    const checkpoints = new InMemoryCheckpointStore();
    const clock = new ManualClock();
    const stop = new AbortController();
    const first = new EmbeddedRuntime(counts(), {
      clock,
      store: state,
      checkpoints,
      batchTimeMs: 1,
      signal: stop.signal,
      stopWithSavepoint: "sp1",
      onOutput: () => stop.abort(),
    });
    await first.run();
    const run = (job: Job, fromSavepoint: string) =>
      new EmbeddedRuntime(job, { clock, store: state, checkpoints, fromSavepoint }).run();
    await expect(run(counts(), "nope")).rejects.toThrow("job 'counts' has no savepoint named 'nope' (it has: sp1)");
    await expect(run(counts("other"), "sp1")).rejects.toThrow("job 'other' has no savepoint named 'sp1' (it has none)");
    await expect(run(counts("counts", 64), "sp1")).rejects.toThrow(/has 128 key groups but the job has 64/);
    const renamed = defineJob("counts", (env) => {
      env
        .fromGenerator(event, { count: 10 })
        .uid("events")
        .keyBy((e) => e.user)
        .sum("amount")
        .uid("summer")
        .sinkTo("x");
    });
    await expect(run(renamed, "sp1")).rejects.toThrow(
      /holds state the job has no operator for: operator uid 'counter' is gone/,
    );
    // A taken name is refused and the savepoint is unchanged.
    const again = new EmbeddedRuntime(counts(), {
      clock,
      store: state,
      checkpoints,
      fromSavepoint: "sp1",
      batchTimeMs: 1,
    });
    const refused = expect(again.savepoint("sp1")).rejects.toThrow("job 'counts' already has a savepoint named 'sp1'");
    await again.run();
    await refused;
  });
});
