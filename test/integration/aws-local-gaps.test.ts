/**
 * What the AWS runtime once lacked, on the emulators through the real handlers and
 * the real state machine: processing-time timers that fire within about a second
 * (not only with the next barrier), `notifyCheckpointComplete` reaching keyed
 * functions, and the restart strategy's attempt limit ending the coordinator in
 * JobFailed with the reason in the job's status.
 */

import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import type { AwsLocal } from "../../functions/local/aws-local.ts";
import { api, awsLocalJobs, describeJob, readOutput, until } from "../support/aws-local-harness.ts";

const jobs = awsLocalJobs();

type Fired = { k: string; t: number };

/** Each event sets a processing-time timer 300 ms on; the timer emits. Checkpoints every 30 s. */
const timers = defineJob("timers", (env) => {
  env.enableCheckpointing(30_000);
  env
    .fromIngest<{ k: string }>("events", { partitions: 2 })
    .keyBy((e) => e.k)
    .process<Fired>({
      processElement(_e, ctx) {
        ctx.timers.registerProcessingTimeTimer(ctx.timers.currentProcessingTime() + 300);
      },
      onTimer(t, ctx) {
        ctx.emit({ k: ctx.key, t });
      },
    })
    .sinkTo("fired");
});

/** Checkpoint ids each partition of the keyed function was told about. */
const notified: number[] = [];
const notifying = defineJob("notifying", (env) => {
  env.enableCheckpointing(200);
  env
    .fromIngest<{ k: string }>("events", { partitions: 2 })
    .keyBy((e) => e.k)
    .process<string>({
      processElement(e, ctx) {
        ctx.emit(e.k);
      },
      notifyCheckpointComplete(id) {
        notified.push(id);
      },
    })
    .sinkTo("out");
});

/** Record 42 always throws and the job restarts on it: its checkpoints time out until the attempts are used up. */
const doomed = defineJob("doomed", (env) => {
  env.enableCheckpointing(200, { timeoutMs: 1000, tolerableFailures: 0 });
  env.setRecordFailureStrategy("restart").setRestartStrategy({ attempts: 2, delayMs: 0 });
  env
    .fromGenerator((i) => i, { count: 100 })
    .map((i) => {
      if (i === 42) throw new Error("42 is cursed");
      return i;
    })
    .sinkTo("out");
});

async function post(l: AwsLocal, job: string, records: unknown[]): Promise<void> {
  const res = await api(l.url as string, `/jobs/${job}/sources/events/events`, { body: JSON.stringify(records) });
  expect(res.status, await res.clone().text()).toBe(202);
}

/** Sink records committed in the keyed task's segments (not yet published: no checkpoint since). */
async function committedFired(l: AwsLocal): Promise<Fired[]> {
  const task = l.plan.tasks.find((t) => t.keyed) as (typeof l.plan.tasks)[number];
  const out: Fired[] = [];
  for (let p = 0; p < task.parallelism; p++) {
    const base = await l.ports.state.readBase(task.id, p);
    for (const seg of await l.ports.state.readSegments(task.id, p, base?.through ?? 0)) {
      out.push(...((seg.sink?.fired ?? []) as Fired[]));
    }
  }
  return out;
}

describe("aws-local: processing-time timers, checkpoint notifications, the restart limit", () => {
  it("fires a due processing-time timer within about a second, long before the next barrier", async () => {
    const l = await jobs.start({ job: timers, parallelism: 2 });
    const record = () => l.ports.checkpoints.loadJob("timers");
    // The first checkpoint is taken at once; the next is due only 30 s later.
    await until("checkpoint 1", async () => ((await record())?.lastCompleted ?? 0) >= 1);
    const sent = Date.now();
    await post(l, "timers", [{ k: "a" }, { k: "b" }, { k: "c" }]);
    await until(
      "three timers fired and committed",
      async () => (await committedFired(l)).length >= 3,
      5000,
      () => describeJob(l),
    );
    expect(Date.now() - sent).toBeLessThan(5000);
    // No barrier went out since checkpoint 1: only ticks can have fired them.
    expect((await record())?.nextCheckpoint).toBe(2);
    expect((await committedFired(l)).map((f) => f.k).sort()).toEqual(["a", "b", "c"]);
    // A checkpoint now (a savepoint's) publishes them, once each.
    const sp = await api(l.url as string, "/jobs/timers/savepoints", { body: JSON.stringify({ name: "after" }) });
    expect(sp.status, await sp.clone().text()).toBe(201);
    const fired = await readOutput<Fired>(l.ports.output, "timers", "fired");
    expect(fired.map((f) => f.k).sort()).toEqual(["a", "b", "c"]);
  }, 120_000);

  it("calls a keyed function's notifyCheckpointComplete with completed checkpoint ids", async () => {
    notified.length = 0;
    const l = await jobs.start({ job: notifying, parallelism: 2 });
    await post(l, "notifying", [{ k: "a" }, { k: "b" }]);
    await until("two outputs", async () => (await readOutput(l.ports.output, "notifying", "out")).length >= 2);
    await until(
      "a notification",
      () => notified.length > 0,
      10_000,
      () => describeJob(l),
    );
    for (const id of new Set(notified)) {
      const m = await l.ports.checkpoints.getManifest("notifying", id);
      expect(m?.status, `checkpoint ${id}`).toBe("completed");
      expect(m?.notified, `checkpoint ${id}`).toBe(true);
    }
  }, 120_000);

  it("fails the job once its restart attempts are used up: the execution ends in JobFailed and the status says why", async () => {
    // aws-local retries a failed message at once: a high receive limit keeps the failing
    // poll in its queue (blocking the barriers behind it) instead of moving it to the DLQ.
    const l = await jobs.start({ job: doomed, parallelism: 1, maxReceiveCount: 1000 });
    const outcome = l.coordinatorDone.then(
      () => "succeeded",
      (e: unknown) => e,
    );
    const result = await Promise.race([outcome, new Promise((r) => setTimeout(() => r("still running"), 45_000))]);
    expect(result, await describeJob(l)).toMatchObject({
      reason: "job-failed",
      message: expect.stringMatching(/ended in JobFailed/),
    });
    const status = (await (await api(l.url as string, "/jobs/doomed")).json()) as {
      failed?: string;
      generation: number;
    };
    expect(status.failed).toMatch(/job 'doomed' failed after 2 restarts/);
    expect(status.generation).toBe(3); // generation 1, then two restores
  }, 120_000);
});
