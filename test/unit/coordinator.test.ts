import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { DEFAULT_CHECKPOINT_CONFIG } from "../../core/checkpoint/config.ts";
import { CheckpointCoordinator } from "../../core/checkpoint/coordinator.ts";
import { decideTrigger } from "../../core/checkpoint/decider.ts";
import { AckResult, PendingCheckpoint } from "../../core/checkpoint/pending.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { AbortReason } from "../../core/ports/checkpoint-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";

const config = { ...DEFAULT_CHECKPOINT_CONFIG, intervalMs: 100, minPauseMs: 30, timeoutMs: 500, tolerableFailures: 1 };

describe("decideTrigger", () => {
  it("triggers when nothing is pending and no interval or pause applies", () => {
    expect(decideTrigger({ pending: 0, lastTriggerAt: undefined, lastCompletedAt: undefined }, config, 0)).toEqual({
      trigger: true,
    });
  });
  it("waits for the interval, the min pause and a free slot", () => {
    expect(decideTrigger({ pending: 1, lastTriggerAt: 0, lastCompletedAt: undefined }, config, 1000)).toEqual({
      trigger: false,
      reason: "too-many-concurrent",
      retryAt: undefined,
    });
    expect(decideTrigger({ pending: 0, lastTriggerAt: 0, lastCompletedAt: 90 }, config, 110)).toEqual({
      trigger: false,
      reason: "min-pause",
      retryAt: 120,
    });
    expect(decideTrigger({ pending: 0, lastTriggerAt: 50, lastCompletedAt: 60 }, config, 120)).toEqual({
      trigger: false,
      reason: "interval",
      retryAt: 150,
    });
    expect(decideTrigger({ pending: 0, lastTriggerAt: 50, lastCompletedAt: 60 }, config, 150)).toEqual({
      trigger: true,
    });
    expect(
      decideTrigger({ pending: 1, lastTriggerAt: 0, lastCompletedAt: undefined }, { ...config, maxConcurrent: 2 }, 100),
    ).toEqual({
      trigger: true,
    });
  });
});

describe("PendingCheckpoint", () => {
  const ack = (task: string, partition: number, segment = 1) => ({
    checkpoint: 7,
    task,
    partition,
    segment,
    alignmentMs: segment,
    bytes: 10,
  });
  it("answers success, duplicate, unknown and discarded", () => {
    const p = new PendingCheckpoint(7, 0, ["a#0", "a#1"]);
    expect(p.acknowledge(ack("a", 0))).toBe(AckResult.Success);
    expect(p.acknowledge(ack("a", 0))).toBe(AckResult.Duplicate);
    expect(p.acknowledge(ack("b", 0))).toBe(AckResult.Unknown);
    expect(p.acknowledge({ ...ack("a", 1), checkpoint: 8 })).toBe(AckResult.Unknown);
    expect(p.complete).toBe(false);
    expect(p.missing()).toEqual(["a#1"]);
    expect(p.acknowledge(ack("a", 1, 5))).toBe(AckResult.Success);
    expect(p.complete).toBe(true);
    expect(p.cut()).toEqual({ "a#0": 1, "a#1": 5 });
    expect(p.totals()).toEqual({ alignmentMs: 5, bytes: 20 });
    const q = new PendingCheckpoint(7, 0, ["a#0"]);
    q.abort();
    expect(q.acknowledge(ack("a", 0))).toBe(AckResult.Discarded);
    expect(q.complete).toBe(false);
  });
});

describe("CheckpointCoordinator", () => {
  const job = defineJob("coord", (env) => {
    env
      .fromGenerator((i) => i)
      .setParallelism(2)
      .keyBy((i) => i % 3)
      .sum()
      .setParallelism(1)
      .sinkTo("s");
  });
  const setup = async () => {
    const plan = planJob(buildGraph(job));
    const store = new InMemoryCheckpointStore();
    const clock = new ManualClock(1000);
    const c = new CheckpointCoordinator({ plan, store, clock, config });
    await c.init();
    return { plan, store, clock, c };
  };
  const ackAll = async (store: InMemoryCheckpointStore, id: number, except: string[] = []) => {
    for (const [task, partition] of [
      ["generator-0", 0],
      ["generator-0", 1],
      ["sum-1", 0],
    ] as const) {
      if (except.includes(`${task}#${partition}`)) continue;
      await store.ack("coord", {
        checkpoint: id,
        task,
        partition,
        segment: id * 10 + partition,
        alignmentMs: 2,
        bytes: 5,
        time: 0,
      });
    }
  };

  it("creates the job record at generation 1 and triggers by the interval", async () => {
    const { c, clock, store } = await setup();
    expect(await store.loadJob("coord")).toMatchObject({ generation: 1, nextCheckpoint: 1, lastCompleted: 0 });
    expect(await c.maybeTrigger()).toBe(1);
    expect(await c.maybeTrigger()).toBeUndefined(); // one at a time
    await ackAll(store, 1);
    const [done] = await c.poll();
    expect(done).toMatchObject({
      kind: "completed",
      manifest: {
        id: 1,
        status: "completed",
        cut: { "generator-0#0": 10, "generator-0#1": 11, "sum-1#0": 10 },
        alignmentMs: 2,
        bytes: 15,
      },
    });
    expect(await c.maybeTrigger()).toBeUndefined(); // interval not over
    clock.advance(100);
    expect(await c.maybeTrigger()).toBe(2);
    expect((await store.loadJob("coord"))?.lastCompleted).toBe(1);
  });

  it("aborts a checkpoint that times out, counts failures, and asks for failover past the tolerance", async () => {
    const { c, clock, store } = await setup();
    expect(await c.trigger()).toBe(1);
    await ackAll(store, 1, ["sum-1#0"]);
    clock.advance(501);
    expect(await c.poll()).toEqual([{ kind: "aborted", id: 1, reason: AbortReason.Timeout }]);
    expect(await store.getManifest("coord", 1)).toMatchObject({ status: "aborted", reason: "timeout" });
    await c.trigger();
    clock.advance(501);
    const events = await c.poll();
    expect(events).toContainEqual({ kind: "aborted", id: 2, reason: AbortReason.Timeout });
    expect(events).toContainEqual({ kind: "failover", reason: "2 checkpoints in a row failed" });
    // A late ack of an aborted checkpoint changes nothing.
    await store.ack("coord", {
      checkpoint: 1,
      task: "sum-1",
      partition: 0,
      segment: 3,
      alignmentMs: 0,
      bytes: 0,
      time: 0,
    });
    expect(await c.poll()).toContainEqual({ kind: "failover", reason: "2 checkpoints in a row failed" });
  });

  it("counts finished partitions as acked and completes a final checkpoint when all finished", async () => {
    const { c, store } = await setup();
    await c.trigger();
    await store.ack("coord", {
      checkpoint: 1,
      task: "generator-0",
      partition: 0,
      segment: 4,
      alignmentMs: 0,
      bytes: 0,
      time: 0,
    });
    await store.finished("coord", { task: "generator-0", partition: 1, segment: 9, generation: 1 });
    await store.finished("coord", { task: "sum-1", partition: 0, segment: 12, generation: 1 });
    const [first] = await c.poll();
    expect(first).toMatchObject({
      kind: "completed",
      manifest: { id: 1, cut: { "generator-0#0": 4, "generator-0#1": 9, "sum-1#0": 12 } },
    });
    await store.finished("coord", { task: "generator-0", partition: 0, segment: 3, generation: 1 });
    const [final] = await c.poll();
    // generator-0#0 finished at 3, but its previous cut was 4: cuts never move backwards.
    expect(final).toMatchObject({
      kind: "completed",
      manifest: { id: 2, final: true, cut: { "generator-0#0": 4, "generator-0#1": 9, "sum-1#0": 12 } },
    });
    expect(await c.poll()).toEqual([]);
  });
});
