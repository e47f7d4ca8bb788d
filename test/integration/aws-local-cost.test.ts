/**
 * The live cost on aws-local: `GET /jobs/{job}` carries a `cost` priced from the
 * deployment's request accounting. Before any event there is no per-event figure;
 * after ingest over HTTP every service shows in the cost per million events; once
 * the job has been idle long enough, the cost per idle hour is the coordinator's
 * rounds (Step Functions above all).
 */

import { describe, expect, it } from "vitest";
import type { JobCost } from "../../core/control/job-control.ts";
import clicks from "../../examples/clicks.ts";
import type { AwsLocal } from "../../functions/local/aws-local.ts";
import { api, awsLocalJobs, clickBatches, readOutput, total, until } from "../support/aws-local-harness.ts";

const jobs = awsLocalJobs();

async function cost(l: AwsLocal): Promise<JobCost> {
  const res = await api(l.url as string, "/jobs/clicks");
  expect(res.status).toBe(200);
  const status = (await res.json()) as { cost?: JobCost };
  expect(status.cost, "GET /jobs/clicks has a cost").toBeDefined();
  return status.cost as JobCost;
}

describe("aws-local: the live cost in GET /jobs/{job}", () => {
  it("reports cost per million events after ingest and per idle hour once idle", async () => {
    // Idle from 8 s after the last ingest (so the start-up is no idle window), counted from 2 s on.
    const l = await jobs.start({
      job: clicks,
      parallelism: 2,
      cost: { quietMs: 8000, minIdleMs: 2000, sampleMs: 100 },
    });
    const before = await cost(l);
    expect(before).toMatchObject({ currency: "USD", events: 0, perMillionEvents: null });
    expect(before.basis).toMatch(/live request accounting on aws-local/);

    const { batches, counts } = clickBatches(5, 20);
    for (const b of batches) {
      const res = await api(l.url as string, "/jobs/clicks/sources/clicks/events", { body: JSON.stringify(b) });
      expect(res.status).toBe(202);
    }
    const want = total(counts);
    // No idle window yet: everything so far is charged to the events, every service included.
    const ingested = await cost(l);
    expect(ingested.events).toBe(want);
    expect(ingested.idleWindow).toBeNull();
    for (const service of ["sqs", "dynamodb", "lambda", "apiGateway", "total"]) {
      expect(ingested.perMillionEvents?.[service], `per million events: ${service}`).toBeGreaterThan(0);
    }
    await until(
      "all counts committed",
      async () => (await readOutput(l.ports.output, "clicks", "counts")).length >= want,
    );
    const after = await cost(l);
    expect(after.events).toBe(want);
    expect(after.perMillionEvents?.total).toBeGreaterThan(0);
    expect(after.dollars.total).toBeGreaterThan(after.dollars.apiGateway ?? 0);
    expect(after.storage?.bytes).toBeGreaterThan(0);
    expect(after.storage?.dollarsPerHour).toBeGreaterThan(0);

    let idle: JobCost | undefined;
    await until("an idle window of 2 s", async () => {
      idle = await cost(l);
      return idle.idleWindow?.current === true;
    });
    // Scale to zero: the quiet job's coordinator sleeps, so an idle hour has no coordinator
    // rounds and no state transitions. (What is left is the local mappings' polling, every
    // 20 ms here, which AWS's mapping does not do.)
    expect(idle?.idleWindow?.seconds).toBeGreaterThanOrEqual(2);
    expect(idle?.perIdleHour?.stepFunctions ?? 0).toBe(0);
    expect(idle?.idleWindow?.coordinatorPerHour ?? 0).toBe(0);
    expect(idle?.perMillionEvents?.total).toBeGreaterThan(0);
  }, 120_000);
});
