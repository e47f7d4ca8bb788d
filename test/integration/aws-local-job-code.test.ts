/**
 * A mistake in a job's code fails the job on AWS as it does embedded, at once: on
 * the emulators through the real task handlers and the real state machine, a keyed
 * function that writes a `Map` into value state ends the coordinator's execution in
 * JobFailed within seconds (no restart, no envelope left to the SQS DLQ), with
 * `GET /jobs/{job}` naming the state. A poison record under the `dead-letter`
 * strategy is still only dead-lettered: the job goes on and finishes.
 */

import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import type { AwsLocal } from "../../functions/local/aws-local.ts";
import { api, awsLocalJobs, describeJob, readOutput, until } from "../support/aws-local-harness.ts";

const jobs = awsLocalJobs();

/** Record 42 makes the keyed function write a `Map` into its value state. */
const mapInState = defineJob("map-in-state", (env) => {
  env.enableCheckpointing(200);
  env
    .fromGenerator((i) => i, { count: 100 })
    .keyBy((i) => i % 4)
    .process({
      state: { seen: valueState<unknown>() },
      processElement(i, ctx) {
        ctx.state.seen.update(i === 42 ? new Map([["i", i]]) : i);
        ctx.emit(i);
      },
    })
    .uid("remember")
    .sinkTo("out");
});

/** Record 42 always throws, and the job dead-letters failing records. */
const poison = defineJob("poison", (env) => {
  env.enableCheckpointing(200);
  env.setRecordFailureStrategy("dead-letter");
  env
    .fromGenerator((i) => i, { count: 100 })
    .map((i) => {
      if (i === 42) throw new Error("42 is cursed");
      return i;
    })
    .uid("picky")
    .sinkTo("out");
});

interface Status {
  readonly failed?: string;
  readonly finished: boolean;
  readonly generation: number;
}

async function status(l: AwsLocal, job: string): Promise<Status> {
  return (await (await api(l.url as string, `/jobs/${job}`)).json()) as Status;
}

describe("aws-local: a mistake in the job's code fails the job at once", () => {
  it("a Map written to value state ends the execution in JobFailed within seconds, the status naming the state", async () => {
    const lines: string[] = [];
    const l = await jobs.start({ job: mapInState, parallelism: 2, log: (line) => lines.push(line) });
    const t0 = Date.now();
    const outcome = l.coordinatorDone.then(
      () => "succeeded",
      (e: unknown) => e,
    );
    const result = await Promise.race([outcome, new Promise((r) => setTimeout(() => r("still running"), 30_000))]);
    expect(result, await describeJob(l)).toMatchObject({
      reason: "job-failed",
      message: expect.stringMatching(/ended in JobFailed/),
    });
    const ms = Date.now() - t0;
    console.log(`map-in-state: JobFailed ${ms} ms after the job started`);
    expect(ms).toBeLessThan(20_000); // about 4 s on an idle machine; generous under load
    const s = await status(l, "map-in-state");
    expect(s.failed).toMatch(/^job 'map-in-state' failed: .*operator 'remember' wrote a Map to state 'seen'/);
    expect(s.generation).toBe(1); // no restart
    expect(lines.filter((line) => line.startsWith("job 'map-in-state' failed:"))).not.toEqual([]);
    // Nothing was left to SQS's redrive: no envelope reached a dead-letter queue.
    const dlq = (await (await api(l.url as string, "/jobs/map-in-state/dlq")).json()) as { envelopes: unknown[] };
    expect(dlq.envelopes).toEqual([]);
  }, 120_000);

  it("a poison record under the dead-letter strategy is dead-lettered; the job does not fail and finishes", async () => {
    const l = await jobs.start({ job: poison, parallelism: 1 });
    // Finished once the final checkpoint completed; its output is published right after.
    await until(
      "the job finished and its output published",
      async () =>
        (await status(l, "poison")).finished &&
        (await readOutput<number>(l.ports.output, "poison", "out")).length >= 99,
      60_000,
      () => describeJob(l),
    );
    const s = await status(l, "poison");
    expect(s.failed).toBeUndefined();
    const out = await readOutput<number>(l.ports.output, "poison", "out");
    expect(out.sort((a, b) => a - b)).toEqual([...Array(100).keys()].filter((i) => i !== 42));
    const dlq = (await (await api(l.url as string, "/jobs/poison/dlq")).json()) as { records: { error?: string }[] };
    expect(dlq.records).toHaveLength(1);
    expect(JSON.stringify(dlq.records[0])).toMatch(/42 is cursed/);
  }, 120_000);
});
