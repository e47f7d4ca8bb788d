/**
 * The task Lambda's handler on a mistake in the job's code (a `JobCodeError`, the
 * embedded runtime's fatal failure): it marks the job record failed at once, with
 * the restore step's reason format naming the operator and the state, logs one line,
 * and drops the job's envelopes once it failed. An ordinary record failure or an
 * infrastructure error never fails the job. Driven on in-memory ports: each task
 * queue's receives go through the handler as SQS events.
 */
import type { Context, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { buildGraph, defineJob, type Job } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { failedReason, failJob } from "../../core/checkpoint/job-failure.ts";
import { CoordinatorSteps } from "../../core/checkpoint/steps.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import type { ReceivedMessage } from "../../core/ports/queue.ts";
import { encodeEnvelope } from "../../functions/aws/sqs-queue.ts";
import { createTaskHandler } from "../../functions/handlers/task.ts";

/** A keyed function that writes a `Map` into value state on record 3. */
const mapInState = defineJob("map-in-state", (env) => {
  env
    .fromElements([1, 2, 3, 4])
    .keyBy((n) => n % 2)
    .process({
      state: { seen: valueState<unknown>() },
      processElement(n, ctx) {
        ctx.state.seen.update(n === 3 ? new Map([["n", n]]) : n);
        ctx.emit(n);
      },
    })
    .uid("remember")
    .sinkTo("out");
});

/** Record 3 throws: an ordinary record failure, retried then restarted. */
const throwing = defineJob("throwing", (env) => {
  env.setRecordFailureStrategy("restart");
  env
    .fromElements([1, 2, 3, 4])
    .keyBy((n) => n % 2)
    .process<number>({
      processElement(n, ctx) {
        if (n === 3) throw new Error("3 is bad");
        ctx.emit(n);
      },
    })
    .uid("picky")
    .sinkTo("out");
});

function sqsEvent(messages: readonly ReceivedMessage[]): SQSEvent {
  const Records = messages.map((m) => ({
    messageId: m.receipt,
    receiptHandle: m.receipt,
    body: encodeEnvelope(m.body),
    attributes: { MessageGroupId: String(m.group), ApproximateReceiveCount: String(m.receiveCount) },
  }));
  return { Records } as unknown as SQSEvent;
}

/** A deployment on in-memory ports: the job started, and each task's handler. */
async function deploy(job: Job) {
  const clock = new ManualClock(1_000);
  const graph = buildGraph(job, { parallelism: 1 });
  const plan = planJob(graph);
  const state = new InMemoryStateStore();
  const checkpoints = new InMemoryCheckpointStore();
  const queue = new InMemoryQueue(clock, { maxReceiveCount: 1000 });
  const steps = new CoordinatorSteps({
    plan,
    graph,
    state,
    checkpoints,
    queue,
    output: new InMemoryOutputStore(),
    clock,
  });
  await steps.start();
  const lines: string[] = [];
  const handlers = new Map(
    plan.tasks.map((t) => [
      t.id,
      createTaskHandler({ job, task: t.id, ports: { state, checkpoints, queue, clock }, log: (l) => lines.push(l) }),
    ]),
  );
  const failures: string[] = [];
  /** Runs every queue's receives through its handler, `times` rounds; a failed item is retried at once. */
  const pump = async (times: number) => {
    for (let i = 0; i < times; i++) {
      for (const t of plan.tasks) {
        const msgs = await queue.receive(t.id, 10);
        if (msgs.length === 0) continue;
        const handler = handlers.get(t.id) as ReturnType<typeof createTaskHandler>;
        const r = await handler(sqsEvent(msgs), {} as Context);
        const failed = new Set((r?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        failures.push(...failed);
        const done = msgs.filter((m) => !failed.has(m.receipt)).map((m) => m.receipt);
        if (done.length) await queue.ack(t.id, done);
        if (failed.size) await queue.nack(t.id, [...failed], 0, "failed");
      }
    }
  };
  return { steps, checkpoints, queue, plan, lines, failures, pump };
}

describe("task handler: a mistake in the job's code fails the job at once", () => {
  it("marks the job failed naming the operator and the state, logs one line, and drops the envelopes after", async () => {
    const d = await deploy(mapInState);
    await d.pump(3);
    const record = await d.checkpoints.loadJob("map-in-state");
    expect(record?.failed).toMatch(
      /^job 'map-in-state' failed: [^ ]+\[\d\]: operator 'remember' wrote a Map to state 'seen'/,
    );
    expect(d.failures.length).toBeGreaterThan(0); // the failing invocation reported its items failed
    expect(d.lines.filter((l) => l.includes("wrote a Map"))).toEqual([record?.failed]);
    // The next receives find the job failed: dropped, not retried until the DLQ.
    await d.pump(3);
    expect(d.lines.some((l) => /dropped \d+ messages of a failed job/.test(l))).toBe(true);
    for (const t of d.plan.tasks) expect(await d.queue.receive(t.id, 10)).toEqual([]);
    // The coordinator's next round answers failed: the state machine ends in JobFailed.
    expect(await d.steps.trigger({ whenDue: true })).toMatchObject({ checkpoint: null, failed: record?.failed });
    expect((await d.steps.restore()).failed).toBe(record?.failed);
  });

  it("an ordinary record failure is retried and never marks the job failed", async () => {
    const d = await deploy(throwing);
    await d.pump(6);
    expect(d.failures.length).toBeGreaterThan(0);
    expect(d.lines.some((l) => l.includes("3 is bad"))).toBe(true);
    expect((await d.checkpoints.loadJob("throwing"))?.failed).toBeUndefined();
  });
});

describe("failJob", () => {
  it("is conditional and idempotent: the first reason stays, and a writer that read before it loses", async () => {
    const d = await deploy(throwing);
    const before = await d.checkpoints.loadJob("throwing");
    if (!before) throw new Error("no record");
    const first = failedReason("throwing", "first");
    expect(await failJob(d.checkpoints, "throwing", first)).toBe(first);
    expect(await failJob(d.checkpoints, "throwing", failedReason("throwing", "second"))).toBe(first);
    // A read-modify-write from the record before the mark cannot write it away.
    const stale = { generation: before.generation, nextCheckpoint: before.nextCheckpoint };
    expect(await d.checkpoints.saveJob({ ...before, sleeping: true }, stale)).toBe(false);
    expect((await d.checkpoints.loadJob("throwing"))?.failed).toBe(first);
  });
});
