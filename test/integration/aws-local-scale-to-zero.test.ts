/**
 * Scale to zero on the AWS runtime (emulators): a quiet job's coordinator sleeps —
 * no checkpoint rounds, no Lambda calls, no DynamoDB requests — and the next ingest
 * wakes it exactly once, after which the new input is checkpointed and committed.
 */

import { describe, expect, it } from "vitest";
import clicks from "../../examples/clicks.ts";
import type { AwsLocal } from "../../functions/local/aws-local.ts";
import {
  api,
  awsLocalJobs,
  clickBatches,
  describeJob,
  expectExactlyOnce,
  readOutput,
  total,
  until,
} from "../support/aws-local-harness.ts";

type Count = { user: string; n: number };

const jobs = awsLocalJobs();

const coordinatorCalls = (l: AwsLocal) =>
  Object.entries(l.accounting.snapshot().lambda)
    .filter(([fn]) => fn.includes("-coordinator-"))
    .reduce((n, [, s]) => n + s.invocations, 0);
const dynamoRequests = (l: AwsLocal) =>
  Object.values(l.accounting.snapshot().services.DynamoDB ?? {}).reduce((n, s) => n + s.requests, 0);

describe("aws-local: scale to zero", () => {
  it("sleeps when quiet (nothing runs for seconds), and one ingest wakes it exactly once", async () => {
    const l = await jobs.start({ job: clicks, parallelism: 1 });
    const ingest = async (batch: unknown[]) => {
      const res = await api(l.url as string, "/jobs/clicks/sources/clicks/events", { body: JSON.stringify(batch) });
      expect(res.status, await res.clone().text()).toBe(202);
    };
    const counts = () => readOutput<Count>(l.ports.output, "clicks", "counts");
    const first = clickBatches(2, 10);
    for (const b of first.batches) await ingest(b);
    await until("the first counts", async () => (await counts()).length >= total(first.counts));
    // Before it sleeps it seals the logs (a fold and a few writes per partition): seconds on a loaded machine.
    await until(
      "the coordinator asleep",
      async () => l.coordinatorAsleep(),
      60_000,
      () => describeJob(l),
    );
    // One execution, or more if it already slept between the first ingests (a loaded machine spaces them).
    const asleep = l.coordinatorExecutions();
    expect(asleep).toBeGreaterThanOrEqual(1);
    // Quiet: nothing is called and nothing is read or written for 3 s.
    const calls = coordinatorCalls(l);
    const requests = dynamoRequests(l);
    await new Promise((r) => setTimeout(r, 3000));
    expect(coordinatorCalls(l)).toBe(calls);
    expect(dynamoRequests(l)).toBe(requests);
    // Concurrent ingests wake it once; the new input is checkpointed and committed.
    const second = clickBatches(3, 10, 6, 1000);
    await Promise.all(second.batches.map(ingest));
    const want: Record<string, number> = { ...first.counts };
    for (const [u, n] of Object.entries(second.counts)) want[u] = (want[u] ?? 0) + n;
    await until("the second counts", async () => (await counts()).length >= total(want), 30_000);
    expectExactlyOnce(await counts(), want);
    expect(l.coordinatorExecutions()).toBe(asleep + 1);
    const record = await l.ports.checkpoints.loadJob("clicks");
    expect(record?.wakes).toBe(asleep); // every execution after the first was a wake
  }, 240_000); // its waits add up to 138 s, and a loaded machine takes 30 s and more to start the job
});
