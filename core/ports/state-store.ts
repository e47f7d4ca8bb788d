/**
 * The `StateStore` port: a partition's changelog of segments, plus the keyed state
 * those segments produced. Implementations: `InMemoryStateStore` here; the file
 * store and the DynamoDB store elsewhere. The contract: `append` is a conditional
 * write — exactly one writer can commit segment n of a partition.
 */

import type { FoldPolicy } from "../log/compaction.ts";
import type { PartitionBase, Segment, StateChange } from "../log/segment.ts";

export type { Aligning, DeadLetter, PartitionBase, Segment, StateChange } from "../log/segment.ts";

/** Reference to one keyed-state value. */
export interface StateRef {
  readonly s: string;
  readonly k: string;
  readonly g: number;
}

/**
 * Which segment payloads (outbox, sink records, dead letters) a read needs: `all`;
 * `unsent`, only those of segments above the highest `sentThrough` among the
 * segments read (what a partition's view needs, to re-send); `none`. A store that
 * keeps payloads with their segments may return them anyway; one that does not
 * returns the other segments with an empty outbox and no sink records or dead letters.
 */
export type PayloadsWanted = "all" | "unsent" | "none";

/** What {@link StateStore.readLog} read: the segments, and the base's `through` at the time (0: no base). */
export interface SegmentsRead {
  readonly through: number;
  /** When the base was written (ms since the epoch), if the store records it: a fold policy's `maxAgeMs` needs it. */
  readonly baseAt?: number;
  readonly segments: Segment[];
}

/** The changelog and keyed state of a job's partitions. */
export interface StateStore {
  /** How often completing a checkpoint folds the log on this store (absent: at every completed checkpoint). */
  readonly foldPolicy?: FoldPolicy;
  /**
   * Appends `segment` to `task[partition]` if and only if its number is one past the
   * last. Throws `SegmentConflictError` when segment `segment.n` already exists (or
   * would leave a gap), `SegmentFencedError` when `segment.gen` is older than the
   * partition's fence (see `truncate`).
   * Resolves with the bytes written for it (0 for a store that keeps objects).
   */
  append(task: string, partition: number, segment: Segment): Promise<number>;
  /** Segments of `task[partition]` numbered above `after` that are not compacted, ascending (payloads: all by default). */
  readSegments(task: string, partition: number, after: number, payloads?: PayloadsWanted): Promise<Segment[]>;
  /**
   * Optional: {@link readSegments}, with the `through` of the base it read beside them
   * (0: none), for a store that reads both anyway (DynamoDB). Publishing then decides
   * whether to fold without reading the base again: one read a partition a checkpoint.
   */
  readLog?(task: string, partition: number, after: number, payloads?: PayloadsWanted): Promise<SegmentsRead>;
  /** The compacted base of `task[partition]`, if it was ever compacted. */
  readBase(task: string, partition: number): Promise<PartitionBase | undefined>;
  /**
   * Folds segments up to `through` into the base and deletes them. Never folds a
   * segment whose outbox is not proven sent (a later segment's `sentThrough`), so at
   * least the last segment always stays. Returns the new base's `through`.
   */
  compact(task: string, partition: number, through: number): Promise<number>;
  /**
   * Optional, for a store whose segments expire unless folded (DynamoDB, by TTL):
   * folds through `through` (as {@link compact}; 0: folds nothing) and makes every
   * segment left above the base permanent. The coordinator seals every partition
   * before it stops making rounds (the job sleeps, finishes or failed), so that no
   * segment a restore may need expires while nothing folds. Idempotent. Returns the
   * base's `through`.
   */
  seal?(task: string, partition: number, through: number): Promise<number>;
  /**
   * Restore: voids every segment of `task[partition]` after `through` (the
   * partition's cut), so its view becomes base + segments up to the cut, and keyed
   * state reads see only those. Throws when `through` is older than the base.
   * Fences the partition at `generation`: from then on every `append` of a segment
   * with `gen < generation` throws `SegmentFencedError` (a `SegmentConflictError`),
   * so a zombie writer of an older generation never gets a segment into the log.
   * The next append (`through + 1`, of generation `generation` or later) succeeds.
   */
  truncate(task: string, partition: number, through: number, generation: number): Promise<void>;
  /** Committed values of keyed state, index-aligned with `refs` (`undefined` when unset). */
  getState(task: string, refs: readonly StateRef[]): Promise<unknown[]>;
  /** Every committed value of state `s` in key groups `[kgStart, kgEnd]`, as `[key, value]`. */
  scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]>;
  /**
   * Keyed state of `task` in key groups `[kgStart, kgEnd]` as of segment `through` of
   * `task[partition]`, the partition that owns those key groups: base values plus
   * the changes of its segments up to `through`, one entry per live value. For savepoints.
   */
  exportState(task: string, partition: number, through: number, kgStart: number, kgEnd: number): Promise<StateChange[]>;
  /** Deletes every segment, base and keyed value of `task` (before a savepoint is loaded). */
  resetTask(task: string): Promise<void>;
  /**
   * Deletes every segment and base of `task` but keeps its keyed values (a rescale,
   * once each partition's segments up to the cut are compacted into them): the
   * values are addressed by key group, so the task's new partitions read them where
   * they are. A store whose values are not partition-independent must copy instead.
   */
  dropLogs(task: string): Promise<void>;
  /**
   * Installs the base of an empty partition (savepoint restore). Segments at or below
   * `base.through` do not count: a writer of the old generation may still append
   * after {@link resetTask}, and its segments stay below the base, never read.
   *
   * @throws PartitionNotEmptyError when the partition has a base or a segment past `base.through`.
   */
  putBase(task: string, partition: number, base: PartitionBase): Promise<void>;
  /** Writes keyed values straight into the base state (savepoint restore). */
  putState(task: string, values: readonly StateChange[]): Promise<void>;
}
