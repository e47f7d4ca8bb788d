/** The shape of `npm run bench --json`, and the run sizes of a full and a quick run. */

import type { AwsBenchFigure } from "./aws-local.ts";
import type { CdcFigure } from "./cdc-shared.ts";
import type { CheckpointFigure } from "./checkpoint.ts";
import type { EmulatorCheckpointFigure } from "./checkpoint-emulators.ts";
import type { ActiveCoordinatorFigure } from "./coordinator-active.ts";
import type { EmbeddedFigure } from "./embedded.ts";
import type { LatencyFigure } from "./latency.ts";
import type { NexmarkFigure } from "./nexmark.ts";
import type { SqlFigure } from "./nexmark-sql.ts";
import type { RemoteFigure } from "./remote.ts";
import type { WarehouseFigure } from "./warehouse.ts";

/** How big each part runs. */
export interface BenchSizes {
  readonly embeddedRecords: number;
  readonly nexmarkEvents: number;
  /** Keyed state sizes of the embedded checkpoint part. */
  readonly checkpointKeys: readonly number[];
  /** Keyed state sizes of the checkpoint part on DynamoDB Local (env RIFFLE_BENCH_EMULATOR_KEYS=1000,100000). */
  readonly emulatorCheckpointKeys: readonly number[];
  /** Checkpoints measured per size on the emulators. */
  readonly emulatorCheckpoints: number;
  /** Restores measured per size on the emulators. */
  readonly emulatorRestores: number;
  /** Coordinator wait between rounds on the emulators, ms (the jobs' interval is 1 s; quick runs shorten it). */
  readonly emulatorIntervalMs: number;
  /** Generated events per query on aws-local. */
  readonly awsEvents: number;
  readonly awsIdleSeconds: number;
  /** Seconds the active coordinator is measured on aws-local (env RIFFLE_BENCH_ACTIVE_SECONDS). */
  readonly awsActiveSeconds: number;
  /** Seconds each hour of the compressed bursty day lasts on aws-local (env RIFFLE_BENCH_BURSTY_SECONDS_PER_HOUR). */
  readonly awsBurstySecondsPerHour: number;
  /** Input rate of the latency part, events/s, and how long it runs. */
  readonly latencyRate: number;
  readonly latencySeconds: number;
  /** Rows of the cdc part's table (env RIFFLE_BENCH_CDC_ROWS), and how long its latency runs. */
  readonly cdcRows: number;
  readonly cdcLatencySeconds: number;
  /** Items of the cdc part's DynamoDB table (env RIFFLE_BENCH_CDC_DYNAMO_ROWS). */
  readonly cdcDynamoRows: number;
  /** Rows of the warehouse part's table (env RIFFLE_BENCH_WAREHOUSE_ROWS), and point lookups per store. */
  readonly warehouseRows: number;
  readonly warehouseLookups: number;
  /** Most records of one run of the remote part (env RIFFLE_BENCH_REMOTE_RECORDS; fewer at small batch sizes). */
  readonly remoteRecords: number;
  /** Runs of each remote cell, each beside its own anchor runs (env RIFFLE_BENCH_REMOTE_REPS); figures are medians. */
  readonly remoteReps: number;
  /** Runs of each job per query in the sql part (env RIFFLE_BENCH_SQL_REPS); its figures are medians. */
  readonly sqlReps: number;
}

/**
 * Sizes of a full run (env overrides: RIFFLE_BENCH_RECORDS, RIFFLE_BENCH_NEXMARK_EVENTS, RIFFLE_BENCH_AWS_EVENTS,
 * RIFFLE_BENCH_EMULATOR_KEYS, RIFFLE_BENCH_BURSTY_SECONDS_PER_HOUR, RIFFLE_BENCH_ACTIVE_SECONDS,
 * RIFFLE_BENCH_SQL_REPS, RIFFLE_BENCH_REMOTE_RECORDS, RIFFLE_BENCH_REMOTE_REPS) or a quick one.
 */
export function sizesFor(quick: boolean, env: NodeJS.ProcessEnv): BenchSizes {
  const num = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  if (quick) {
    return {
      embeddedRecords: 20_000,
      nexmarkEvents: 5_000,
      checkpointKeys: [1_000, 10_000],
      emulatorCheckpointKeys: [100, 1_000],
      emulatorCheckpoints: 2,
      emulatorRestores: 1,
      emulatorIntervalMs: 200,
      awsEvents: 1_000,
      awsIdleSeconds: 2,
      awsActiveSeconds: 3,
      awsBurstySecondsPerHour: 0.5,
      latencyRate: 500,
      latencySeconds: 2,
      cdcRows: 2_000,
      cdcLatencySeconds: 2,
      cdcDynamoRows: 300,
      warehouseRows: 2_000,
      warehouseLookups: 100,
      remoteRecords: 5_000,
      remoteReps: 1,
      sqlReps: 1,
    };
  }
  return {
    embeddedRecords: num("RIFFLE_BENCH_RECORDS", 1_000_000),
    nexmarkEvents: num("RIFFLE_BENCH_NEXMARK_EVENTS", 500_000),
    checkpointKeys: [1_000, 100_000, 1_000_000],
    emulatorCheckpointKeys: env.RIFFLE_BENCH_EMULATOR_KEYS
      ? env.RIFFLE_BENCH_EMULATOR_KEYS.split(",").map(Number)
      : [1_000, 100_000, 1_000_000],
    emulatorCheckpoints: 8,
    emulatorRestores: 3,
    emulatorIntervalMs: 1000,
    awsEvents: num("RIFFLE_BENCH_AWS_EVENTS", 100_000),
    awsIdleSeconds: 60,
    awsActiveSeconds: num("RIFFLE_BENCH_ACTIVE_SECONDS", 60),
    awsBurstySecondsPerHour: num("RIFFLE_BENCH_BURSTY_SECONDS_PER_HOUR", 5),
    latencyRate: 2_000,
    latencySeconds: 20,
    cdcRows: num("RIFFLE_BENCH_CDC_ROWS", 200_000),
    cdcLatencySeconds: 20,
    cdcDynamoRows: num("RIFFLE_BENCH_CDC_DYNAMO_ROWS", 20_000),
    warehouseRows: num("RIFFLE_BENCH_WAREHOUSE_ROWS", 100_000),
    warehouseLookups: 1_000,
    remoteRecords: num("RIFFLE_BENCH_REMOTE_RECORDS", 1_000_000),
    remoteReps: num("RIFFLE_BENCH_REMOTE_REPS", 3),
    sqlReps: num("RIFFLE_BENCH_SQL_REPS", 5),
  };
}

/** One goal: what it asks, what was measured, whether it is met (null: not measured in this run). */
export interface GoalFigure {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | null;
}

/** Everything `npm run bench --json` prints; a part that was not run is absent. */
export interface BenchReport {
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly quick: boolean;
  readonly parts: readonly string[];
  readonly sizes: BenchSizes;
  /** The 1-minute load average of the machine as each part began and ended (others may share it). */
  readonly loadAverage: Record<string, [number, number]>;
  embedded?: { readonly note: string; readonly jobs: EmbeddedFigure[] };
  nexmark?: { readonly note: string; readonly queries: NexmarkFigure[] };
  sql?: { readonly note: string; readonly queries: SqlFigure[] };
  checkpoint?: {
    readonly embedded: {
      readonly note: string;
      readonly bySize: CheckpointFigure[];
      /** Median checkpoint at the largest state over the smallest (goal: ≤ 1.5). */
      readonly ratioLargestToSmallest: number;
    };
    emulators?: EmulatorCheckpointFigure;
  };
  aws?: AwsBenchFigure;
  /** The active coordinator alone (part `aws-coordinator`); the aws part holds it as `aws.activeCoordinator`. */
  awsCoordinator?: ActiveCoordinatorFigure;
  latency?: LatencyFigure;
  cdc?: CdcFigure;
  /** DynamoDB Streams CDC → the DynamoDB sink on DynamoDB Local (part `cdc`, beside Postgres). */
  cdcDynamodb?: CdcFigure;
  warehouse?: WarehouseFigure;
  remote?: RemoteFigure;
  goals?: GoalFigure[];
}
