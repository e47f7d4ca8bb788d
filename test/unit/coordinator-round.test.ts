/**
 * One coordinator round (`round.ts`) over in-memory stores and a manual clock: each
 * round starts from the stores alone, as the round Lambda does, settles the checkpoint
 * the previous round followed, restores on failover, and triggers the next when due.
 * And the round's reads (`round-reads.ts`): the job record and each manifest read once.
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { round, settle } from "../../core/checkpoint/round.ts";
import { CompletedManifests, ROUND_READ_MAX_PARTITIONS, RoundReads } from "../../core/checkpoint/round-reads.ts";
import { BARRIER_RESEND_MS, CoordinatorSteps, type StepContext } from "../../core/checkpoint/steps.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import type { CheckpointStore } from "../../core/ports/checkpoint-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";

const job = defineJob("rounds", (env) => {
  env.enableCheckpointing(1000, { timeoutMs: 5000, tolerableFailures: 1 });
  env.setRestartStrategy({ attempts: 1, delayMs: 0 });
  env
    .fromGenerator((i) => i, { count: 100, splits: 2 })
    .keyBy((x) => x % 3)
    .sum()
    .sinkTo("out");
});

function setup() {
  const graph = buildGraph(job, { parallelism: 2 });
  const plan = planJob(graph);
  const clock = new ManualClock(1_000_000);
  const checkpoints = new InMemoryCheckpointStore();
  const context: StepContext = {
    plan,
    graph,
    state: new InMemoryStateStore(),
    checkpoints,
    queue: { send: async () => {} },
    output: new InMemoryOutputStore(),
    clock,
  };
  const steps = () => new CoordinatorSteps(context);
  const ackAll = async (checkpoint: number, segment = 0) => {
    for (const t of plan.tasks) {
      for (let p = 0; p < t.parallelism; p++) {
        const ack = { checkpoint, task: t.id, partition: p, segment, alignmentMs: 0, bytes: 0, time: 0 };
        await checkpoints.ack("rounds", ack);
      }
    }
  };
  return { clock, checkpoints, context, steps, ackAll };
}

describe("coordinator round", () => {
  it("triggers, follows the checkpoint in flight, completes it and triggers the next once due", async () => {
    const s = setup();
    expect(await round(s.steps(), null)).toEqual({ checkpoint: 1 });
    s.clock.advance(1000);
    expect(await round(s.steps(), 1)).toEqual({ checkpoint: 1, inFlight: true }); // not acked yet
    await s.ackAll(1);
    s.clock.advance(500);
    expect(await round(s.steps(), 1)).toEqual({ checkpoint: 2, completed: 1 });
    expect((await s.checkpoints.loadJob("rounds"))?.lastCompleted).toBe(1);
    await s.ackAll(2);
    expect(await round(s.steps(), 2)).toEqual({ checkpoint: null, completed: 2 }); // the interval has not passed
    s.clock.advance(1000);
    expect(await round(s.steps(), null)).toEqual({ checkpoint: 3 });
  });

  it("aborts a timed-out checkpoint, then fails over, then says the job failed once the restarts are used up", async () => {
    const s = setup();
    expect(await round(s.steps(), null)).toEqual({ checkpoint: 1 });
    s.clock.advance(6000);
    expect(await round(s.steps(), 1)).toEqual({ checkpoint: 2, aborted: 1 }); // one failure is tolerable
    s.clock.advance(6000);
    expect(await round(s.steps(), 2)).toEqual({ checkpoint: null, restored: 2 }); // the second is not
    expect((await s.checkpoints.loadJob("rounds"))?.generation).toBe(2);
    s.clock.advance(1000);
    expect(await round(s.steps(), null)).toEqual({ checkpoint: 3 });
    s.clock.advance(6000);
    expect(await round(s.steps(), 3)).toEqual({ checkpoint: 4, aborted: 3 });
    s.clock.advance(6000);
    const failed = await round(s.steps(), 4);
    expect(failed).toEqual({ checkpoint: null, failed: expect.stringMatching(/failed after 1 restarts/) });
    expect(await round(s.steps(), null)).toEqual({ checkpoint: null, failed: failed.failed });
  });

  it("seals every partition's log, folding nothing, whenever a round answers that the job failed", async () => {
    const s = setup();
    const sealed: string[] = [];
    const state = s.context.state as InMemoryStateStore;
    const sealing = Object.assign(Object.create(state) as InMemoryStateStore, {
      seal: async (task: string, partition: number, through: number) => {
        sealed.push(`${task}#${partition}@${through}`);
        return 0;
      },
    });
    const steps = () => new CoordinatorSteps({ ...s.context, state: sealing });
    const partitions = s.context.plan.tasks.flatMap((t) =>
      Array.from({ length: t.parallelism }, (_, p) => `${t.id}#${p}@0`),
    );
    expect(await round(steps(), null)).toEqual({ checkpoint: 1 });
    for (const [id, expected] of [
      [1, { checkpoint: 2, aborted: 1 }],
      [2, { checkpoint: null, restored: 2 }],
    ] as const) {
      s.clock.advance(6000);
      expect(await round(steps(), id)).toEqual(expected);
    }
    expect(sealed).toEqual([]); // running, restored: nothing sealed
    s.clock.advance(1000);
    expect(await round(steps(), null)).toEqual({ checkpoint: 3 });
    s.clock.advance(6000);
    expect(await round(steps(), 3)).toEqual({ checkpoint: 4, aborted: 3 });
    s.clock.advance(6000);
    expect((await round(steps(), 4)).failed).toBeDefined(); // the restore marks it failed
    expect(sealed.sort()).toEqual([...partitions].sort());
    sealed.length = 0;
    expect((await round(steps(), null)).failed).toBeDefined(); // the trigger finds it failed
    expect(sealed.sort()).toEqual([...partitions].sort());
  });

  it("settle reports what the poll found and acts on it, as the embedded driver uses it", async () => {
    const s = setup();
    await s.steps().trigger();
    expect(await settle(s.steps(), 1)).toEqual({ status: "pending" });
    expect(await settle(s.steps())).toEqual({ status: "pending" });
    await s.ackAll(1);
    expect(await settle(s.steps(), 1)).toMatchObject({
      status: "completed",
      completed: 1,
      complete: { checkpoint: 1 },
    });
    await s.steps().trigger();
    s.clock.advance(6000);
    expect(await settle(s.steps(), 2)).toEqual({ status: "timeout", failover: false });
    expect(await settle(s.steps(), 2)).toEqual({ status: "aborted" });
  });
});

/** Counts the job-record and manifest reads that reach `store`. */
function counting(store: CheckpointStore) {
  const reads = { jobs: 0, manifests: 0 };
  const counted: CheckpointStore = Object.create(store);
  counted.loadJob = (job) => {
    reads.jobs += 1;
    return store.loadJob(job);
  };
  counted.getManifest = (job, id) => {
    reads.manifests += 1;
    return store.getManifest(job, id);
  };
  return { counted, reads };
}

describe("round reads", () => {
  it("a round reads the job record and each manifest at most once, where the steps alone read them many times", async () => {
    const s = setup();
    const { counted, reads } = counting(s.checkpoints);
    const context = (checkpoints: CheckpointStore): StepContext => ({ ...s.context, checkpoints });
    await round(new CoordinatorSteps(context(counted)), null);
    await s.ackAll(1);
    s.clock.advance(1000);
    await round(new CoordinatorSteps(context(counted)), 1);
    const uncached = { ...reads };
    reads.jobs = 0;
    reads.manifests = 0;
    await s.ackAll(2);
    s.clock.advance(1000);
    expect(await round(new CoordinatorSteps(context(new RoundReads(counted))), 2)).toEqual({
      checkpoint: 3,
      completed: 2,
    });
    expect(reads.jobs).toBe(1);
    expect(reads.manifests).toBeLessThanOrEqual(3); // 2 (pending), the one before it, 3 is written, not read
    expect(uncached.jobs).toBeGreaterThan(5);
  });

  it("a warm container's next round reads no manifest: the completed one it wrote is kept (CompletedManifests)", async () => {
    const s = setup();
    const { counted, reads } = counting(s.checkpoints);
    const kept = new CompletedManifests();
    const run = (id: number | null) =>
      round(new CoordinatorSteps({ ...s.context, checkpoints: new RoundReads(counted, kept) }), id);
    expect(await run(null)).toEqual({ checkpoint: 1 });
    for (const id of [1, 2, 3]) {
      await s.ackAll(id);
      s.clock.advance(1000);
      reads.manifests = 0;
      expect(await run(id)).toEqual({ checkpoint: id + 1, completed: id });
      // Round 1 finds no completed checkpoint before; later ones find the kept one.
      expect(reads.manifests).toBe(0);
    }
    expect(kept.get("rounds", 3)?.status).toBe("completed");
    expect((await s.checkpoints.getManifest("rounds", 3))?.cut).toEqual(kept.get("rounds", 3)?.cut);
    // Only completed manifests are kept, and at most `max` of them.
    const few = new CompletedManifests(2);
    for (const id of [1, 2, 3]) few.keep(await s.checkpoints.getManifest("rounds", id));
    few.keep({ job: "rounds", id: 9, generation: 1, status: "aborted", triggeredAt: 0, parallelism: {} });
    expect([1, 2, 3, 9].map((id) => few.get("rounds", id)?.id)).toEqual([undefined, 2, 3, undefined]);
  });

  it("a small job's round reads its record, acks and finished reports in one read (prefetch), and completes the same", async () => {
    const s = setup();
    const { counted, reads } = counting(s.checkpoints);
    const calls = { acks: 0, finished: 0, rounds: 0 };
    const store: CheckpointStore = Object.create(counted, {
      acks: {
        value: (job: string, id: number) => {
          calls.acks++;
          return counted.acks(job, id);
        },
      },
      finishedPartitions: {
        value: (job: string, g: number) => {
          calls.finished++;
          return counted.finishedPartitions(job, g);
        },
      },
      readRound: {
        value: (job: string, from: number) => {
          calls.rounds++;
          return s.checkpoints.readRound(job, from);
        },
      },
    });
    const run = (id: number | null, partitions: number) => {
      const r = new RoundReads(store);
      r.prefetch("rounds", id, partitions);
      return round(new CoordinatorSteps({ ...s.context, checkpoints: r }), id);
    };
    expect(await run(null, 4)).toEqual({ checkpoint: 1 });
    expect(calls.rounds).toBe(0); // nothing to follow: no acks to read
    await s.ackAll(1);
    s.clock.advance(1000);
    reads.jobs = 0;
    expect(await run(1, 4)).toEqual({ checkpoint: 2, completed: 1 });
    expect({ ...calls, jobs: reads.jobs }).toEqual({ rounds: 1, jobs: 0, acks: 0, finished: 0 });
    // A large job reads them on their own (its acks read strongly consistent would cost more).
    await s.ackAll(2);
    s.clock.advance(1000);
    expect(await run(2, ROUND_READ_MAX_PARTITIONS + 1)).toEqual({ checkpoint: 3, completed: 2 });
    expect({ ...calls, jobs: reads.jobs }).toEqual({ rounds: 1, jobs: 1, acks: 1, finished: 1 });
  });

  it("keeps its own writes, and after a write that lost the race reads the record again", async () => {
    const s = setup();
    await s.steps().start();
    const { counted, reads } = counting(s.checkpoints);
    const r = new RoundReads(counted);
    const record = await r.loadJob("rounds");
    if (!record) throw new Error("no record");
    expect(await r.saveJob({ ...record, nextCheckpoint: 5 }, record)).toBe(true);
    expect((await r.loadJob("rounds"))?.nextCheckpoint).toBe(5);
    expect(reads.jobs).toBe(1);
    // Another writer moves the record on; a write from the stale one fails and is forgotten.
    await s.checkpoints.saveJob({ ...record, nextCheckpoint: 9 }, { generation: 1, nextCheckpoint: 5 });
    expect(await r.saveJob({ ...record, nextCheckpoint: 6 }, { generation: 1, nextCheckpoint: 5 })).toBe(false);
    expect((await r.loadJob("rounds"))?.nextCheckpoint).toBe(9);
    expect(reads.jobs).toBe(2);
  });
});

/** The round's writes, made to fail at the `at`-th (a Lambda killed there): the checkpoint store's and the output marks. */
function crashingAt(s: ReturnType<typeof setup>, at: number) {
  let writes = 0;
  const crash = () => {
    writes += 1;
    if (writes === at) throw new Error(`crash at write ${at}`);
  };
  const inner = s.checkpoints;
  const checkpoints: CheckpointStore = Object.create(inner, {
    saveJob: {
      value: async (...a: Parameters<CheckpointStore["saveJob"]>) => {
        crash();
        return inner.saveJob(...a);
      },
    },
    putManifest: {
      value: async (m: Parameters<CheckpointStore["putManifest"]>[0]) => {
        crash();
        return inner.putManifest(m);
      },
    },
  });
  const output = s.context.output;
  const published: string[] = [];
  const marks = Object.create(output, {
    setPublished: {
      value: async (job: string, through: Record<string, number>) => {
        crash();
        // Output is published only once the completion is durable in the job record.
        published.push(`lastCompleted ${(await inner.loadJob(job))?.lastCompleted}`);
        return output.setPublished(job, through);
      },
    },
  });
  return { checkpoints, output: marks as typeof output, published, writes: () => writes };
}

describe("one record write per checkpoint", () => {
  it("a round that completes a checkpoint and triggers the next writes the record once and the manifest once", async () => {
    const s = setup();
    await round(s.steps(), null);
    await s.ackAll(1);
    s.clock.advance(1000);
    const { counted, reads } = counting(s.checkpoints);
    let records = 0;
    let manifests = 0;
    const writes: CheckpointStore = Object.create(counted, {
      saveJob: {
        value: (...a: Parameters<CheckpointStore["saveJob"]>) => {
          records++;
          return counted.saveJob(...a);
        },
      },
      putManifest: {
        value: (m: Parameters<CheckpointStore["putManifest"]>[0]) => {
          manifests++;
          return counted.putManifest(m);
        },
      },
    });
    expect(await round(new CoordinatorSteps({ ...s.context, checkpoints: new RoundReads(writes) }), 1)).toEqual({
      checkpoint: 2,
      completed: 1,
    });
    expect({ records, manifests, manifestReads: reads.manifests }).toEqual({
      records: 1,
      manifests: 1,
      manifestReads: 0,
    });
    const record = await s.checkpoints.loadJob("rounds");
    expect(record).toMatchObject({ lastCompleted: 1, nextCheckpoint: 3, failures: 0 });
    expect(record?.pending).toEqual([{ id: 2, at: s.clock.now(), generation: 1 }]);
    expect((await s.checkpoints.getManifest("rounds", 1))?.status).toBe("completed");
    expect(await s.checkpoints.getManifest("rounds", 2)).toBeUndefined(); // no manifest until it settles
  });

  it("sends the barriers while it publishes; a send that fails fails the round, and the round run again follows the checkpoint", async () => {
    const s = setup();
    await round(s.steps(), null);
    await s.ackAll(1, 1);
    s.clock.advance(1000);
    const order: string[] = [];
    let fail = true;
    const queue = {
      send: async () => {
        order.push("send started");
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new Error("SQS is down");
        order.push("sent");
      },
    };
    // The publication starts with its read of the published marks.
    const output = Object.create(s.context.output, {
      publishedThrough: {
        value: async (job: string) => {
          order.push("publish");
          return s.context.output.publishedThrough(job);
        },
      },
    });
    await expect(round(new CoordinatorSteps({ ...s.context, queue, output }), 1)).rejects.toThrow("SQS is down");
    expect(order.slice(0, 2)).toEqual(["send started", "publish"]); // the publication did not wait for the send
    fail = false;
    expect(await round(new CoordinatorSteps({ ...s.context, queue, output }), 1)).toEqual({
      checkpoint: 2,
      inFlight: true,
      completed: 1,
    });
    s.clock.advance(BARRIER_RESEND_MS);
    order.length = 0;
    expect(await round(new CoordinatorSteps({ ...s.context, queue, output }), 2)).toEqual({
      checkpoint: 2,
      inFlight: true,
    });
    expect(order).toEqual(["send started", "sent"]); // its barriers, sent again
  });

  it("a round killed at any write, run again, completes the checkpoint once and publishes only what is durable", async () => {
    for (let at = 1; ; at++) {
      const s = setup();
      await round(s.steps(), null);
      await s.ackAll(1, 1);
      s.clock.advance(1000);
      const c = crashingAt(s, at);
      const crashed = new CoordinatorSteps({
        ...s.context,
        checkpoints: new RoundReads(c.checkpoints),
        output: c.output,
      });
      const first = await round(crashed, 1).then(
        (a) => a,
        () => undefined,
      );
      if (first) {
        // No write left to crash at: every crash point was tried.
        expect(at).toBeGreaterThan(2);
        break;
      }
      // The Lambda is retried with the same input, its writes no longer failing.
      const again = new CoordinatorSteps({
        ...s.context,
        checkpoints: new RoundReads(c.checkpoints),
        output: c.output,
      });
      const answer = await round(again, 1);
      expect(answer.completed, `crash at write ${at}`).toBe(1);
      const record = await s.checkpoints.loadJob("rounds");
      expect(record?.lastCompleted, `crash at write ${at}`).toBe(1);
      expect(record?.nextCheckpoint, `crash at write ${at}`).toBe(3);
      expect(
        record?.pending?.map((e) => e.id),
        `crash at write ${at}`,
      ).toEqual([2]);
      expect(c.published.length, `crash at write ${at}`).toBeGreaterThan(0);
      for (const p of c.published) expect(p, `crash at write ${at}`).toBe("lastCompleted 1");
      expect((await s.checkpoints.getManifest("rounds", 1))?.status).toBe("completed");
    }
  });
});
