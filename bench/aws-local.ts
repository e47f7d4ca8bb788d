/**
 * The AWS path on local emulators: Nexmark q0, q5 and q7 run through the real
 * Lambda handlers on fauxqs (SQS FIFO), DynamoDB Local and the coordinator's state
 * machine in aws-local-stepfunctions (`startAwsLocal`), each with a fixed number of
 * generated events, and an idle ingest job that measures what the job costs while
 * no event arrives (the coordinator's rounds, ticks). Every AWS request is counted
 * by {@link HopAccounting}; bench/aws-figures.ts turns the counts into figures.
 *
 * DynamoDB Local is slow (about 400 sequential puts/s), so the runs are small
 * (thousands of events) and every figure is scaled to one million events.
 */

import type { Job } from "../core/api/environment.ts";
import type { Plan } from "../core/graph/plan.ts";
import { type NexmarkQuery, nexmarkJob } from "../examples/nexmark/lib.ts";
import type { AccountingSnapshot } from "../functions/aws/accounting-snapshot.ts";
import { DynamoCheckpointStore } from "../functions/aws/dynamo-checkpoint-store.ts";
import { dynamoClient, tableNames } from "../functions/aws/dynamo-client.ts";
import { type AwsLocal, startAwsLocal } from "../functions/local/aws-local.ts";
import { HopAccounting, type QueueTraffic } from "./aws-accounting.ts";
import { type AwsQueryFigure, type IdleFigure, idleFigure, queryFigure } from "./aws-figures.ts";
import { runBurstyDay } from "./bursty-day.ts";
import { type BurstyDayFigure, burstyDayFigure } from "./bursty-figures.ts";
import { type ActiveCoordinatorFigure, measureActiveCoordinator } from "./coordinator-active.ts";
import { loadPrices } from "./cost.ts";
import { counterIngestJob } from "./counter-job.ts";
import { type BenchEmulators, withEmulators } from "./emulators.ts";

/** Options of {@link measureAwsLocal}. */
export interface AwsBenchOptions {
  /** Queries of examples/nexmark (default q0, q5, q7). */
  readonly queries?: readonly string[];
  /** Generated events per query. */
  readonly events: number;
  /** How long the idle job runs, in seconds. */
  readonly idleSeconds: number;
  /** How long the active coordinator is measured, in seconds. */
  readonly activeSeconds: number;
  /** Seconds each hour of the bursty day lasts (0: no bursty day). */
  readonly burstySecondsPerHour: number;
  /** Longest wait for one query to finish, in ms (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Coordinator wait between rounds, ms (default: the job's checkpoint interval, 1 s). */
  readonly intervalMs?: number;
  /** Emulators to run on (default: started and stopped here). */
  readonly emulators?: BenchEmulators;
  readonly log?: (line: string) => void;
}

/** The aws-local part of the benchmark. */
export interface AwsBenchFigure {
  readonly note: string;
  readonly prices: { readonly file: string; readonly asOf: string };
  readonly events: number;
  /** Coordinator wait between rounds, ms. */
  readonly intervalMs: number;
  readonly idle: IdleFigure;
  /** The coordinator while a job keeps it busy, a checkpoint a second. */
  readonly activeCoordinator: ActiveCoordinatorFigure;
  readonly queries: AwsQueryFigure[];
  /** The bursty day, compressed and extrapolated (absent when not run). */
  readonly bursty?: BurstyDayFigure;
}

const NOTE =
  "aws-local: real task and coordinator handlers on fauxqs (SQS FIFO), DynamoDB Local and aws-local-stepfunctions, " +
  "parallelism 1, checkpoint every 1 s, one process on this machine. Runs are small because DynamoDB Local is slow " +
  "(about 400 sequential puts/s); every count is scaled to one million events. Requests, bytes and billed units are " +
  "counted in the AWS SDK (DynamoDB units as DynamoDB Local reports them, or estimated from item sizes where it " +
  "reports fewer than AWS's rules give). Lambda duration is the handler's wall time against the emulators, at 1024 MB (the round function at 256 MB). " +
  "'own' = requests riffle's handlers and the event source mapping's deletes make; 'polling' = the emulated mapping's " +
  "ReceiveMessage calls (a 20 ms poll loop on fauxqs, which returns one message per group per receive): not what AWS's " +
  "mapping does, so not priced; the dollar figures price one ReceiveMessage per delivered message instead.";

/** Runs the queries and the idle job on one fauxqs and one DynamoDB Local. */
export async function measureAwsLocal(o: AwsBenchOptions): Promise<AwsBenchFigure> {
  const log = o.log ?? (() => {});
  const prices = loadPrices();
  const waitMs = o.intervalMs === undefined ? undefined : { interval: o.intervalMs, poll: 50 };
  return withEmulators(o.emulators, async (e) => {
    const run = { sqsEndpoint: e.sqs, dynamoEndpoint: e.dynamo, log, ...(waitMs ? { waitMs } : {}) };
    const idleRun = await runIdle(run, o.idleSeconds);
    const idle = idleFigure(idleRun.snapshot, idleRun.seconds, idleRun.queues, prices, idleRun.asleepAfter);
    const activeCoordinator = await measureActiveCoordinator(e, o.activeSeconds, prices);
    log(`aws-local active coordinator: $${activeCoordinator.dollarsPerHour.total} per hour`);
    const queries: AwsQueryFigure[] = [];
    for (const q of o.queries ?? ["q0", "q5", "q7"]) {
      const { query } = (await import(`../examples/nexmark/${q}.ts`)) as { query: NexmarkQuery };
      const job = nexmarkJob(`bench-aws-${q}`, query, { events: o.events, seed: 7 });
      const result = await runToEnd(job, run, `b${q}`, o.timeoutMs ?? 600_000);
      queries.push(queryFigure({ query: q, events: o.events, ...result }, idle, prices));
      log(`aws-local ${q}: ${o.events} events in ${result.seconds.toFixed(2)} s`);
    }
    const bursty =
      o.burstySecondsPerHour > 0
        ? burstyDayFigure(await runBurstyDay({ secondsPerHour: o.burstySecondsPerHour, emulators: e, log }), prices)
        : undefined;
    return {
      note: NOTE,
      prices: { file: "bench/prices.json", asOf: prices.asOf },
      events: o.events,
      intervalMs: o.intervalMs ?? 1000,
      idle,
      activeCoordinator,
      queries,
      ...(bursty ? { bursty } : {}),
    };
  });
}

/** Where and how a run deploys. */
interface RunPlace {
  readonly sqsEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly waitMs?: { readonly interval: number; readonly poll: number };
  readonly log: (line: string) => void;
}

/** What one run leaves for the figures. */
export interface AwsRun {
  /** Every request of the run (not the read-back of the output). */
  readonly snapshot: AccountingSnapshot;
  /** Records and messages that reached each queue URL. */
  readonly traffic: Record<string, QueueTraffic>;
  /** From the deployment being up to the final checkpoint's manifest. */
  readonly seconds: number;
  /** Creating the queues and tables and starting the workers (counted in the snapshot as setup). */
  readonly startSeconds: number;
  readonly plan: Plan;
  readonly queues: AwsLocal["queues"];
  /** Rows committed to the sink. */
  readonly rows: number;
}

async function runToEnd(job: Job, place: RunPlace, prefix: string, timeoutMs: number): Promise<AwsRun> {
  const accounting = new HopAccounting();
  // Completion is watched through a client of its own, so the watching is not counted.
  const watcher = dynamoClient(place.dynamoEndpoint);
  const store = new DynamoCheckpointStore(watcher, tableNames(prefix));
  const t0 = performance.now();
  const l = await startAwsLocal({ job, parallelism: 1, ...place, prefix, accounting });
  const t1 = performance.now();
  try {
    const name = l.plan.job;
    for (;;) {
      const record = await store.loadJob(name);
      const last = record?.lastCompleted ? await store.getManifest(name, record.lastCompleted) : undefined;
      if (last?.final === true && last.generation === record?.generation) break;
      if (performance.now() - t0 > timeoutMs) {
        throw new Error(`aws-local bench: job '${name}' did not finish within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - t1) / 1000;
    const startSeconds = (t1 - t0) / 1000;
    await l.stopWorkers();
    const snapshot = accounting.snapshot(); // before the output is read back
    const traffic = accounting.queueTraffic();
    let rows = 0;
    let cursor: string | undefined;
    do {
      const page = await l.ports.output.read(name, "result", cursor === undefined ? {} : { cursor });
      rows += page.values.length;
      cursor = page.cursor;
    } while (cursor !== undefined);
    return { snapshot, traffic, seconds, startSeconds, plan: l.plan, queues: l.queues, rows };
  } finally {
    await l.stop();
    watcher.destroy();
  }
}

/** An ingest job (one partition → keyed counter → sink) that receives nothing. */
const idleJob: Job = counterIngestJob("bench-aws-idle");

/** Runs {@link idleJob} for `seconds` once it is up and its coordinator first slept, counting from then on. */
async function runIdle(
  place: RunPlace,
  seconds: number,
): Promise<{ snapshot: AccountingSnapshot; seconds: number; queues: number; asleepAfter: number }> {
  const l = await startAwsLocal({ job: idleJob, parallelism: 1, ...place, prefix: "bidle" });
  try {
    // The start (the sources' start signals, the first checkpoints) is not idle: measure from when the
    // coordinator first sleeps (scale to zero), or after 30 s if it never does (then its rounds count).
    await new Promise((r) => setTimeout(r, 1500));
    const up = performance.now();
    while (performance.now() - up < 30_000 && !l.coordinatorAsleep()) await new Promise((r) => setTimeout(r, 100));
    const asleepAfter = 1.5 + (performance.now() - up) / 1000;
    l.accounting.reset();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    await l.stopWorkers();
    return { snapshot: l.accounting.snapshot(), seconds: elapsed, queues: l.plan.tasks.length, asleepAfter };
  } finally {
    await l.stop();
  }
}
