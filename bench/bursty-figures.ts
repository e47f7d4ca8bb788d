/**
 * The bursty day's figures: the compressed run on the emulators ({@link BurstyRun})
 * split into dollars per idle hour and per million events with the shared cost
 * model, extrapolated to the full day, and set beside Amazon Managed Service for
 * Apache Flink sized for the day's peak and at its 2-KPU floor; and the same
 * comparison over a range of mean rates (the day's shape kept), for the plot.
 */

import {
  type Dollars,
  dollars,
  scale,
  splitCost,
  storageDollarsPerHour,
  subtract,
  type Usage,
  usage,
} from "../functions/aws/cost-model.ts";
import type { Prices } from "../functions/aws/prices.ts";
import { idlePollingDollarsPerHour } from "../functions/aws/usage.ts";
import type { BurstyRun } from "./bursty-day.ts";
import { BURSTY_DAY, dayEvents, idleHours, meanRate, peakRate, type Segment, scaledDay } from "./bursty-profile.ts";
import { flinkKpuDollarsPerHour, flinkKpus, type RateRange, ratesWhere } from "./cost.ts";
import { FLINK_PER_CORE } from "./nexmark.ts";

/** The Nexmark query whose Flink per-core figure sizes Managed Flink for the bursty job (a keyed aggregate per auction and day). */
export const BURSTY_FLINK_QUERY = "q17";

/** Managed Flink on the day: KPUs all day long and what they cost. */
export interface FlinkDay {
  readonly kpus: number;
  readonly dollarsPerDay: number;
}

/** One point of the cost-against-mean-rate curve: dollars per day. */
export interface CostPoint {
  readonly meanRate: number;
  readonly riffle: number;
  readonly flinkPeakSized: number;
  readonly flinkFloor: number;
}

/** The `bursty` part of the aws figures. */
export interface BurstyDayFigure {
  readonly method: string;
  readonly profile: {
    readonly segments: readonly Segment[];
    readonly dayEvents: number;
    readonly meanRate: number;
    readonly peakRate: number;
    readonly idleHours: number;
  };
  readonly run: Omit<BurstyRun, "total" | "idle" | "coordinatorActive" | "tableBytes"> & {
    readonly compression: number;
    readonly seconds: number;
    readonly idleSeconds: number;
  };
  /** Billed quantities per million events and per idle hour, as measured. */
  readonly usagePerMillionEvents: Usage;
  readonly usagePerIdleHour: Usage;
  readonly dollarsPerMillionEvents: Dollars;
  /** Measured idle requests plus AWS's idle mapping polling (modelled). */
  readonly dollarsPerIdleHour: Dollars;
  /** The coordinator's own steps, transitions and requests per hour while events flow. */
  readonly coordinatorDollarsPerActiveHour: number;
  readonly storage: {
    readonly note: string;
    readonly tableBytes: BurstyRun["tableBytes"];
    readonly dayBytes: number;
    readonly dollarsPerDay: number;
  };
  readonly riffle: {
    readonly dollarsPerDay: number;
    readonly idle: number;
    readonly events: number;
    readonly storage: number;
    /** Cross-check: the whole run's dollars × the compression factor, plus 24 h of modelled idle polling. */
    readonly scaledRun: number;
  };
  readonly flink: {
    readonly perCore: number;
    readonly perCoreFrom: string;
    /** List price of a KPU-hour, and running storage per KPU (GB). */
    readonly perKpuHour: number;
    readonly storageGbPerKpu: number;
    readonly peakSized: FlinkDay;
    readonly floor: FlinkDay;
  };
  readonly riffleCheaperThanFlinkFloor: boolean;
  readonly riffleCheaperThanFlinkPeakSized: boolean;
  /** Mean rates (events/s, 1 to 10M) at which riffle's day costs less than Managed Flink sized for the peak. */
  readonly riffleCheaperMeanRates: RateRange[];
  readonly byMeanRate: CostPoint[];
}

const METHOD =
  "Each hour of the day's profile ran for run.secondsPerHour seconds on the emulators at the profile's own rates, so " +
  "the run took in the day's events divided by the compression factor (3600 / secondsPerHour), each at the rate it " +
  "would arrive at. Measured: every billable count of the whole run (from the day's start until every bid's output " +
  "was committed, or 24 h if later) and of its idle hours (0–6 h, and 22–24 h from 3 checkpoint intervals after the " +
  "output was complete). Per idle hour = the idle usage scaled to an hour, plus AWS's idle mapping polling (modelled). " +
  "Per million events = (run total − idle usage rate × run length) / run events. The day = per idle hour × 24 + per " +
  "million events × the day's events + storage. Rates are kept, so batching per call, per envelope and per " +
  "invocation is as it would be on the day; what a compressed run cannot show is anything slower than a few " +
  "seconds (AWS's mapping scaling, the coordinator's rounds being fewer per event when hours are long).";

const r4 = (x: number) => Number(x.toPrecision(4));

/** The figures of a compressed bursty day; see the module comment. */
export function burstyDayFigure(run: BurstyRun, p: Prices): BurstyDayFigure {
  const events = dayEvents();
  const compression = 3600 / run.secondsPerHour;
  const polling = idlePollingDollarsPerHour(run.queues, p);
  const split = splitCost(
    {
      total: run.total.usage,
      seconds: run.total.seconds,
      idle: run.idle,
      events: run.events,
      idleModelPerHour: polling,
    },
    p,
  );
  const perIdleHour = split.perIdleHour ?? dollars(usage(), p);
  const perMillion = split.perMillionEvents ?? dollars(usage(), p);
  const storage = dayStorage(run, compression, p);
  const riffleDay = (mean: number) =>
    perIdleHour.total * 24 + (perMillion.total * mean * 86_400) / 1e6 + storage.perDayAt(mean);
  const perCore = FLINK_PER_CORE[BURSTY_FLINK_QUERY] ?? Number.NaN;
  const flinkAt = (mean: number): FlinkDay => {
    const kpus = flinkKpus(peakRate(scaledDay(mean)), perCore);
    return { kpus, dollarsPerDay: r4(flinkKpuDollarsPerHour(kpus, p) * 24) };
  };
  const floor = { kpus: 2, dollarsPerDay: r4(flinkKpuDollarsPerHour(2, p) * 24) };
  // Managed Flink adds a KPU at every mean rate whose peak is a multiple of the per-core figure.
  const step = perCore / (peakRate() / meanRate());
  const idleRate = run.idle.seconds > 0 ? scale(run.idle.usage, 3600 / run.idle.seconds) : usage();
  const day = riffleDay(meanRate());
  const { total, idle, coordinatorActive, tableBytes, ...rest } = run;
  return {
    method: METHOD,
    profile: {
      segments: BURSTY_DAY,
      dayEvents: events,
      meanRate: meanRate(),
      peakRate: peakRate(),
      idleHours: idleHours(),
    },
    run: { ...rest, compression, seconds: r4(total.seconds), idleSeconds: r4(idle.seconds) },
    usagePerMillionEvents: roundUsage(
      scale(subtract(total.usage, scale(idleRate, total.seconds / 3600)), 1e6 / Math.max(1, run.events)),
    ),
    usagePerIdleHour: roundUsage(idleRate),
    dollarsPerMillionEvents: perMillion,
    dollarsPerIdleHour: perIdleHour,
    coordinatorDollarsPerActiveHour: r4(
      coordinatorActive.seconds > 0
        ? dollars(scale(coordinatorActive.usage, 3600 / coordinatorActive.seconds), p).total
        : 0,
    ),
    storage: {
      note: storage.note,
      tableBytes,
      dayBytes: Math.round(storage.bytesAt(meanRate())),
      dollarsPerDay: r4(storage.perDayAt(meanRate())),
    },
    riffle: {
      dollarsPerDay: r4(day),
      idle: r4(perIdleHour.total * 24),
      events: r4((perMillion.total * events) / 1e6),
      storage: r4(storage.perDayAt(meanRate())),
      scaledRun: r4(dollars(total.usage, p).total * compression + polling * 24),
    },
    flink: {
      perCore,
      perCoreFrom: `${BURSTY_FLINK_QUERY}, NEXMARK.md`,
      perKpuHour: p.managedFlinkPerKpuHour.usd,
      storageGbPerKpu: p.managedFlinkRunningStoragePerGbMonth.gbPerKpu,
      peakSized: flinkAt(meanRate()),
      floor,
    },
    riffleCheaperThanFlinkFloor: day < floor.dollarsPerDay,
    riffleCheaperThanFlinkPeakSized: day < flinkAt(meanRate()).dollarsPerDay,
    riffleCheaperMeanRates: ratesWhere((m) => riffleDay(m) < flinkAt(m).dollarsPerDay, step),
    byMeanRate: curve(riffleDay, (m) => flinkAt(m).dollarsPerDay, floor.dollarsPerDay, step),
  };
}

function roundUsage(u: Usage): Usage {
  const out: Record<string, number> = {};
  for (const k of Object.keys(u) as (keyof Usage)[]) out[k] = r4(u[k]);
  return out as unknown as Usage;
}

/**
 * Stored bytes after one day, an estimate: the ingest log and the output keep every
 * event (no retention yet), so they scale with the day's events (the run's bytes ×
 * the compression factor, × mean / 50 at another mean rate); keyed state,
 * checkpoints and the log table (tombstones expire by TTL) are taken as measured.
 */
function dayStorage(run: BurstyRun, compression: number, p: Prices) {
  const b = run.tableBytes;
  const growing = (b.ingest + b.output) * compression;
  const fixed = b.state + b.checkpoints + b.log;
  const bytesAt = (mean: number) => fixed + (growing * mean) / meanRate();
  return {
    note:
      "estimate: DescribeTable's TableSizeBytes at the end of the run; ingest log and output scaled by the compression " +
      "factor (they keep every event), state, checkpoints and log table as measured; storage and PITR for one day " +
      "(they grow by the ingest and output part every further day, as nothing trims them yet)",
    bytesAt,
    perDayAt: (mean: number) => storageDollarsPerHour(bytesAt(mean), p) * 24,
  };
}

/**
 * Dollars per day at mean rates from 0.1 to 100,000 events/s, 8 points a decade,
 * plus both sides of every mean rate where Managed Flink adds a KPU (`step`), so a
 * plot draws its steps square.
 */
function curve(riffle: (m: number) => number, flink: (m: number) => number, floor: number, step: number): CostPoint[] {
  const rates = new Set<number>();
  for (let e = -1; e <= 5.0001; e += 1 / 8) rates.add(Number((10 ** e).toPrecision(3)));
  for (let m = step; m <= 100_000; m += step) {
    rates.add(Number(m.toPrecision(6)));
    rates.add(Number((m * 1.0001).toPrecision(6)));
  }
  return [...rates]
    .sort((a, b) => a - b)
    .map((m) => ({ meanRate: m, riffle: r4(riffle(m)), flinkPeakSized: r4(flink(m)), flinkFloor: floor }));
}
