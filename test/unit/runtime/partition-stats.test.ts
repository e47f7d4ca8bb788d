import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../../core/api/environment.ts";
import { valueState } from "../../../core/api/state.ts";
import { takeSavepoint } from "../../../core/checkpoint/savepoint.ts";
import { ackedReports, recordsByTask, reportCheckpoints } from "../../../core/control/acked-reports.ts";
import type { Envelope } from "../../../core/envelope.ts";
import { planJob } from "../../../core/graph/planner.ts";
import { keyGroupRange } from "../../../core/keys.ts";
import { InMemoryCheckpointStore } from "../../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryQueue } from "../../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../../core/memory/in-memory-state-store.ts";
import type { JobRecord } from "../../../core/ports/checkpoint-store.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { keyDelta, STATS_KEY } from "../../../core/runtime/partition-stats.ts";
import { TaskRunner } from "../../../core/runtime/task-runner.ts";
import { setup as restoreSetup } from "../../support/restore-steps-setup.ts";

/** in (played by the test) → keyBy → count (keyed, ×1, dead-letters "bad") → rebalance → sink. */
function setup() {
  const job = defineJob("stats", (env) => {
    env.setRecordFailureStrategy("dead-letter");
    env
      .fromElements([] as { w: string; t: number }[])
      .uid("in")
      .keyBy((r) => r.w)
      .process({
        state: { n: valueState<number>() },
        processElement(r, ctx) {
          if (r.w === "bad") throw new Error("cannot count 'bad'");
          const n = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(n);
          ctx.emit(`${r.w}=${n}`);
          ctx.emit(`${r.w} again`);
        },
      })
      .uid("count")
      .rebalance()
      .map((x) => x)
      .uid("after")
      .sinkTo("out");
  });
  const graph = buildGraph(job, { parallelism: 1 });
  const plan = planJob(graph);
  const clock = new ManualClock(1_000);
  const queue = new InMemoryQueue(clock);
  const store = new InMemoryStateStore({ copy: true });
  const checkpoints = new InMemoryCheckpointStore();
  const task = plan.tasks.find((t) => t.operators.some((o) => o.uid === "count"))?.id ?? "";
  const runner = () =>
    new TaskRunner({ plan, graph, task, partition: 0, queue, store, clock, generation: 1, checkpoints });
  let seq = 0;
  const from = `${plan.tasks[0]?.id}#0`;
  const env = (records: unknown[], over: Partial<Envelope> = {}): Envelope => ({
    gen: 1,
    from,
    seq: ++seq,
    records,
    ...over,
  });
  return { plan, clock, checkpoints, task, runner, env };
}

describe("partition reports", () => {
  it("counts records, keyed values, the watermark and the last dead letter, and a cold runner reads the same", async () => {
    const s = setup();
    const warm = s.runner();
    const recs = [
      { w: "a", t: 10 },
      { w: "b", t: 20 },
      { w: "a", t: 30 },
    ];
    expect((await warm.handle([{ body: s.env(recs), receiveCount: 1 }])).failedFrom).toBeUndefined();
    await warm.handle([{ body: s.env([], { signal: { kind: "watermark", t: 25 } }), receiveCount: 1 }]);
    const bad = s.env([{ w: "bad", t: 40 }]);
    expect((await warm.handle([{ body: bad, receiveCount: 1 }])).failedFrom).toBe(0);
    const failed = warm.report();
    expect(failed?.lastError?.message).toContain("cannot count 'bad'");
    s.clock.advance(5);
    const r = await warm.handle([{ body: bad, receiveCount: 3 }]); // attempts used up: a dead letter
    expect(r.failedFrom).toBeUndefined();
    const report = warm.report();
    expect(report).toMatchObject({
      task: s.task,
      partition: 0,
      recordsIn: 4,
      recordsOut: 6,
      stateKeys: 2,
      watermark: 25,
      segment: 3,
    });
    expect(report?.lastError?.message).toContain("cannot count 'bad'");
    const cold = s.runner();
    await cold.handle([{ body: s.env([{ w: "c", t: 50 }]), receiveCount: 1 }]);
    expect(cold.report()).toMatchObject({ recordsIn: 5, recordsOut: 8, stateKeys: 3, segment: 4, watermark: 25 });
    expect(cold.report()?.lastError?.message).toContain("cannot count 'bad'"); // the dead letter's, committed
  });

  it("goes into the ack of each checkpoint a partition ends, and the API reads the newest per partition", async () => {
    const s = setup();
    const runner = s.runner();
    await runner.handle([{ body: s.env([{ w: "a", t: 1 }]), receiveCount: 1 }]);
    await runner.handle([{ body: s.env([], { signal: { kind: "barrier", n: 1 } }), receiveCount: 1 }]);
    await runner.handle([{ body: s.env([{ w: "b", t: 2 }]), receiveCount: 1 }]);
    await runner.handle([{ body: s.env([], { signal: { kind: "barrier", n: 2 } }), receiveCount: 1 }]);
    const [first] = await s.checkpoints.acks("stats", 1);
    expect(first?.report).toMatchObject({ recordsIn: 1, segment: first?.segment });
    const record: JobRecord = {
      job: "stats",
      generation: 1,
      nextCheckpoint: 3,
      lastCompleted: 1,
      parallelism: { [s.task]: 1 },
      failures: 0,
      pending: [{ id: 2, at: 0, generation: 1 }],
    };
    expect(reportCheckpoints(record)).toEqual([1, 2]);
    const reports = await ackedReports(s.checkpoints, record, { [s.task]: 1 });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ task: s.task, partition: 0, recordsIn: 2, recordsOut: 4, stateKeys: 2 });
    expect(recordsByTask(reports)).toEqual({ [s.task]: { in: 2, out: 4 } });
    // A partition a rescale removed is left out.
    expect(await ackedReports(s.checkpoints, record, { [s.task]: 0 })).toEqual([]);
  });

  it("counts a new key up, a deleted key down, and an update or a new-then-deleted key not at all", () => {
    expect(
      keyDelta([
        { s: "x", k: "a", g: 0, v: 1, n: true },
        { s: "x", k: "b", g: 0, d: true },
        { s: "x", k: "c", g: 0, v: 2 },
        { s: "x", k: "d", g: 0, d: true, n: true },
        { s: "x", k: "e", g: 0, v: 3, n: true },
      ]),
    ).toBe(1);
  });

  it("starts a restored partition's key count at the keyed values the savepoint gives it", async () => {
    const { plan, state, context, steps, checkpointAt, clock } = restoreSetup();
    const keyed = plan.tasks.find((t) => t.keyed);
    if (!keyed) throw new Error("the setup's job has a keyed task");
    // Partition p holds 2 + p values in its own key groups.
    for (const p of [0, 1]) {
      const { start } = keyGroupRange(p, 2, plan.maxParallelism);
      const changes = Array.from({ length: 2 + p }, (_, i) => ({
        s: "sum/v",
        k: `k${p}-${i}`,
        g: start,
        v: i,
        n: true as const,
      }));
      await state.append(keyed.id, p, {
        n: 1,
        gen: 1,
        time: 0,
        positions: {},
        outSeqs: {},
        changes,
        outbox: [],
        sentThrough: 1,
      });
    }
    const manifest = await checkpointAt(3, 3);
    await takeSavepoint(plan, state, context.checkpoints, clock, manifest, "counted");
    await steps().restoreSavepoint("counted");
    for (const p of [0, 1]) {
      const base = await state.readBase(keyed.id, p);
      expect(base?.opState[STATS_KEY], `partition ${p}`).toEqual({ in: 0, out: 0, keys: 2 + p });
    }
  });
});
