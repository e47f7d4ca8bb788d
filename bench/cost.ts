/**
 * The cost model of the benchmark: AWS list prices (bench/prices.json) applied to
 * request counts, the naive one-message-one-write-per-event-per-hop design, Amazon
 * Managed Service for Apache Flink at Flink's per-core throughput, and the rates at
 * which riffle is the cheaper of the two. Pure functions of the figures.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";

/** One price with its source. */
export interface Price {
  readonly usd: number;
  readonly source: string;
  readonly remark?: string;
}

/** bench/prices.json. */
export interface Prices {
  readonly region: string;
  readonly asOf: string;
  readonly sqsFifoPerMillionRequests: Price;
  readonly dynamodbOnDemandPerMillionWriteRequestUnits: Price;
  readonly dynamodbOnDemandPerMillionReadRequestUnits: Price;
  readonly lambdaArm64PerGbSecond: Price;
  readonly lambdaPerMillionRequests: Price;
  readonly stepFunctionsStandardPer1000StateTransitions: Price;
  readonly apiGatewayHttpPerMillionRequests: Price;
  readonly managedFlinkPerKpuHour: Price;
}

/** Reads bench/prices.json. */
export function loadPrices(): Prices {
  return JSON.parse(readFileSync(join(import.meta.dirname, "prices.json"), "utf8")) as Prices;
}

/** Billable quantities (of a run, or per million events). */
export interface Usage {
  /** SQS billed requests (64 KB chunks). */
  readonly sqsRequests: number;
  readonly dynamoWriteUnits: number;
  readonly dynamoReadUnits: number;
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  readonly stateTransitions: number;
}

/** Dollars of a {@link Usage}, by service. */
export interface Dollars {
  readonly sqs: number;
  readonly dynamodb: number;
  readonly lambda: number;
  readonly stepFunctions: number;
  readonly total: number;
}

const usd = (x: number) => Number(x.toPrecision(4));

/** Prices `u`. */
export function dollars(u: Usage, p: Prices): Dollars {
  const sqs = (u.sqsRequests * p.sqsFifoPerMillionRequests.usd) / 1e6;
  const dynamodb =
    (u.dynamoWriteUnits * p.dynamodbOnDemandPerMillionWriteRequestUnits.usd +
      u.dynamoReadUnits * p.dynamodbOnDemandPerMillionReadRequestUnits.usd) /
    1e6;
  const lambda =
    (u.lambdaInvocations * p.lambdaPerMillionRequests.usd) / 1e6 + u.lambdaGbSeconds * p.lambdaArm64PerGbSecond.usd;
  const stepFunctions = (u.stateTransitions * p.stepFunctionsStandardPer1000StateTransitions.usd) / 1000;
  return {
    sqs: usd(sqs),
    dynamodb: usd(dynamodb),
    lambda: usd(lambda),
    stepFunctions: usd(stepFunctions),
    total: usd(sqs + dynamodb + lambda + stepFunctions),
  };
}

/** `u` minus `k` times `v`, each quantity floored at 0. */
export function subtract(u: Usage, v: Usage, k = 1): Usage {
  const d = (a: number, b: number) => Math.max(0, a - k * b);
  return {
    sqsRequests: d(u.sqsRequests, v.sqsRequests),
    dynamoWriteUnits: d(u.dynamoWriteUnits, v.dynamoWriteUnits),
    dynamoReadUnits: d(u.dynamoReadUnits, v.dynamoReadUnits),
    lambdaInvocations: d(u.lambdaInvocations, v.lambdaInvocations),
    lambdaGbSeconds: d(u.lambdaGbSeconds, v.lambdaGbSeconds),
    stateTransitions: d(u.stateTransitions, v.stateTransitions),
  };
}

/** `u` times `k`. */
export function scale(u: Usage, k: number): Usage {
  return {
    sqsRequests: u.sqsRequests * k,
    dynamoWriteUnits: u.dynamoWriteUnits * k,
    dynamoReadUnits: u.dynamoReadUnits * k,
    lambdaInvocations: u.lambdaInvocations * k,
    lambdaGbSeconds: u.lambdaGbSeconds * k,
    stateTransitions: u.stateTransitions * k,
  };
}

/** Step invocation counts of the coordinator's Lambdas in a run. */
export interface CoordinatorSteps {
  readonly trigger: number;
  readonly poll: number;
  readonly complete: number;
  readonly abort: number;
  readonly restore: number;
}

/**
 * Standard-workflow state transitions implied by the coordinator's step counts,
 * following the loop of core/checkpoint/asl.ts: every round enters WaitInterval,
 * Trigger, AfterTrigger, NextRound and CheckRounds (5); every poll WaitForAcks,
 * Poll and Decide (3); Complete 1; Abort and AfterAbort 2; Restore and AfterRestore 2;
 * and every 100 rounds ContinueAsNew and Done (2, i.e. 0.02 per round). A job with
 * keyed tasks has a round (a Trigger call) every tick second, not every interval.
 */
export function stateTransitions(s: CoordinatorSteps): number {
  return 5.02 * s.trigger + 3 * s.poll + s.complete + 2 * s.abort + 2 * s.restore;
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
  return Math.max(1, Math.ceil(eventsPerSec / perCore)) + 1;
}

/** Dollars per hour of Managed Flink at `eventsPerSec`. */
export function flinkDollarsPerHour(eventsPerSec: number, perCore: number, p: Prices): number {
  return flinkKpus(eventsPerSec, perCore) * p.managedFlinkPerKpuHour.usd;
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
 * Managed Flink. Scans a log grid and bisects every sign change to 1 event/s.
 */
export function riffleCheaperRanges(
  fixedPerHour: number,
  perMillionEvents: number,
  flinkPerCore: number,
  p: Prices,
): RateRange[] {
  const cheaper = (r: number) =>
    riffleDollarsPerHour(r, fixedPerHour, perMillionEvents) < flinkDollarsPerHour(r, flinkPerCore, p);
  const MAX = 10_000_000;
  const ranges: RateRange[] = [];
  let prev = 1;
  let inside = cheaper(prev);
  let start: number | undefined = inside ? 1 : undefined;
  // Flink's cost steps at every multiple of the per-core figure: put those on the grid.
  const grid = new Set<number>();
  for (let r = 1; r < MAX; r *= 1.02) grid.add(Math.round(r));
  for (let r = flinkPerCore; r <= MAX; r += flinkPerCore) {
    grid.add(r);
    grid.add(r + 1);
  }
  for (const r of [...grid].sort((a, b) => a - b)) {
    const now = cheaper(r);
    if (now !== inside) {
      let lo = prev;
      let hi = r;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (cheaper(mid) === inside) lo = mid;
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
