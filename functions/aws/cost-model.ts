/**
 * The cost model: AWS list prices ({@link Prices}) applied to billable quantities
 * ({@link Usage}), and the split of a measured bill into a part per idle hour and a
 * part per event. Pure arithmetic, shared by the benchmark (bench/) and the live
 * cost of a running job (`live-cost.ts`), so both price the same counts the same way.
 */

import type { Prices } from "./prices.ts";

/** Hours in the month that storage prices are quoted per (AWS uses 730). */
export const HOURS_PER_MONTH = 730;

/** Billable quantities (of a run, a window, or per million events). */
export interface Usage {
  /** SQS billed requests (each started 64 KB of a request is one). */
  readonly sqsRequests: number;
  /** DynamoDB on-demand write request units. */
  readonly dynamoWriteUnits: number;
  /** DynamoDB on-demand read request units. */
  readonly dynamoReadUnits: number;
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  /** Step Functions Standard state transitions. */
  readonly stateTransitions: number;
  /** Step Functions Express executions (each one billed request). */
  readonly expressRequests: number;
  /** Step Functions Express duration × memory. */
  readonly expressGbSeconds: number;
  /** API Gateway HTTP API requests. */
  readonly apiRequests: number;
  /** Event poller unit-hours of SQS mappings in provisioned mode. */
  readonly pollerEpuHours: number;
  /** S3 requests of the PUT tier (PUT, COPY, POST, LIST). */
  readonly s3PutRequests: number;
  /** S3 requests of the GET tier (GET, HEAD and the rest, DELETE excepted: it is free). */
  readonly s3GetRequests: number;
}

/** Every quantity of a {@link Usage}. */
export const USAGE_KEYS = [
  "sqsRequests",
  "dynamoWriteUnits",
  "dynamoReadUnits",
  "lambdaInvocations",
  "lambdaGbSeconds",
  "stateTransitions",
  "expressRequests",
  "expressGbSeconds",
  "apiRequests",
  "pollerEpuHours",
  "s3PutRequests",
  "s3GetRequests",
] as const satisfies readonly (keyof Usage)[];

/** A usage with the given quantities, the others 0. */
export function usage(parts: Partial<Usage> = {}): Usage {
  return each((k) => parts[k] ?? 0);
}

function each(f: (k: keyof Usage) => number): Usage {
  const out: Record<string, number> = {};
  for (const k of USAGE_KEYS) out[k] = f(k);
  return out as unknown as Usage;
}

/** `u` plus `v`. */
export function addUsage(u: Usage, v: Usage): Usage {
  return each((k) => u[k] + v[k]);
}

/** `u` minus `k` times `v`, each quantity floored at 0. */
export function subtract(u: Usage, v: Usage, k = 1): Usage {
  return each((key) => Math.max(0, u[key] - k * v[key]));
}

/** `u` times `k`. */
export function scale(u: Usage, k: number): Usage {
  return each((key) => u[key] * k);
}

/** Dollars of a {@link Usage}, by service. */
export interface Dollars {
  readonly sqs: number;
  readonly dynamodb: number;
  /** Invocations, GB-s and provisioned pollers. */
  readonly lambda: number;
  /** Standard transitions plus Express requests and GB-s. */
  readonly stepFunctions: number;
  readonly apiGateway: number;
  /** Requests (segment objects); storage is priced apart. */
  readonly s3: number;
  readonly total: number;
}

/** Four significant digits: figures, not accounting. */
export const usd = (x: number): number => Number(x.toPrecision(4));

/** Prices `u` (each part and the total to four significant digits). */
export function dollars(u: Usage, p: Prices): Dollars {
  const sqs = (u.sqsRequests * p.sqsFifoPerMillionRequests.usd) / 1e6;
  const dynamodb =
    (u.dynamoWriteUnits * p.dynamodbOnDemandPerMillionWriteRequestUnits.usd +
      u.dynamoReadUnits * p.dynamodbOnDemandPerMillionReadRequestUnits.usd) /
    1e6;
  const lambda =
    (u.lambdaInvocations * p.lambdaPerMillionRequests.usd) / 1e6 +
    u.lambdaGbSeconds * p.lambdaArm64PerGbSecond.usd +
    u.pollerEpuHours * p.lambdaSqsProvisionedPollerPerEpuHour.usd;
  const stepFunctions =
    (u.stateTransitions * p.stepFunctionsStandardPer1000StateTransitions.usd) / 1000 +
    (u.expressRequests * p.stepFunctionsExpressPerMillionRequests.usd) / 1e6 +
    u.expressGbSeconds * p.stepFunctionsExpressPerGbSecond.usd;
  const apiGateway = (u.apiRequests * p.apiGatewayHttpPerMillionRequests.usd) / 1e6;
  const s3 = (u.s3PutRequests * p.s3PutPer1000Requests.usd + u.s3GetRequests * p.s3GetPer1000Requests.usd) / 1000;
  return {
    sqs: usd(sqs),
    dynamodb: usd(dynamodb),
    lambda: usd(lambda),
    stepFunctions: usd(stepFunctions),
    apiGateway: usd(apiGateway),
    s3: usd(s3),
    total: usd(sqs + dynamodb + lambda + stepFunctions + apiGateway + s3),
  };
}

/** Dollars per hour of keeping `bytes` in DynamoDB: storage, plus point-in-time recovery when `pitr`. */
export function storageDollarsPerHour(bytes: number, p: Prices, pitr = true): number {
  const perGbMonth = p.dynamodbStoragePerGbMonth.usd + (pitr ? p.dynamodbPitrPerGbMonth.usd : 0);
  return ((bytes / 1e9) * perGbMonth) / HOURS_PER_MONTH;
}

/** What {@link splitCost} splits: a measured run and the idle windows inside it. */
export interface MeasuredCost {
  /** Everything billable from the start of the measurement. */
  readonly total: Usage;
  readonly seconds: number;
  /** What the idle windows cost (part of `total`) and how long they were (absent: none measured). */
  readonly idle?: { readonly usage: Usage; readonly seconds: number };
  /** Events taken in over `seconds`. */
  readonly events: number;
  /** Modelled dollars per idle hour added on top of the measured idle requests (e.g. a mapping's idle polling). */
  readonly idleModelPerHour?: number;
}

/** A bill split into what time costs and what events cost. */
export interface CostSplit {
  /** Measured idle requests per hour plus the modelled part (null: no idle window measured). */
  readonly perIdleHour: Dollars | null;
  /**
   * (total − measured idle rate × seconds) / events × 1M: what events add on top of
   * the idle rate (null: no event). Without an idle window, the idle rate is 0 and
   * this is the total per event.
   */
  readonly perMillionEvents: Dollars | null;
}

/** Splits a measured run into dollars per idle hour and per million events; see {@link CostSplit}. */
export function splitCost(m: MeasuredCost, p: Prices): CostSplit {
  const idleRate = m.idle && m.idle.seconds > 0 ? scale(m.idle.usage, 3600 / m.idle.seconds) : undefined;
  const model = m.idleModelPerHour ?? 0;
  const perIdleHour = idleRate ? withExtra(dollars(idleRate, p), "sqs", model) : null;
  if (m.events <= 0) return { perIdleHour, perMillionEvents: null };
  const fixed = idleRate ? scale(idleRate, m.seconds / 3600) : usage();
  return { perIdleHour, perMillionEvents: dollars(scale(subtract(m.total, fixed), 1e6 / m.events), p) };
}

/** `d` with `extra` dollars added to one service and the total. */
export function withExtra(d: Dollars, service: Exclude<keyof Dollars, "total">, extra: number): Dollars {
  if (extra === 0) return d;
  return { ...d, [service]: usd(d[service] + extra), total: usd(d.total + extra) };
}
