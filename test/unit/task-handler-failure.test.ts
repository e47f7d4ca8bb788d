/**
 * The task Lambda's handler on a mistake in the job's code (a `JobCodeError`, the
 * embedded runtime's fatal failure): it marks the job record failed at once, with
 * the restore step's reason format naming the operator and the state, logs one line,
 * and drops the job's envelopes once it failed. An ordinary record failure or an
 * infrastructure error never fails the job. Driven on in-memory ports: each task
 * queue's receives go through the handler as SQS events.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { failedReason, failJob } from "../../core/checkpoint/job-failure.ts";
import { deployInMemory as deploy } from "../support/in-memory-tasks.ts";

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
