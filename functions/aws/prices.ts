/**
 * AWS list prices as the cost model reads them (`bench/prices.json`: us-east-1,
 * on demand, each with its source URL). The file stays beside the benchmark that
 * quotes it; this module types it and loads it for the benchmark and for the live
 * cost of a job on aws-local.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RiffleError } from "../../core/errors.ts";

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
  /** Table storage, per GB-month. */
  readonly dynamodbStoragePerGbMonth: Price;
  /** Point-in-time recovery (continuous backups), per GB-month of table size. */
  readonly dynamodbPitrPerGbMonth: Price;
  readonly lambdaArm64PerGbSecond: Price;
  readonly lambdaPerMillionRequests: Price;
  /** The SQS event source mapping in provisioned mode, per event poller unit-hour. */
  readonly lambdaSqsProvisionedPollerPerEpuHour: Price;
  readonly stepFunctionsStandardPer1000StateTransitions: Price;
  /** Express workflows: one request per execution. */
  readonly stepFunctionsExpressPerMillionRequests: Price;
  /** Express workflows: duration × memory, first tier. */
  readonly stepFunctionsExpressPerGbSecond: Price;
  readonly apiGatewayHttpPerMillionRequests: Price;
  /** S3 Standard PUT, COPY, POST and LIST requests (DELETE is free). */
  readonly s3PutPer1000Requests: Price;
  /** S3 Standard GET and every other request. */
  readonly s3GetPer1000Requests: Price;
  readonly s3StoragePerGbMonth: Price;
  readonly managedFlinkPerKpuHour: Price;
  /** Running application storage, provisioned at `gbPerKpu` per KPU. */
  readonly managedFlinkRunningStoragePerGbMonth: Price & { readonly gbPerKpu: number };
}

/** Where the prices live: `bench/prices.json` at the repository's root. */
export const PRICES_FILE = join(import.meta.dirname, "..", "..", "bench", "prices.json");

const PRICE_KEYS = [
  "sqsFifoPerMillionRequests",
  "dynamodbOnDemandPerMillionWriteRequestUnits",
  "dynamodbOnDemandPerMillionReadRequestUnits",
  "dynamodbStoragePerGbMonth",
  "dynamodbPitrPerGbMonth",
  "lambdaArm64PerGbSecond",
  "lambdaPerMillionRequests",
  "lambdaSqsProvisionedPollerPerEpuHour",
  "stepFunctionsStandardPer1000StateTransitions",
  "stepFunctionsExpressPerMillionRequests",
  "stepFunctionsExpressPerGbSecond",
  "apiGatewayHttpPerMillionRequests",
  "s3PutPer1000Requests",
  "s3GetPer1000Requests",
  "s3StoragePerGbMonth",
  "managedFlinkPerKpuHour",
  "managedFlinkRunningStoragePerGbMonth",
] as const satisfies readonly (keyof Prices)[];

/** Reads and checks the prices file (default {@link PRICES_FILE}); a missing or malformed price is a `prices` error. */
export function loadPrices(file = PRICES_FILE): Prices {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new RiffleError("prices", `cannot read the price list ${file}`, { cause });
  }
  const p = parsed as Record<string, { usd?: unknown; gbPerKpu?: unknown } | undefined>;
  for (const key of PRICE_KEYS) {
    const usd = p[key]?.usd;
    if (typeof usd !== "number" || !Number.isFinite(usd) || usd < 0) {
      throw new RiffleError("prices", `${file}: '${key}.usd' must be a number ≥ 0, got ${String(usd)}`);
    }
  }
  const gb = p.managedFlinkRunningStoragePerGbMonth?.gbPerKpu;
  if (typeof gb !== "number" || !(gb >= 0)) {
    throw new RiffleError("prices", `${file}: 'managedFlinkRunningStoragePerGbMonth.gbPerKpu' must be a number ≥ 0`);
  }
  return parsed as Prices;
}
