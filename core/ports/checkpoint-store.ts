/**
 * The `CheckpointStore` port: the job record (generation, checkpoint counter),
 * partition acks, checkpoint manifests and savepoints. The coordinator's steps
 * are functions over this store, so the embedded runtime and the Step Functions
 * Lambdas run the same logic. Implementations: in memory, SQLite (state dir),
 * DynamoDB.
 */

import type { StateChange } from "./state-store.ts";

/** Why a checkpoint was aborted. */
export const AbortReason = {
  /** Not every partition acked within the timeout. */
  Timeout: "timeout",
  /** A partition declined (e.g. it failed while aligning). */
  Declined: "declined",
  /** The job restored to an earlier checkpoint; in-flight checkpoints are void. */
  JobRestored: "job-restored",
  /** The job stopped before the checkpoint completed. */
  JobStopped: "job-stopped",
} as const;
/** Why a checkpoint was aborted. */
export type AbortReason = (typeof AbortReason)[keyof typeof AbortReason];

/** The durable record of a job. */
export interface JobRecord {
  readonly job: string;
  /** Bumped on every restore; envelopes of older generations are dropped. */
  readonly generation: number;
  /** Id the next checkpoint gets. */
  readonly nextCheckpoint: number;
  /** Id of the newest completed checkpoint (0: none). */
  readonly lastCompleted: number;
  /** Parallelism of each task in the running generation. */
  readonly parallelism: Readonly<Record<string, number>>;
  /** Consecutive aborted checkpoints (reset by a completion). */
  readonly failures: number;
  /**
   * The checkpoints in flight: triggered, neither completed nor aborted yet. The
   * trigger writes its checkpoint here (no manifest: a manifest is written once, when
   * the checkpoint completes or is aborted). Entries of another generation, or at or
   * below `lastCompleted`, are void.
   */
  readonly pending?: readonly PendingEntry[];
  /** When the newest checkpoint was triggered (ms): the interval counts from it. */
  readonly lastTriggeredAt?: number;
  /**
   * True while a restore of `generation` rewrites the logs: task runners must not
   * load a partition (they would cache a view the restore is about to change) and
   * the coordinator must not trigger, until it is cleared.
   */
  readonly restoring?: boolean;
  /** When the restore in progress began (a restore that died is finished by a later round). */
  readonly restoringSince?: number;
  /** Failovers since the job was last started by an operator (the restart strategy's count). */
  readonly restarts?: number;
  /** Set when the job failed for good (its restart attempts are used up, or a mistake in its code): why. */
  readonly failed?: string;
  /** True while the coordinator sleeps (scale to zero): the next writer of new work wakes it. */
  readonly sleeping?: true;
  /** Wakes so far: the next execution's name is `<job>-w<wakes>`. */
  readonly wakes?: number;
  /** The savepoint the running generation was restored from, and that generation. */
  readonly restoredFrom?: { readonly savepoint: string; readonly generation: number };
  /** What autoscaling measured and decided last (absent without `autoscale`). */
  readonly autoscale?: AutoscaleRecord;
}

/** A checkpoint in flight, as the job record lists it. */
export interface PendingEntry {
  readonly id: number;
  /** When it was triggered (ms). */
  readonly at: number;
  readonly generation: number;
}

/** Autoscaling's memory in the job record (`core/checkpoint/rescale.ts`). */
export interface AutoscaleRecord {
  /** When it last measured (ms). */
  readonly at: number;
  /** The generation it measured in (message counts start over with a new one). */
  readonly generation: number;
  /** Per task: data messages its partitions had consumed by then. */
  readonly consumed: Readonly<Record<string, number>>;
  /** Per task: when it was last rescaled, and since when it has been underused. */
  readonly tasks: Readonly<Record<string, { readonly changedAt?: number; readonly lowSince?: number }>>;
  /** Per task: the concurrency last applied to its event source (`TaskScaler.setConcurrency`). */
  readonly applied: Readonly<Record<string, number>>;
  /** When every task's concurrency was last set, changed or not (ms). */
  readonly appliedAt?: number;
}

/** A partition's acknowledgement that it ended epoch `checkpoint` in `segment`. */
export interface CheckpointAck {
  readonly checkpoint: number;
  readonly task: string;
  readonly partition: number;
  /** The segment that ends the epoch: the partition's cut. */
  readonly segment: number;
  /** Time from the first barrier to the last on its input channels. */
  readonly alignmentMs: number;
  /** Bytes the partition's segments of this epoch took (0 when unknown). */
  readonly bytes: number;
  /** Processing time of the ack. */
  readonly time: number;
  /** The partition's report as of the ack (for the dashboard; absent from acks written before it existed). */
  readonly report?: PartitionReport;
}

/** An error a partition met: the message and when (processing time, ms). */
export interface PartitionError {
  readonly message: string;
  readonly at: number;
}

/** One partition's report, as the dashboard's task view shows it. */
export interface PartitionReport {
  readonly task: string;
  readonly partition: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  /** The last committed segment. */
  readonly segment: number;
  /** When these figures were read (ms; for an ack, the time of the segment that ended the epoch). */
  readonly at: number;
  /** Combined watermark of the input channels (absent: none yet, or every input ended or idle). */
  readonly watermark?: number;
  /** Live keyed values, counted from the changes the partition committed (`core/runtime/partition-stats.ts`). */
  readonly stateKeys: number;
  /** The newest error: a dead letter's, or a failed batch's on a warm runner. */
  readonly lastError?: PartitionError;
  /** Messages waiting for this partition, where the runtime can count them per partition (embedded). */
  readonly backlog?: number;
}

/** A partition's report that it finished (end of input) with its last segment. */
export interface FinishedAck {
  readonly task: string;
  readonly partition: number;
  readonly segment: number;
  readonly generation: number;
}

/** Lifecycle of a checkpoint. */
export type CheckpointStatus = "pending" | "completed" | "aborted";

/** A checkpoint: while pending its trigger data, once completed the cut. */
export interface CheckpointManifest {
  readonly job: string;
  readonly id: number;
  readonly generation: number;
  readonly status: CheckpointStatus;
  readonly triggeredAt: number;
  readonly completedAt?: number;
  /** Completion minus trigger time. */
  readonly durationMs?: number;
  /** Longest alignment of any partition. */
  readonly alignmentMs?: number;
  /** Bytes written by all partitions in the epoch. */
  readonly bytes?: number;
  /** `task#partition` → the segment where the epoch ends. */
  readonly cut?: Readonly<Record<string, number>>;
  /** Parallelism of each task when the checkpoint was taken. */
  readonly parallelism: Readonly<Record<string, number>>;
  readonly reason?: AbortReason;
  /** True for the checkpoint that completes a finished bounded job. */
  readonly final?: boolean;
  /** True once the partitions that want it were told that this checkpoint completed. */
  readonly notified?: boolean;
}

/** A savepoint's description (what {@link CheckpointStore.listSavepoints} returns). */
export interface SavepointInfo {
  readonly job: string;
  /** Unique per job. */
  readonly name: string;
  readonly createdAt: number;
  /** The completed checkpoint it materializes. */
  readonly checkpoint: number;
  readonly maxParallelism: number;
  /** Parallelism of each task when it was taken. */
  readonly parallelism: Readonly<Record<string, number>>;
  /** Number of keyed-state values it holds. */
  readonly values: number;
  /**
   * True for a rescale's savepoint: it holds source positions only, the keyed values
   * stay in place (a user cannot restore it).
   */
  readonly inPlace?: true;
  /** What its state holds of dead-letter replays (absent in savepoints taken before it was recorded). */
  readonly replays?: ReplayCut;
}

/** What a restored state holds of dead-letter replays (see `core/checkpoint/replay-undo.ts`). */
export interface ReplayCut {
  /**
   * The generation the restored log started at (its last savepoint restore; 0: the
   * job's first). A replay sent earlier is inside: that savepoint restore kept its mark.
   */
  readonly since: number;
  /** The generation of the cut: a replay sent later is not inside. */
  readonly generation: number;
  /** `task#partition` → replay channel → its position at the cut. */
  readonly positions: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * A savepoint: a checkpoint the user asked for, materialized so that it survives
 * compaction and restores at any parallelism (state is by key group; source
 * positions are by split).
 */
export interface Savepoint extends SavepointInfo {
  /**
   * Per source task: split id → `{ position, done }`. Under the key
   * {@link OPERATOR_LISTS} (never a task id): per task, operator list state key →
   * the lists of all its partitions, concatenated in partition order. Under
   * {@link BROADCAST_STATE}: per task, broadcast state key → partition 0's copy.
   */
  readonly sources: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Per task: every keyed-state value. */
  readonly state: Readonly<Record<string, readonly StateChange[]>>;
}

/** What {@link CheckpointStore.readRound} read. */
export interface RoundRead {
  readonly record: JobRecord | undefined;
  /** The acks of the checkpoint asked for and of every later one. */
  readonly acks: readonly CheckpointAck[];
  /** Finished reports of every generation. */
  readonly finished: readonly FinishedAck[];
}

/** Durable checkpoint bookkeeping of jobs. */
export interface CheckpointStore {
  /** The job record, if the job ever ran against this store. */
  loadJob(job: string): Promise<JobRecord | undefined>;
  /**
   * Writes the job record if the stored one has generation `expectedGeneration`
   * and checkpoint counter `expectedNext` (or none exists when both are undefined).
   * Returns false when another writer got there first.
   */
  saveJob(record: JobRecord, expected: { generation: number; nextCheckpoint: number } | undefined): Promise<boolean>;
  /** Writes or replaces a manifest. */
  putManifest(manifest: CheckpointManifest): Promise<void>;
  getManifest(job: string, id: number): Promise<CheckpointManifest | undefined>;
  /** All manifests of a job, ascending by id. */
  listManifests(job: string): Promise<CheckpointManifest[]>;
  /** Records an ack; a repeated ack of the same partition and checkpoint is ignored. */
  ack(job: string, ack: CheckpointAck): Promise<void>;
  /**
   * Acks of checkpoint `id`. May miss the newest (an eventually consistent read on
   * DynamoDB): acks never change, so a read that misses one only delays the completion.
   */
  acks(job: string, id: number): Promise<CheckpointAck[]>;
  /** Records that a partition finished; repeated reports are ignored. */
  finished(job: string, ack: FinishedAck): Promise<void>;
  /** Finished reports of the given generation; like {@link acks}, may miss the newest. */
  finishedPartitions(job: string, generation: number): Promise<FinishedAck[]>;
  /**
   * What a coordinator round reads first, in one read where the store can (DynamoDB:
   * one Query over the items that sort between the acks of checkpoint `from` and the
   * job record): the job record (as {@link loadJob} reads it), the acks of checkpoint
   * `from` and of every later one, and the job's finished reports of every generation.
   * Optional; `round-reads.ts` uses it for small jobs.
   */
  readRound?(job: string, from: number): Promise<RoundRead>;
  /** Stores a savepoint; false (and nothing written) when the job already has one of that name. */
  putSavepoint(savepoint: Savepoint): Promise<boolean>;
  getSavepoint(job: string, name: string): Promise<Savepoint | undefined>;
  /** Savepoints of a job (without their state), oldest first. */
  listSavepoints(job: string): Promise<SavepointInfo[]>;
  /** Deletes a savepoint; false when there was none. */
  deleteSavepoint(job: string, name: string): Promise<boolean>;
}

/** Where a savepoint keeps operator list state, among its `sources` (task ids cannot contain `$`). */
export const OPERATOR_LISTS = "$operatorLists";
/** Where a savepoint keeps broadcast state, among its `sources` (one copy per task; every partition restores it). */
export const BROADCAST_STATE = "$broadcastState";
