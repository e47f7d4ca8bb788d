/**
 * The coordinator's stateless steps over in-memory stores and a manual clock: each
 * step starts from the stores alone (as a Lambda would), so every decision below is
 * made by a fresh CoordinatorSteps.
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { nextExecutionName } from "../../core/checkpoint/asl.ts";
import { CoordinatorSteps, type StepContext } from "../../core/checkpoint/steps.ts";
import type { OutboxEntry } from "../../core/envelope.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { createCoordinatorHandlers } from "../../functions/handlers/coordinator.ts";

const job = defineJob("steps", (env) => {
  env.enableCheckpointing(1000, { timeoutMs: 5000, tolerableFailures: 1 });
  env
    .fromGenerator((i) => i, { count: 100, splits: 2 })
    .keyBy((x) => x % 3)
    .sum()
    .sinkTo("out");
});

function setup() {
  const graph = buildGraph(job, { parallelism: 2 });
  const plan = planJob(graph);
  const sent: OutboxEntry[] = [];
  const clock = new ManualClock(1_000_000);
  const context: StepContext = {
    plan,
    graph,
    state: new InMemoryStateStore(),
    checkpoints: new InMemoryCheckpointStore(),
    queue: { send: async (e) => void sent.push(...e) },
    output: new InMemoryOutputStore(),
    clock,
  };
  // A fresh instance per call: nothing survives in memory between steps.
  const steps = () => new CoordinatorSteps(context);
  return { plan, sent, clock, context, steps };
}

const kinds = (sent: readonly OutboxEntry[]) =>
  sent.map((e) => `${e.to.task}[${e.to.partition}]:${e.envelope.signal?.kind}`);

describe("coordinator steps", () => {
  it("trigger starts a new job, then sends barrier n to every source partition", async () => {
    const { plan, sent, steps, context } = setup();
    const source = plan.tasks.find((t) => t.isSource)?.id;
    expect(await steps().trigger()).toEqual({ checkpoint: 1 });
    expect(kinds(sent)).toEqual([
      `${source}[0]:start`,
      `${source}[1]:start`,
      `${source}[0]:barrier`,
      `${source}[1]:barrier`,
    ]);
    expect((await context.checkpoints.loadJob("steps"))?.generation).toBe(1);
    // One in flight (maxConcurrent 1): the next round triggers nothing and follows that one
    // (a new execution must poll a checkpoint its predecessor triggered, or it blocks forever).
    expect(await steps().trigger()).toEqual({ checkpoint: 1, inFlight: true });
  });

  it("trigger sends the barriers of a checkpoint whose sources have not acked after 5 s again (a trigger killed before its send)", async () => {
    const { plan, sent, steps, clock, context } = setup();
    const source = plan.tasks.find((t) => t.isSource)?.id as string;
    expect(await steps().trigger()).toEqual({ checkpoint: 1 });
    sent.length = 0; // as if the barriers were never sent
    clock.advance(4_000);
    expect(await steps().trigger()).toEqual({ checkpoint: 1, inFlight: true });
    expect(kinds(sent)).toEqual([]);
    clock.advance(2_000);
    await steps().trigger();
    expect(kinds(sent)).toEqual([`${source}[0]:barrier`, `${source}[1]:barrier`]);
    await context.checkpoints.ack("steps", {
      checkpoint: 1,
      task: source,
      partition: 0,
      segment: 1,
      alignmentMs: 0,
      bytes: 0,
      time: 0,
    });
    sent.length = 0;
    await steps().trigger();
    expect(kinds(sent)).toEqual([`${source}[1]:barrier`]);
    expect(sent[0]?.envelope.seq).toBe(1);
  });

  it("poll reports pending, completed once every partition acked, and publishes nothing past the cut", async () => {
    const { plan, steps, context } = setup();
    await steps().trigger();
    expect(await steps().poll(1)).toEqual({ status: "pending" });
    for (const t of plan.tasks) {
      for (let p = 0; p < t.parallelism; p++) {
        await context.checkpoints.ack("steps", {
          checkpoint: 1,
          task: t.id,
          partition: p,
          segment: 0,
          alignmentMs: 0,
          bytes: 0,
          time: 0,
        });
      }
    }
    expect(await steps().poll(1)).toEqual({ status: "completed", completed: 1 });
    expect(await steps().complete()).toEqual({ checkpoint: 1, records: 0, deadLetters: 0, compacted: 0 });
    expect(await steps().trigger()).toEqual({ checkpoint: 2 });
  });

  it("a checkpoint past its timeout is reported, aborted, and after too many the job fails over to a new generation", async () => {
    const { steps, clock, sent, context } = setup();
    await steps().trigger();
    clock.advance(6000);
    expect(await steps().poll(1)).toEqual({ status: "timeout" });
    expect(await steps().abort(1)).toEqual({ failover: false });
    expect((await context.checkpoints.getManifest("steps", 1))?.status).toBe("aborted");
    expect(await steps().trigger()).toEqual({ checkpoint: 2 });
    clock.advance(6000);
    expect(await steps().poll(2)).toEqual({ status: "timeout" });
    expect(await steps().abort(2)).toEqual({ failover: true });
    sent.length = 0;
    expect(await steps().restore()).toEqual({ generation: 2, checkpoint: null });
    expect(kinds(sent).every((k) => k.endsWith(":start"))).toBe(true);
    expect(sent.every((e) => e.envelope.gen === 2)).toBe(true);
    const record = await context.checkpoints.loadJob("steps");
    expect(record?.restoring).toBeUndefined();
    expect(record?.failures).toBe(0);
  });

  it("does not trigger while a restore rewrites the logs", async () => {
    const { steps, context } = setup();
    await steps().start();
    const r = await context.checkpoints.loadJob("steps");
    if (!r) throw new Error("no record");
    await context.checkpoints.saveJob(
      { ...r, restoring: true },
      { generation: r.generation, nextCheckpoint: r.nextCheckpoint },
    );
    expect(await steps().trigger()).toEqual({ checkpoint: null });
  });

  it("a job whose every partition finished completes its final checkpoint, then reports finished", async () => {
    const { plan, steps, context } = setup();
    await steps().trigger();
    for (const t of plan.tasks) {
      for (let p = 0; p < t.parallelism; p++) {
        await context.checkpoints.finished("steps", { task: t.id, partition: p, segment: 0, generation: 1 });
      }
    }
    expect((await steps().poll(1)).status).toBe("completed");
    expect(await steps().trigger()).toEqual({ checkpoint: null, finished: true });
  });
});

describe("continue as new", () => {
  it("names the next execution from the one ending, so a retried step asks for the same execution", async () => {
    const { context } = setup();
    const started: [unknown, string | undefined][] = [];
    const handlers = createCoordinatorHandlers(context, {
      startExecution: async (input, name) => void started.push([input, name]),
    });
    await handlers.continueAsNew({ job: "steps", execution: "abc-r3" });
    await handlers.continueAsNew({ job: "steps", execution: "abc-r3" });
    expect(started).toEqual([
      [{ job: "steps", round: 0 }, "abc-r4"],
      [{ job: "steps", round: 0 }, "abc-r4"],
    ]);
    expect(nextExecutionName("0b6c2d1e-uuid")).toBe("0b6c2d1e-uuid-r1");
    expect(nextExecutionName("x".repeat(80))).toHaveLength(80);
    await expect(handlers.continueAsNew({ job: "other" })).rejects.toThrow(/got job 'other'/);
  });
});
