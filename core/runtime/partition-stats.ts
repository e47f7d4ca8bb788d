/**
 * What a task partition reports about itself: records in and out, its last
 * segment, its input watermark, how many keyed values it holds and its last error.
 *
 * The counters are committed with the partition's segments (operator state
 * {@link STATS_KEY}, folded like any other), so they survive a cold start, a
 * crash and a Lambda container change, and cost a few bytes per segment. The
 * embedded runtime reads a report from its warm runners; on AWS each partition puts
 * its report in the ack of every checkpoint it ends, and the HTTP API reads the
 * acks of the newest checkpoints (one query per checkpoint, not a read per partition).
 */

import { IDLE_WATERMARK } from "../envelope.ts";
import type { PartitionView } from "../log/view.ts";
import type { PartitionError, PartitionReport } from "../ports/checkpoint-store.ts";
import type { DeadLetter, StateChange } from "../ports/state-store.ts";

export type { PartitionError, PartitionReport };

/** The operator-state key the committed counters live under (operator keys never start with `~`). */
export const STATS_KEY = "~stats";

/** The committed counters of a partition (the value under {@link STATS_KEY}). */
export interface CommittedStats {
  /** Records taken in and sent on since the partition's log began. */
  readonly in: number;
  readonly out: number;
  /**
   * Live keyed values, counted from the changes the partition committed (a new key
   * +1, a deleted one −1; a write to a key it had not read counts as an update).
   */
  readonly keys: number;
  /** The newest dead letter's error. */
  readonly error?: PartitionError;
}

/** The committed counters in `view` (zero before the first). */
export function committedStats(view: PartitionView): CommittedStats {
  return (view.opState.get(STATS_KEY) as CommittedStats | undefined) ?? { in: 0, out: 0, keys: 0 };
}

/** What one segment's state changes do to the number of live keys. */
export function keyDelta(changes: readonly StateChange[]): number {
  let d = 0;
  for (const c of changes) {
    if (c.n && !c.d) d++;
    else if (c.d && !c.n) d--;
  }
  return d;
}

/** What a slice adds to the counters. */
export interface StatsDelta {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly changes: readonly StateChange[];
  readonly deadLetters: readonly DeadLetter[];
}

/** The counters after a slice, or `undefined` when it changes none of them (nothing to commit). */
export function nextStats(view: PartitionView, d: StatsDelta): CommittedStats | undefined {
  const keys = keyDelta(d.changes);
  const dead = d.deadLetters[d.deadLetters.length - 1];
  if (d.recordsIn === 0 && d.recordsOut === 0 && keys === 0 && dead === undefined) return undefined;
  const was = committedStats(view);
  const error = dead ? { message: dead.error, at: dead.time } : was.error;
  return {
    in: was.in + d.recordsIn,
    out: was.out + d.recordsOut,
    keys: Math.max(0, was.keys + keys),
    ...(error ? { error } : {}),
  };
}

/** The newer of two errors. */
function newer(a: PartitionError | undefined, b: PartitionError | undefined): PartitionError | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.at > a.at ? b : a;
}

/** A partition's report from its committed view (and a failure seen since, if any). */
export function partitionReport(
  where: { task: string; partition: number; channels: readonly string[] },
  view: PartitionView,
  at: number,
  failure?: PartitionError,
): PartitionReport {
  const s = committedStats(view);
  const wm = view.watermarkOver(where.channels);
  const lastError = newer(s.error, failure);
  return {
    task: where.task,
    partition: where.partition,
    recordsIn: s.in,
    recordsOut: s.out,
    segment: view.lastSegment,
    at,
    ...(Number.isFinite(wm) && wm < IDLE_WATERMARK ? { watermark: wm } : {}),
    stateKeys: s.keys,
    ...(lastError ? { lastError } : {}),
  };
}
