/**
 * Regression: a completed checkpoint's cut must never move back within a
 * generation. In the state dir of `test/fixtures/repro-compacted-through`, a finished
 * source partition's final checkpoint (32) was cut at its last data segment (559),
 * below checkpoint 31's cut (561) that compaction had already folded (560): the job
 * could never resume.
 */
import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { DEFAULT_CHECKPOINT_CONFIG } from "../../core/checkpoint/config.ts";
import { CheckpointCoordinator } from "../../core/checkpoint/coordinator.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";

const job = defineJob("cut", (env) => {
  env.setParallelism(1);
  env.fromElements([1, 2, 3]).sinkTo("out");
});

describe("checkpoint cuts", () => {
  it("the final checkpoint of a finished partition is cut no lower than the checkpoint completed in the same poll", async () => {
    const plan = planJob(buildGraph(job));
    const store = new InMemoryCheckpointStore();
    const c = new CheckpointCoordinator({ plan, store, clock: new ManualClock(0), config: DEFAULT_CHECKPOINT_CONFIG });
    const record = await c.init();
    const key = Object.keys(Object.fromEntries(plan.tasks.map((t) => [`${t.id}#0`, 0])));
    const ack = async (id: number, segment: number) => {
      for (const k of key) {
        const [task] = k.split("#") as [string];
        await store.ack(plan.job, { checkpoint: id, task, partition: 0, segment, alignmentMs: 0, bytes: 0, time: 0 });
      }
    };
    // Checkpoint 1 completes at segment 500.
    const one = await c.trigger();
    await ack(one, 500);
    expect((await c.poll()).map((e) => e.kind)).toEqual(["completed"]);
    // The partitions finish at segment 559, then still commit barrier 2 in segment 561.
    const two = await c.trigger();
    for (const k of key) {
      const [task] = k.split("#") as [string];
      await store.finished(plan.job, { task, partition: 0, segment: 559, generation: record.generation });
    }
    await ack(two, 561);
    // One poll completes checkpoint 2 and then the final checkpoint 3.
    const events = await c.poll();
    const cuts = events.flatMap((e) => (e.kind === "completed" ? [e.manifest] : []));
    expect(cuts.map((m) => [m.id, m.final === true])).toEqual([
      [2, false],
      [3, true],
    ]);
    for (const k of key) {
      expect(cuts[0]?.cut?.[k]).toBe(561);
      expect(cuts[1]?.cut?.[k]).toBe(561);
    }
  });
});
