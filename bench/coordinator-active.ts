/**
 * The active coordinator on aws-local: what the coordinator's own requests cost per
 * hour while a job keeps it busy, a checkpoint every second. An ingest job (1
 * partition → keyed counter → sink, 2 tasks) gets one event a second, so every round
 * has a checkpoint to complete and publish, and what events add to the coordinator's
 * work (output rows, keyed values folded by compaction) stays small. The state
 * machines wait as deployed (the interval, and 1 s between polls of a checkpoint in
 * flight), not the shortened local waits. Everything the coordinator causes is
 * counted under its origin: its Step Functions transitions and Express executions,
 * its round Lambda (invocations and GB-s at the job's coordinatorMemoryMb, default 256 MB, timed against DynamoDB Local),
 * its DynamoDB requests and its SQS sends.
 */

import type { Job } from "../core/api/environment.ts";
import { type Dollars, dollars, scale, type Usage } from "../functions/aws/cost-model.ts";
import type { Prices } from "../functions/aws/prices.ts";
import { snapshotUsage } from "../functions/aws/usage.ts";
import { startAwsLocal } from "../functions/local/aws-local.ts";
import { coordinatorSteps } from "./aws-figures.ts";
import { counterIngestJob } from "./counter-job.ts";
import type { BenchEmulators } from "./emulators.ts";

/** The `activeCoordinator` part of the aws figures. */
export interface ActiveCoordinatorFigure {
  readonly note: string;
  /** How long the coordinator was measured, and the events it got meanwhile. */
  readonly seconds: number;
  readonly events: number;
  /** Round Lambda invocations, and checkpoints completed, in the window. */
  readonly rounds: number;
  readonly checkpoints: number;
  /** Per round: DynamoDB requests by operation, and the billed usage. */
  readonly dynamoRequestsPerRound: Record<string, number>;
  readonly usagePerRound: Usage;
  readonly usagePerHour: Usage;
  /** The coordinator's dollars per hour as run, by service. */
  readonly dollarsPerHour: Dollars;
  /** Rounds a second as run (a round waits the interval after the previous one ended, so fewer than 1). */
  readonly roundsPerSecond: number;
  /**
   * At one round a second (3,600 checkpoints an hour): what each round causes (DynamoDB,
   * Lambda, SQS) × 3,600, plus what the time causes (Express GB-s, Standard
   * transitions, Express requests) as measured per hour.
   */
  readonly dollarsPerHourAtOneRoundPerSecond: Dollars;
}

/** Usage that each round causes; the rest (Step Functions) goes with time. */
const PER_ROUND: readonly (keyof Usage)[] = [
  "sqsRequests",
  "dynamoWriteUnits",
  "dynamoReadUnits",
  "lambdaInvocations",
  "lambdaGbSeconds",
];

/** `perHour` with the per-round parts replaced by `perRound` × 3,600. */
function atOneRoundPerSecond(perRound: Usage, perHour: Usage): Usage {
  const out: Record<string, number> = { ...perHour };
  for (const k of PER_ROUND) out[k] = perRound[k] * 3600;
  return out as unknown as Usage;
}

/** An ingest job with a keyed counter: the same shape as the idle job of bench/aws-local.ts. */
const activeJob: Job = counterIngestJob("bench-aws-active");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sig = (x: number) => Number(x.toPrecision(4));

/** Runs {@link activeJob} on `e` for `seconds` once it is up, one event a second, and prices the coordinator's part. */
export async function measureActiveCoordinator(
  e: BenchEmulators,
  seconds: number,
  p: Prices,
): Promise<ActiveCoordinatorFigure> {
  const l = await startAwsLocal({
    job: activeJob,
    parallelism: 1,
    sqsEndpoint: e.sqs,
    dynamoEndpoint: e.dynamo,
    prefix: "bactive",
    waitMs: { interval: 1000, poll: 1000 },
    cost: false,
  });
  let events = 0;
  let feeding = true;
  const feed = (async () => {
    while (feeding) {
      await l.control.ingest("events", [{ k: `k${events % 10}` }]);
      events += 1;
      await sleep(1000);
    }
  })();
  try {
    // The start (the sources' start signals) is not the loop: measure from the first completed checkpoint.
    const completed = async () => (await l.ports.checkpoints.loadJob(l.plan.job))?.lastCompleted ?? 0;
    const up = performance.now();
    while ((await completed()) === 0 && performance.now() - up < 30_000) await sleep(100);
    const checkpointsBefore = await completed();
    const eventsBefore = events;
    l.accounting.reset();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const snapshot = l.accounting.snapshot("coordinator");
    const elapsed = (performance.now() - t0) / 1000;
    const checkpoints = ((await l.ports.checkpoints.loadJob(l.plan.job))?.lastCompleted ?? 0) - checkpointsBefore;
    const rounds = Math.max(1, coordinatorSteps(snapshot).round);
    const usage = snapshotUsage(snapshot);
    const perHour = scale(usage, 3600 / elapsed);
    const dynamo = snapshot.services.DynamoDB ?? {};
    return {
      note:
        "an ingest job (1 partition → keyed counter → sink, 2 tasks) fed one event a second, checkpoint every 1 s, " +
        "the state machines waiting as deployed (1 s); the coordinator's own usage: Step Functions (Standard " +
        "transitions, Express requests and GB-s), its round Lambda (at coordinatorMemoryMb, default 256 MB, timed against DynamoDB Local), its " +
        "DynamoDB requests and SQS sends",
      seconds: sig(elapsed),
      events: events - eventsBefore,
      rounds,
      checkpoints,
      dynamoRequestsPerRound: Object.fromEntries(
        Object.entries(dynamo).map(([op, c]) => [op, sig(c.requests / rounds)]),
      ),
      usagePerRound: roundUsage(scale(usage, 1 / rounds)),
      usagePerHour: roundUsage(perHour),
      dollarsPerHour: dollars(perHour, p),
      roundsPerSecond: sig(rounds / elapsed),
      dollarsPerHourAtOneRoundPerSecond: dollars(atOneRoundPerSecond(scale(usage, 1 / rounds), perHour), p),
    };
  } finally {
    feeding = false;
    await feed.catch(() => {});
    await l.stop();
  }
}

function roundUsage(u: Usage): Usage {
  return Object.fromEntries(Object.entries(u).map(([k, v]) => [k, sig(v)])) as unknown as Usage;
}
