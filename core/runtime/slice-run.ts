/**
 * A slice of a batch: what the runner hands `processSlice` (its deduplicated
 * input and source chunk), what processing records before it becomes a segment,
 * and what the slice comes to (and whether a failed one is rerun record by record).
 */

import type { SourceChunk } from "../api/source.ts";
import type { Envelope } from "../envelope.ts";
import { OperatorError } from "../errors.ts";
import type { JobConfig } from "../graph/graph.ts";
import type { Aligning, Segment } from "../ports/state-store.ts";
import type { Consumed, Intake } from "./intake.ts";
import type { Live } from "./partition-loader.ts";
import type { InboundMessage } from "./runner-types.ts";

/** What one poll read from the partition's splits. */
export interface SplitChunk {
  readonly reads: readonly { readonly split: string; readonly chunk: SourceChunk<unknown> }[];
  /** Every split of the partition is done after these reads. */
  readonly allDone: boolean;
  /** Rotation cursor after these reads. */
  readonly cursor: number;
}

/** What processing a slice did; becomes the segment. */
export interface SliceRun {
  /** Index in `consumed` of the envelope that failed. */
  failedAt: number | undefined;
  error: unknown;
  /** Consumed entries handled (processed or deferred); the rest wait for the next slice. */
  handled: number;
  records: number;
  /** Schedule another poll of the source. */
  poll: boolean;
  /** The poll chunk was processed (else the reader ran ahead and must be reopened). */
  chunkUsed: boolean;
  finished: boolean;
  /** Input channel → last seq processed. */
  positions: Map<string, number>;
  opState: Map<string, unknown>;
  watermarks: Map<string, number>;
  ended: Set<string>;
  /** Envelopes of channels that a barrier in this slice blocked. */
  deferred: Envelope[];
  endsEpoch: number | undefined;
  alignmentMs: number | undefined;
  /** New alignment state: `undefined` unchanged, `null` cleared. */
  aligning: Aligning | null | undefined;
}

/** Inputs of `processSlice`. */
export interface SliceInput {
  readonly live: Live;
  /** Input channels of the partition. */
  readonly channels: readonly string[];
  readonly isSource: boolean;
  readonly generation: number;
  readonly maxRecordAttempts: number;
  readonly consumed: readonly Consumed[];
  /** Receive count of each message of the batch. */
  readonly attempts: readonly number[];
  readonly chunk: SplitChunk | undefined;
  readonly isolate: boolean;
  /** The source partition resumes polling (`resumesPolling`); `consumed` starts with its poll. */
  readonly resumed: boolean;
  /** A windowed start raised the partition's `lingerUntil` to this (`source-wake.ts`). */
  readonly lingerUntil: number | undefined;
}

/** A run that has done nothing yet. */
export function emptyRun(): SliceRun {
  return {
    failedAt: undefined,
    error: undefined,
    handled: 0,
    records: 0,
    poll: false,
    chunkUsed: false,
    finished: false,
    positions: new Map(),
    opState: new Map(),
    watermarks: new Map(),
    ended: new Set(),
    deferred: [],
    endsEpoch: undefined,
    alignmentMs: undefined,
    aligning: undefined,
  };
}

/** The parts of `run` an envelope can change, copied (to restore when it fails in isolation mode). */
export function snapshot(run: SliceRun): Partial<SliceRun> {
  return {
    handled: run.handled,
    records: run.records,
    poll: run.poll,
    chunkUsed: run.chunkUsed,
    finished: run.finished,
    positions: new Map(run.positions),
    opState: new Map(run.opState),
    watermarks: new Map(run.watermarks),
    ended: new Set(run.ended),
    deferred: [...run.deferred],
    aligning: run.aligning,
  };
}

/** A slice's input after dedup (step 1 of a batch), and the time it runs at. */
export interface SliceStep {
  readonly taken: Intake;
  readonly now: number;
  /** A tick asked to fire due processing-time timers (first slice only). */
  readonly tick: boolean;
  /** A start signal arrived (first slice only). */
  readonly start: boolean;
  /** Processing-time timers are due. */
  readonly timersDue: boolean;
  /** A source partition resumes polling; its poll leads `taken.consumed` (`source-wake.ts`). */
  readonly resumed: boolean;
  /** A windowed start raised the time the source partition polls again by: the new value. */
  readonly lingerUntil: number | undefined;
}

/** What one slice came to. */
export type SliceOutcome =
  /** An operator failed on a record's last attempt: rerun the batch record by record. */
  | { readonly kind: "isolate" }
  /** Nothing to process: no segment. */
  | { readonly kind: "idle" }
  /** A segment committed and its outbox sent; `more`: it ended an epoch and the batch goes on in the next slice. */
  | { readonly kind: "committed"; readonly segment: Segment; readonly more: boolean }
  /**
   * A segment committed, but its send failed (`failedFrom` 0) or message `failedFrom` failed (the segment holds
   * what came before it). That message and every later one are retried.
   */
  | { readonly kind: "failed"; readonly failedFrom: number; readonly error: unknown; readonly segment: Segment };

/**
 * Whether a failed run is rerun record by record, so that the failing record
 * becomes a dead letter: an operator failed, on some message's last attempt,
 * and the job (`config`) dead-letters failing records.
 */
export function isolatable(
  run: SliceRun,
  taken: Intake,
  messages: readonly InboundMessage[],
  config: Pick<JobConfig, "maxRecordAttempts" | "recordFailure">,
): boolean {
  const { maxRecordAttempts, recordFailure } = config;
  const exhausted = taken.consumed.some((c) => (messages[c.msg]?.receiveCount ?? 0) >= maxRecordAttempts);
  return run.error instanceof OperatorError && exhausted && recordFailure === "dead-letter";
}

/** What a slice whose segment committed and was sent comes to. */
export function sliceOutcome(taken: Intake, run: SliceRun, segment: Segment): SliceOutcome {
  if (run.failedAt !== undefined) {
    const failedFrom = (taken.consumed[run.failedAt] as Consumed).msg;
    return { kind: "failed", failedFrom, error: run.error, segment };
  }
  return { kind: "committed", segment, more: run.endsEpoch !== undefined };
}
