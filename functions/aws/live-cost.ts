/**
 * The live cost of a running job, priced from its {@link RequestAccounting} with the
 * shared cost model: what `GET /jobs/{job}` reports as `cost` on aws-local.
 *
 * Definitions (the meter samples the accounting every `sampleMs`):
 *
 * - **Events** are the records appended by ingest calls since the meter started.
 *   Each ingest call also counts as one API Gateway request and one invocation of
 *   the API Lambda (`<job>-api`, the call's duration at 1024 MB).
 * - **Idle window.** The job is idle from `quietMs` after the last ingest call
 *   ended (or after the meter started, before any ingest) until the next ingest
 *   call starts. `quietMs` leaves time for the last events to be processed and
 *   committed, so that work is charged to events, not to idleness. A window opens
 *   at the first sample taken once the job is idle, and closes at the last sample
 *   taken before the next ingest call began, so no ingest request falls inside it.
 * - **Idle cost per hour** is every billable count inside the idle window (riffle's
 *   own requests: coordinator rounds, their state transitions and Lambda steps, the
 *   task invocations their barriers cause and all their DynamoDB and SQS requests;
 *   not the emulated mapping's polling, not setup) scaled to an hour, plus AWS's
 *   idle mapping polling, modelled ({@link idlePollingDollarsPerHour}). It is the
 *   open window's once that is at least `minIdleMs` long, else the last closed
 *   window of that length, else null. `idleWindow.coordinatorPerHour` is the part
 *   the coordinator's steps, their clients and its state machine caused (origin
 *   `coordinator`).
 * - **Cost per million events** is (everything since the start − idle cost per
 *   hour × hours since the start) / events × 1M: what events add on top of the
 *   idle rate. Before any idle window is measured, the idle rate counts as 0.
 */

import type { CostDollars, JobCost } from "../../core/control/job-control.ts";
import type { CostProvider } from "../../core/control/store-control.ts";
import { ORIGINS, type RequestAccounting } from "./accounting.ts";
import type { AccountingSnapshot } from "./accounting-snapshot.ts";
import { dollars, scale, splitCost, storageDollarsPerHour, subtract, type Usage, usd } from "./cost-model.ts";
import type { Prices } from "./prices.ts";
import { deliveredMessages, idlePollingDollarsPerHour, snapshotUsage } from "./usage.ts";

/** Options of {@link LiveCostMeter}. */
export interface LiveCostOptions {
  readonly accounting: RequestAccounting;
  readonly prices: Prices;
  /** The job id (names the API Lambda `<job>-api`). */
  readonly job: string;
  /** Task queues, for the modelled idle polling. */
  readonly queues: number;
  /** From the end of the last ingest call to the start of an idle window, ms. */
  readonly quietMs: number;
  /** Shortest idle window reported, ms (default 10 s). */
  readonly minIdleMs?: number;
  /** Between two samples of the accounting, ms (default 1 s). */
  readonly sampleMs?: number;
  /** The job's stored bytes (an estimate), for `storage`; absent: no storage figure. */
  readonly storageBytes?: () => Promise<number>;
  /** Origin of the coordinator's counts in the accounting (default `coordinator`). */
  readonly coordinatorOrigin?: string;
  /** Clock in ms (default `Date.now`). */
  readonly now?: () => number;
}

/** Lambda memory assumed for the API function's GB-seconds. */
const API_MEMORY_MB = 1024;

const BASIS =
  "live request accounting on aws-local, priced at the list prices of bench/prices.json (no free tier): riffle's own " +
  "SQS billed requests plus one ReceiveMessage per delivered message (AWS's mapping, modelled; the emulator's polling " +
  "is not priced), DynamoDB request units, every Lambda invocation and its GB-s at its memory (tasks 1024 MB, the coordinator round 256 MB; handler time against the " +
  "emulators; one API Lambda per ingest call), Step Functions by workflow type, one API Gateway request per ingest " +
  "call; idle hours add AWS's idle mapping polling (900 ReceiveMessage per queue-hour, modelled). Left out: " +
  "CloudWatch, data transfer; storage is given apart, as an estimate";

/** One reading of the accounting. */
interface Sample {
  readonly t: number;
  readonly all: Usage;
  readonly coordinator: Usage;
}

/** A finished or open idle window: its length and what it cost. */
interface Window {
  readonly seconds: number;
  readonly all: Usage;
  readonly coordinator: Usage;
}

/** Prices a job's accounting as it runs; see the module comment. */
export class LiveCostMeter implements CostProvider {
  private readonly o: LiveCostOptions;
  private readonly now: () => number;
  private readonly started: number;
  private events = 0;
  private apiRequests = 0;
  private lastIngestEnd: number | undefined;
  private latest: Sample;
  /** The sample before {@link latest} (an ingest call may have begun between the two). */
  private previous: Sample;
  private windowStart: Sample | undefined;
  private lastWindow: Window | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: LiveCostOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.latest = this.read();
    this.previous = this.latest;
  }

  /** Starts sampling every `sampleMs` (the timer does not keep the process alive); returns the stop. */
  start(): () => void {
    this.timer ??= setInterval(() => this.sample(), this.o.sampleMs ?? 1000);
    this.timer.unref?.();
    return () => this.stop();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the accounting: opens an idle window once the job has been quiet for `quietMs`. */
  sample(): void {
    this.previous = this.latest;
    this.latest = this.read();
    const quietSince = (this.lastIngestEnd ?? this.started) + this.o.quietMs;
    if (this.windowStart === undefined && this.latest.t >= quietSince) this.windowStart = this.latest;
  }

  /** An ingest call appended `records` in `durationMs`: closes the idle window before it, counts its events. */
  ingested(records: number, durationMs: number): void {
    const end = this.now();
    const start = end - durationMs;
    const open = this.windowStart;
    const last = this.latest.t <= start ? this.latest : this.previous;
    if (open !== undefined && last.t <= start && last.t >= open.t) {
      const w = span(open, last);
      if (w.seconds * 1000 >= (this.o.minIdleMs ?? 10_000)) this.lastWindow = w;
    }
    this.windowStart = undefined;
    this.lastIngestEnd = end;
    this.events += records;
    this.apiRequests += 1;
    this.o.accounting.recordInvocation(`${this.o.job}-api`, durationMs, API_MEMORY_MB, ORIGINS.api);
  }

  /** Everything billable counted so far: the accounting, modelled receives, API requests. */
  usage(): Usage {
    return this.total(this.o.accounting.snapshot());
  }

  /** Events counted so far. */
  eventCount(): number {
    return this.events;
  }

  /** The job's cost so far; see the module comment. */
  async cost(): Promise<JobCost> {
    this.sample();
    const p = this.o.prices;
    const now = this.latest;
    const seconds = (now.t - this.started) / 1000;
    const open = this.windowStart ? span(this.windowStart, now) : undefined;
    const current = open !== undefined && open.seconds * 1000 >= (this.o.minIdleMs ?? 10_000);
    const idle = current ? open : this.lastWindow;
    const polling = idlePollingDollarsPerHour(this.o.queues, p);
    const split = splitCost(
      {
        total: now.all,
        seconds,
        ...(idle && idle.seconds > 0 ? { idle: { usage: idle.all, seconds: idle.seconds } } : {}),
        events: this.events,
        idleModelPerHour: polling,
      },
      p,
    );
    const bytes = this.o.storageBytes ? await this.o.storageBytes() : undefined;
    return {
      currency: "USD",
      basis: BASIS,
      since: this.started,
      seconds: Number(seconds.toFixed(1)),
      events: this.events,
      dollars: asCost(dollars(now.all, p)),
      perMillionEvents: split.perMillionEvents ? asCost(split.perMillionEvents) : null,
      perIdleHour: split.perIdleHour ? asCost(split.perIdleHour) : null,
      idleWindow:
        idle && idle.seconds > 0
          ? {
              seconds: Number(idle.seconds.toFixed(1)),
              current,
              coordinatorPerHour: dollars(scale(idle.coordinator, 3600 / idle.seconds), p).total,
            }
          : null,
      ...(bytes === undefined ? {} : { storage: { bytes, dollarsPerHour: usd(storageDollarsPerHour(bytes, p)) } }),
    };
  }

  private total(s: AccountingSnapshot): Usage {
    return snapshotUsage(s, { sqsRequests: deliveredMessages(s), apiRequests: this.apiRequests });
  }

  private read(): Sample {
    const a = this.o.accounting;
    return {
      t: this.now(),
      all: this.total(a.snapshot()),
      coordinator: snapshotUsage(a.snapshot(this.o.coordinatorOrigin ?? ORIGINS.coordinator)),
    };
  }
}

function span(from: Sample, to: Sample): Window {
  return {
    seconds: Math.max(0, (to.t - from.t) / 1000),
    all: subtract(to.all, from.all),
    coordinator: subtract(to.coordinator, from.coordinator),
  };
}

const asCost = (d: ReturnType<typeof dollars>): CostDollars => ({ ...d });
