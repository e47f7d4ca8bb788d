/**
 * The benchmark's side of the cost model: the naive
 * one-message-one-write-per-event-per-hop design, Amazon Managed Service for Apache
 * Flink at Flink's per-core throughput (KPUs and their running storage), and the
 * rates at which riffle is the cheaper of the two. AWS prices and the pricing of
 * counted usage are shared with the live cost (functions/aws/prices.ts,
 * cost-model.ts); they are re-exported here for the benchmark's modules.
 */

import { HOURS_PER_MONTH, usd } from "../functions/aws/cost-model.ts";
import type { Prices } from "../functions/aws/prices.ts";

export {
  addUsage,
  type Dollars,
  dollars,
  scale,
  splitCost,
  storageDollarsPerHour,
  subtract,
  type Usage,
  usage,
} from "../functions/aws/cost-model.ts";
export { loadPrices, type Price, type Prices } from "../functions/aws/prices.ts";

/** Invocation counts of the coordinator's Lambdas in a run: one per round, and continue-as-new. */
export interface CoordinatorSteps {
  readonly round: number;
  readonly continueAsNew: number;
}

/**
 * The naive design on the same traffic: one SQS message (one billed request) and
 * one DynamoDB write (1 WRU) per record per hop, where `recordsPerHop` lists the
 * records that entered each task. Its receives, deletes, reads and Lambda time
 * are left out, so this is a lower bound of the naive design's cost.
 */
export function naiveDollarsPerMillion(recordsPerHopPerEvent: readonly number[], p: Prices): number {
  const perEvent = recordsPerHopPerEvent.reduce((a, b) => a + b, 0);
  return usd(perEvent * (p.sqsFifoPerMillionRequests.usd + p.dynamodbOnDemandPerMillionWriteRequestUnits.usd));
}

/** Managed Service for Apache Flink: KPUs for `eventsPerSec` at `perCore` events/s per KPU, plus one orchestration KPU. */
export function flinkKpus(eventsPerSec: number, perCore: number): number {
  // A hair of tolerance: a rate that is a multiple of perCore up to rounding needs no extra KPU.
  return Math.max(1, Math.ceil(eventsPerSec / perCore - 1e-9)) + 1;
}

/** Dollars per hour of Managed Flink's running storage for `kpus` KPUs (the orchestration KPU has none). */
export function flinkStorageDollarsPerHour(kpus: number, p: Prices): number {
  const s = p.managedFlinkRunningStoragePerGbMonth;
  return (Math.max(0, kpus - 1) * s.gbPerKpu * s.usd) / HOURS_PER_MONTH;
}

/** Dollars per hour of `kpus` KPUs of Managed Flink, running storage included. */
export function flinkKpuDollarsPerHour(kpus: number, p: Prices): number {
  return kpus * p.managedFlinkPerKpuHour.usd + flinkStorageDollarsPerHour(kpus, p);
}

/** Dollars per hour of Managed Flink at `eventsPerSec`, running storage included. */
export function flinkDollarsPerHour(eventsPerSec: number, perCore: number, p: Prices): number {
  return flinkKpuDollarsPerHour(flinkKpus(eventsPerSec, perCore), p);
}

/** Dollars per hour of riffle at `eventsPerSec`: a fixed part plus a part per event. */
export function riffleDollarsPerHour(eventsPerSec: number, fixedPerHour: number, perMillionEvents: number): number {
  return fixedPerHour + (perMillionEvents * eventsPerSec * 3600) / 1e6;
}

/** A range of input rates, events/s (`to` undefined: up to the end of the scan). */
export interface RateRange {
  readonly from: number;
  readonly to: number | undefined;
}

/**
 * The input rates, from 1 to 10M events/s, at which riffle costs less per hour than
 * Managed Flink (both at a steady rate).
 */
export function riffleCheaperRanges(
  fixedPerHour: number,
  perMillionEvents: number,
  flinkPerCore: number,
  p: Prices,
): RateRange[] {
  return ratesWhere(
    (r) => riffleDollarsPerHour(r, fixedPerHour, perMillionEvents) < flinkDollarsPerHour(r, flinkPerCore, p),
    flinkPerCore,
  );
}

/**
 * The rates, from 1 to 10M events/s, where `holds`. Scans a log grid, plus every
 * multiple of `step` and the rate after it (where Flink's cost steps up), and
 * bisects every change to 1 event/s.
 */
export function ratesWhere(holds: (rate: number) => boolean, step: number): RateRange[] {
  const MAX = 10_000_000;
  const ranges: RateRange[] = [];
  let prev = 1;
  let inside = holds(prev);
  let start: number | undefined = inside ? 1 : undefined;
  const grid = new Set<number>();
  for (let r = 1; r < MAX; r *= 1.02) grid.add(Math.round(r));
  for (let r = Math.max(1, Math.floor(step)); r <= MAX; r += Math.max(1, Math.floor(step))) {
    grid.add(r);
    grid.add(r + 1);
  }
  for (const r of [...grid].sort((a, b) => a - b)) {
    const now = holds(r);
    if (now !== inside) {
      let lo = prev;
      let hi = r;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (holds(mid) === inside) lo = mid;
        else hi = mid;
      }
      if (inside) ranges.push({ from: start as number, to: lo });
      else start = hi;
      inside = now;
    }
    prev = r;
  }
  if (inside) ranges.push({ from: start as number, to: undefined });
  return ranges;
}
