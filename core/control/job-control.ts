/**
 * The `JobControl` port: what the HTTP API does to a running job, whatever runs it.
 * The embedded runtime and the AWS runtime each implement it; the HTTP handler
 * (`functions/http/`) speaks only to this interface.
 */

import type { StandardSchemaV1 } from "../api/schema.ts";
import type { Plan } from "../graph/plan.ts";
import type { CheckpointManifest, PartitionReport, SavepointInfo } from "../ports/checkpoint-store.ts";
import type { StoredDeadLetter } from "../ports/output-store.ts";
import type { QueueDeadLetter } from "../ports/queue.ts";
import type { TableReadContext } from "../tables/read.ts";

/** An ingest source of the job, as the HTTP API sees it. */
export interface IngestSourceInfo {
  readonly name: string;
  /** Partitions records can be appended to. */
  readonly partitions: number;
  /** Declared record schema; records that fail it are refused (422). */
  readonly schema?: StandardSchemaV1;
}

/** US dollars by service (`sqs`, `dynamodb`, `lambda`, ...) and their `total`. */
export interface CostDollars {
  readonly total: number;
  readonly [service: string]: number;
}

/** The idle window a {@link JobCost}'s `perIdleHour` was measured over. */
export interface IdleWindow {
  readonly seconds: number;
  /** True while the job is still idle (the window is growing). */
  readonly current: boolean;
  /** Of `perIdleHour.total`: the coordinator's own steps, transitions and requests per hour. */
  readonly coordinatorPerHour: number;
}

/**
 * What a running job costs, priced from its live request accounting (a runtime
 * that counts its requests fills it in; `riffle dev --runtime aws-local` does).
 * Figures, not a bill: list prices, no free tier.
 */
export interface JobCost {
  readonly currency: "USD";
  /** How the figures were measured and what they leave out. */
  readonly basis: string;
  /** When counting started (ms since the epoch) and how long ago. */
  readonly since: number;
  readonly seconds: number;
  /** Events taken in since then. */
  readonly events: number;
  /** Everything counted since then. */
  readonly dollars: CostDollars;
  /** What events cost on top of the idle rate, per million (null: no event yet). */
  readonly perMillionEvents: CostDollars | null;
  /** What an hour without events costs (null: no idle window measured yet). */
  readonly perIdleHour: CostDollars | null;
  readonly idleWindow: IdleWindow | null;
  /** Stored bytes and what keeping them costs per hour (table storage + PITR): an estimate. */
  readonly storage?: { readonly bytes: number; readonly dollarsPerHour: number };
}

/** What `GET /jobs/{job}` answers. */
export interface JobStatus {
  readonly job: string;
  readonly generation: number;
  /** The newest completed checkpoint (absent: none yet). */
  readonly lastCheckpoint?: CheckpointManifest;
  /** Messages waiting per task (approximate on SQS). */
  readonly backlog: Readonly<Record<string, number>>;
  /**
   * Records taken in and sent on per task so far: the embedded runtime's runners count
   * them live; on AWS they are the sums of the partitions' reports.
   */
  readonly records?: Readonly<Record<string, { readonly in: number; readonly out: number }>>;
  /**
   * Each partition's report (records, last segment, watermark, keyed values, last
   * error): live from the runners on the embedded runtime; on AWS as of the newest
   * checkpoint the partition acked. A partition that has not reported yet is absent.
   */
  readonly partitions?: readonly PartitionReport[];
  /** True once bounded input is fully processed and the final checkpoint's output is published (readable). */
  readonly finished: boolean;
  /** Set once the job failed for good (restart attempts used up, or a mistake in its code): why. */
  readonly failed?: string;
  /** The job's cost so far, where the runtime counts it. */
  readonly cost?: JobCost;
}

/** What `GET /jobs/{job}/dlq` answers. */
export interface DeadLetters {
  /** Records an operator set aside after repeated failures (replayable). */
  readonly records: readonly StoredDeadLetter[];
  /** Envelopes a task queue moved to its dead-letter queue. */
  readonly envelopes: readonly QueueDeadLetter[];
}

/** Operations on one job. */
export interface JobControl {
  readonly job: string;
  /** The job's ingest sources. */
  ingestSources(): readonly IngestSourceInfo[];
  /**
   * Appends validated records to one partition of an ingest source (chosen by
   * `key` when given, else spread) and wakes that partition. Durable on return.
   */
  ingest(
    source: string,
    records: readonly unknown[],
    key?: string,
  ): Promise<{ partition: number; first: number; last: number }>;
  status(): Promise<JobStatus>;
  checkpoints(): Promise<CheckpointManifest[]>;
  /** The running physical plan: its tasks (chains, parallelism as running) and edges. */
  plan(): Promise<Plan>;
  /** The job's savepoints (without their state), oldest first. */
  listSavepoints(): Promise<SavepointInfo[]>;
  /** Takes a savepoint (triggers a checkpoint and waits for it). */
  savepoint(name: string): Promise<SavepointInfo>;
  /** Restores the job from a savepoint, at a new generation. */
  restore(savepoint: string): Promise<{ generation: number }>;
  deadLetters(): Promise<DeadLetters>;
  /** Sends dead-lettered records back into their task (all not yet replayed, or just `ids`). */
  replay(ids?: readonly string[]): Promise<{ replayed: number }>;
  /** Where the job's dynamic tables are read (absent: this runtime keeps none). */
  tables?(): TableReadContext | undefined;
}

/** Finds the control of a job by id; `undefined` for an unknown job (404). */
export type JobDirectory = (job: string) => JobControl | undefined;
