/**
 * The bursty day on aws-local, compressed: every hour of {@link BURSTY_DAY} lasts
 * `secondsPerHour` seconds and every rate is kept, so the run takes in the day's
 * events divided by the compression factor (3600 / secondsPerHour), each hour at
 * its own rate. Events are Nexmark events posted through the job's ingest control
 * (the call behind `POST /jobs/{job}/sources/events/events`), in one call per
 * 100 ms tick, as a client that batches for 100 ms would; the job keeps per-auction
 * bid aggregates (count, max, sum of price per auction and day, like Nexmark q17)
 * and emits the new aggregate for every bid. It sets a 1 s ingest wake-up window
 * (`ingestWindowMs`, core/control/wake-window.ts): at the day's 10 calls a second the
 * source wakes about once a second and reads the second's events in one batch.
 *
 * What the run measures, all through the job's live cost meter (so every request,
 * Lambda, transition and API call is counted as `GET /jobs/{job}` counts it):
 * - the usage of the whole day, from its start to when every bid's aggregate is
 *   committed (or to 24 h, if later);
 * - the usage of the idle hours: 0–6 h in full, and 22–24 h from 3 checkpoint
 *   intervals after the output was complete (when that leaves 2 s or more);
 * - the coordinator's own usage over the active hours (6–22 h);
 * - the bytes stored in the job's tables at the end.
 * bench/bursty-figures.ts extrapolates these to the full day.
 */

import { defineJob, type Job } from "../core/api/environment.ts";
import { valueState } from "../core/api/state.ts";
import { RiffleError } from "../core/errors.ts";
import { nexmarkEvent } from "../core/nexmark/generator.ts";
import { type Bid, type NexmarkEvent, nexmarkConfig } from "../core/nexmark/model.ts";
import { formatAccounting } from "../functions/aws/accounting-format.ts";
import { addUsage, subtract, type Usage } from "../functions/aws/cost-model.ts";
import { dynamoClient, tableNames } from "../functions/aws/dynamo-client.ts";
import { DynamoOutputStore } from "../functions/aws/dynamo-output-store.ts";
import type { LiveCostMeter } from "../functions/aws/live-cost.ts";
import { type TableBytes, tableBytes } from "../functions/aws/table-size.ts";
import { snapshotUsage } from "../functions/aws/usage.ts";
import { type AwsLocal, startAwsLocal } from "../functions/local/aws-local.ts";
import { BURSTY_DAY, eventsDue } from "./bursty-profile.ts";
import { type BenchEmulators, withEmulators } from "./emulators.ts";

/** Options of {@link runBurstyDay}. */
export interface BurstyOptions {
  /** Seconds each hour of the day lasts. */
  readonly secondsPerHour: number;
  readonly emulators?: BenchEmulators;
  /** Longest wait for the output to be complete after the last events, ms (default 120 s). */
  readonly drainTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** Usage over a stretch of the run. */
export interface Measured {
  readonly usage: Usage;
  readonly seconds: number;
}

/** What the compressed day measured. */
export interface BurstyRun {
  readonly secondsPerHour: number;
  /** Events and bids taken in, and rows committed (one per bid). */
  readonly events: number;
  readonly bids: number;
  readonly rows: number;
  readonly ingestCalls: number;
  readonly largestCall: number;
  /** The job's checkpoint interval, ms. */
  readonly intervalMs: number;
  readonly queues: number;
  /** From the start of the day to the end of the run (24 h, or the output complete if later). */
  readonly total: Measured;
  /** The idle hours measured (0–6 h, and 22–24 h where it could be). */
  readonly idle: Measured;
  /** The coordinator's own usage over the active hours 6–22 h. */
  readonly coordinatorActive: Measured;
  /** Seconds from the last events to the output being complete. */
  readonly drainSeconds: number;
  readonly tableBytes: TableBytes;
}

/** The bench job: per-auction-and-day bid aggregates, one output row per bid. */
const burstyJob: Job = defineJob("bench-bursty", (env) => {
  env.enableCheckpointing(1000);
  // Appends faster than one a second wake the source once a second (core/control/wake-window.ts).
  env.configure({ ingestWindowMs: 1000 });
  env
    .fromIngest<NexmarkEvent>("events", { partitions: 1 })
    .filter((e) => e.type === "bid")
    .map((e) => e as Bid)
    .keyBy((b) => `${b.auction}#${Math.floor(b.dateTime / 86_400_000)}`)
    .process({
      state: { agg: valueState<{ n: number; max: number; sum: number }>() },
      processElement(b, ctx) {
        const a = ctx.state.agg.value() ?? { n: 0, max: 0, sum: 0 };
        const next = { n: a.n + 1, max: Math.max(a.max, b.price), sum: a.sum + b.price };
        ctx.state.agg.update(next);
        ctx.emit({ auction: b.auction, day: Math.floor(b.dateTime / 86_400_000), ...next });
      },
    })
    .sinkTo("result");
});

/** Ingest calls carry at most this many events. */
const MAX_CALL = 500;
const TICK_MS = 100;
const PREFIX = "bburst";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Runs the compressed day; see the module comment. */
export async function runBurstyDay(o: BurstyOptions): Promise<BurstyRun> {
  const log = o.log ?? (() => {});
  return withEmulators(o.emulators, async (e) => {
    const l = await startAwsLocal({
      job: burstyJob,
      parallelism: 1,
      sqsEndpoint: e.sqs,
      dynamoEndpoint: e.dynamo,
      prefix: PREFIX,
      // The deployed machine polls a checkpoint in flight every second (not the local default, 100 ms).
      waitMs: { poll: 1000 },
      log,
    });
    const watcher = dynamoClient(e.dynamo);
    try {
      const meter = l.cost;
      if (!meter) throw new RiffleError("bench-bursty", "the bursty day needs the live cost meter (bench/prices.json)");
      await sleep(2000); // the sources' start and the first round
      return await day(l, meter, o, watcher, log);
    } finally {
      await l.stop();
      watcher.destroy();
    }
  });
}

/** A reading of the meter and the coordinator's part, at a time. */
interface Mark {
  readonly t: number;
  readonly all: Usage;
  readonly coordinator: Usage;
}

const between = (a: Mark, b: Mark, pick: (m: Mark) => Usage): Measured => ({
  usage: subtract(pick(b), pick(a)),
  seconds: (b.t - a.t) / 1000,
});

async function day(
  l: AwsLocal,
  meter: LiveCostMeter,
  o: BurstyOptions,
  watcher: ReturnType<typeof dynamoClient>,
  log: (line: string) => void,
): Promise<BurstyRun> {
  const H = o.secondsPerHour * 1000;
  const mark = (): Mark => ({
    t: performance.now(),
    all: meter.usage(),
    coordinator: snapshotUsage(l.accounting.snapshot("coordinator")),
  });
  const start = mark();
  const at = (hour: number) => start.t + hour * H;
  const fed = await feed(l, at, o.secondsPerHour, mark);
  log(`bursty day: ${fed.events} events (${fed.bids} bids) in ${fed.calls} ingest calls`);
  const { activeEnd, sixHours } = fed;
  const output = new DynamoOutputStore(watcher, tableNames(PREFIX));
  const drainFrom = performance.now();
  const rows = await drain(output, l.plan.job, fed.bids, o.drainTimeoutMs ?? 120_000);
  const drained = performance.now();
  const intervalMs = l.graph.config.checkpoint.intervalMs;
  const idle2From = Math.max(drained + 3 * intervalMs, at(22) + 3 * intervalMs);
  let idle: Measured = between(start, sixHours, (m) => m.all);
  if (at(24) - idle2From >= 2000) {
    await sleep(idle2From - performance.now());
    const from = mark();
    await sleep(at(24) - performance.now());
    const second = between(from, mark(), (m) => m.all);
    idle = { usage: addUsage(idle.usage, second.usage), seconds: idle.seconds + second.seconds };
  } else await sleep(at(24) - performance.now());
  await l.stopWorkers();
  const end = mark();
  for (const origin of l.accounting.origins()) {
    log(`bursty day, ${origin}:\n${formatAccounting(l.accounting.snapshot(origin), undefined)}`);
  }
  return {
    secondsPerHour: o.secondsPerHour,
    events: fed.events,
    bids: fed.bids,
    rows,
    ingestCalls: fed.calls,
    largestCall: fed.largest,
    intervalMs,
    queues: l.plan.tasks.length,
    total: between(start, end, (m) => m.all),
    idle,
    coordinatorActive: between(sixHours, activeEnd, (m) => m.coordinator),
    drainSeconds: Number(((drained - drainFrom) / 1000).toFixed(2)),
    tableBytes: await tableBytes(watcher, tableNames(PREFIX)),
  };
}

/** What {@link feed} sent, with the readings at the first events (6 h) and after the last (22 h). */
interface Fed {
  readonly events: number;
  readonly bids: number;
  readonly calls: number;
  readonly largest: number;
  readonly sixHours: Mark;
  readonly activeEnd: Mark;
}

/** Posts the day's events as they fall due, one call per tick (at most {@link MAX_CALL} events), until 22 h. */
async function feed(l: AwsLocal, at: (hour: number) => number, secondsPerHour: number, mark: () => Mark): Promise<Fed> {
  const cfg = nexmarkConfig({ seed: 7 });
  const k = secondsPerHour / 3600; // events of the run per event of the day
  let sent = 0;
  let bids = 0;
  let calls = 0;
  let largest = 0;
  let sixHours: Mark | undefined;
  for (;;) {
    const hour = (performance.now() - at(0)) / (secondsPerHour * 1000);
    const due = Math.floor(eventsDue(Math.min(hour, 22), BURSTY_DAY) * k);
    if (due > sent && sixHours === undefined) sixHours = mark();
    while (sent < due) {
      const n = Math.min(MAX_CALL, due - sent);
      const batch = Array.from({ length: n }, (_, i) => nexmarkEvent(sent + i, cfg));
      bids += batch.filter((e) => e.type === "bid").length;
      await l.control.ingest("events", batch);
      sent += n;
      calls += 1;
      largest = Math.max(largest, n);
    }
    if (hour >= 22) break;
    await sleep(TICK_MS);
  }
  const activeEnd = mark();
  return { events: sent, bids, calls, largest, sixHours: sixHours ?? activeEnd, activeEnd };
}

/** Waits until the sink holds `want` rows; returns the count. */
async function drain(output: DynamoOutputStore, job: string, want: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let rows = 0;
    let cursor: string | undefined;
    do {
      const page = await output.read(job, "result", cursor === undefined ? {} : { cursor });
      rows += page.values.length;
      cursor = page.cursor;
    } while (cursor !== undefined);
    if (rows >= want) return rows;
    if (performance.now() > deadline) {
      throw new RiffleError("bench-bursty", `bursty day: ${rows} of ${want} rows committed after ${timeoutMs} ms`);
    }
    await sleep(500);
  }
}
