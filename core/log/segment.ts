/**
 * The partition log's vocabulary: a segment (one committed step of a partition),
 * the base that compaction folds segments into, and what they carry (keyed-state
 * changes, dead letters, barrier alignment). Every store, the runner, restore,
 * savepoints and compaction speak these types; `view.ts` folds them.
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
  /**
   * True when the key had no committed value before the batch that wrote this
   * change, so a fold that ends with its deletion has nothing to delete
   * (`netChanges`): a window created and fired between two folds costs the base
   * nothing.
   */
  readonly n?: true;
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
  /**
   * Records two-phase sinks staged in this step, by operator uid: written into a
   * transaction at the epoch's barrier, never published (segments of an open epoch
   * are never compacted, so the base needs none).
   */
  readonly staged?: Readonly<Record<string, readonly unknown[]>>;
  /** Records set aside after repeated failures. */
  readonly deadLetters?: readonly DeadLetter[];
  /** Set when this segment ends checkpoint epoch n. */
  readonly endsEpoch?: number;
  /** With `endsEpoch`: time from the first barrier n to the last one on the inputs. */
  readonly alignmentMs?: number;
  /** Barrier alignment in progress after this segment; `null` when it ended here. */
  readonly aligning?: Aligning | null;
  /**
   * Inside a store only: the object that holds this segment's outbox, sink records
   * and dead letters (`payload.ts`). A store's readers never see it: they get the
   * segment whole.
   */
  readonly payload?: string;
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
