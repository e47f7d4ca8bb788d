/**
 * The `StateStore` port: a partition's changelog of segments, plus the keyed state
 * those segments produced. Implementations: `InMemoryStateStore` here; the file
 * store and the DynamoDB store elsewhere. The contract: `append` is a conditional
 * write — exactly one writer can commit segment n of a partition.
 */

import type { Envelope, OutboxEntry } from "../envelope.ts";

/** One keyed-state write. `d` marks a deletion. */
export interface StateChange {
  /** State id: `<operator uid>/<state name>`. */
  readonly s: string;
  /** Encoded key. */
  readonly k: string;
  /** Key group of the key. */
  readonly g: number;
  /** New value (absent when deleted). */
  readonly v?: unknown;
  /** True when the value was deleted. */
  readonly d?: true;
}

/** A record that failed `attempts` times and was set aside instead of processed. */
export interface DeadLetter {
  /** uid of the operator that threw. */
  readonly operator: string;
  /** The input record. */
  readonly value: unknown;
  /** The error message. */
  readonly error: string;
  /** Receive attempts of the envelope that carried it. */
  readonly attempts: number;
  /** Channel and seq of that envelope. */
  readonly channel: string;
  readonly seq: number;
  /** Processing time at which it was set aside. */
  readonly time: number;
}

/**
 * One committed step of a partition. Everything that step did is in here: the
 * state changes, the new channel positions, the output seqs, and the envelopes it
 * emitted. One atomic write, so state and the proof of consumption never disagree.
 */
export interface Segment {
  /** Segment number, 1-based and gapless per partition. */
  readonly n: number;
  /** Job generation that wrote it. */
  readonly gen: number;
  /** Processing time of the commit. */
  readonly time: number;
  /** Input channels consumed in this step → last seq consumed (changed channels only). */
  readonly positions: Readonly<Record<string, number>>;
  /** Output channels written in this step → last seq used (changed channels only). */
  readonly outSeqs: Readonly<Record<string, number>>;
  /** Keyed state writes. */
  readonly changes: readonly StateChange[];
  /** Envelopes this step emitted, to be sent after the commit. */
  readonly outbox: readonly OutboxEntry[];
  /** Outboxes of segments up to this number were confirmed sent before this commit. */
  readonly sentThrough: number;
  /** Envelopes that arrived ahead of their turn and wait for a gap to fill. */
  readonly buffered?: readonly Envelope[];
  /** Partition-scoped operator state written in this step (source positions, …). */
  readonly opState?: Readonly<Record<string, unknown>>;
  /** Per input channel watermark (changed channels only). */
  readonly watermarks?: Readonly<Record<string, number>>;
  /** Input channels that delivered end-of-input in this step. */
  readonly ended?: readonly string[];
  /** True when this step finished the partition (end-of-input forwarded). */
  readonly finished?: true;
  /** Records this step committed to named sinks. */
  readonly sink?: Readonly<Record<string, readonly unknown[]>>;
  /** Records set aside after repeated failures. */
  readonly deadLetters?: readonly DeadLetter[];
  /** Set when this segment ends checkpoint epoch n. */
  readonly endsEpoch?: number;
  /** With `endsEpoch`: time from the first barrier n to the last one on the inputs. */
  readonly alignmentMs?: number;
  /** Barrier alignment in progress after this segment; `null` when it ended here. */
  readonly aligning?: Aligning | null;
}

/** A barrier alignment in progress: channels that delivered barrier `n` wait for the rest. */
export interface Aligning {
  readonly n: number;
  /** Channels that delivered barrier `n` (and are blocked until all have). */
  readonly channels: readonly string[];
  /** Processing time of the first barrier `n`. */
  readonly since: number;
}

/**
 * What a partition's compacted segments add up to: everything in a {@link Segment}
 * except the state changes (those are folded into the keyed state) and the
 * outboxes (compaction only folds segments whose outbox is confirmed sent).
 */
export interface PartitionBase {
  /** Segments up to and including this number are folded in. */
  readonly through: number;
  readonly sentThrough: number;
  readonly positions: Readonly<Record<string, number>>;
  readonly outSeqs: Readonly<Record<string, number>>;
  readonly opState: Readonly<Record<string, unknown>>;
  readonly watermarks: Readonly<Record<string, number>>;
  readonly ended: readonly string[];
  readonly finished: boolean;
  /** Envelopes still waiting in the reorder or alignment buffer. */
  readonly buffered: readonly Envelope[];
  /** Alignment in progress, if any. */
  readonly aligning?: Aligning;
}

/** Reference to one keyed-state value. */
export interface StateRef {
  readonly s: string;
  readonly k: string;
  readonly g: number;
}

/** The changelog and keyed state of a job's partitions. */
export interface StateStore {
  /**
   * Appends `segment` to `task[partition]` if and only if its number is one past the
   * last. Throws `SegmentConflictError` when segment `segment.n` already exists (or
   * would leave a gap), `SegmentFencedError` when `segment.gen` is older than the
   * partition's fence (see `truncate`).
   * Resolves with the bytes written for it (0 for a store that keeps objects).
   */
  append(task: string, partition: number, segment: Segment): Promise<number>;
  /** Segments of `task[partition]` numbered above `after` that are not compacted, ascending. */
  readSegments(task: string, partition: number, after: number): Promise<Segment[]>;
  /** The compacted base of `task[partition]`, if it was ever compacted. */
  readBase(task: string, partition: number): Promise<PartitionBase | undefined>;
  /**
   * Folds segments up to `through` into the base and deletes them. Never folds a
   * segment whose outbox is not proven sent (a later segment's `sentThrough`), so at
   * least the last segment always stays. Returns the new base's `through`.
   */
  compact(task: string, partition: number, through: number): Promise<number>;
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
  /** Installs the base of an empty partition (savepoint restore). */
  putBase(task: string, partition: number, base: PartitionBase): Promise<void>;
  /** Writes keyed values straight into the base state (savepoint restore). */
  putState(task: string, values: readonly StateChange[]): Promise<void>;
}
