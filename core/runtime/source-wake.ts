/**
 * When a source partition polls again. After a poll that read records: at once,
 * unless every split said `idle` (it read up to the end of its input, as an ingest
 * split whose read came back short does): then, and after a poll that read nothing,
 * it parks (partition state `parked`): until a start
 * signal when every split said `idle` (an ingest append sends one), until the
 * earliest `wakeAt` a split asked for, or, when the empty chunks were not `idle`,
 * for a backoff that doubles from {@link MIN_BACKOFF_MS} to {@link MAX_BACKOFF_MS}.
 * A parked partition's `wakeAt` counts as its next processing-time timer, so the
 * runtime's ticks wake it.
 */

import { lingerUntil } from "../control/wake-window.ts";
import { type Envelope, POLL_CHANNEL } from "../envelope.ts";
import type { PartitionView } from "../log/view.ts";
import type { SplitChunk } from "./slice-run.ts";

/** First wait of a source partition whose poll read nothing (it doubles up to {@link MAX_BACKOFF_MS}). */
export const MIN_BACKOFF_MS = 10;
/** Longest wait of a source partition whose polls keep reading nothing. */
export const MAX_BACKOFF_MS = 1000;

/** True when a parked source's wake-up time `wakeAt` (partition state, `null` for none) has come at `now`. */
export function wakeDue(wakeAt: unknown, now: number): boolean {
  return typeof wakeAt === "number" && wakeAt <= now;
}

/**
 * Whether a source partition resumes polling in this slice, from its committed
 * state: on a start signal after a restore (a new generation) or while parked, or
 * parked with a wake-up time that has come.
 */
export function resumesPolling(view: PartitionView, start: boolean, generation: number, now: number): boolean {
  if (view.finished) return false;
  const parked = view.opState.get("parked") === true;
  return (
    (start && (view.opState.get("pollGen") !== generation || parked)) ||
    (parked && wakeDue(view.opState.get("wakeAt"), now))
  );
}

/**
 * The poll a resuming partition runs in the same slice, as if it had sent it to
 * itself and received it: the next seq of its own poll channel (no poll is in flight
 * while it is parked, or at a new generation), so the slice's segment consumes it and
 * a later poll follows it. One invocation per wake-up instead of two.
 */
export function inlinePoll(view: PartitionView, generation: number): Envelope {
  const seq = (view.positions.get(POLL_CHANNEL) ?? 0) + 1;
  return { gen: generation, from: POLL_CHANNEL, seq, records: [], signal: { kind: "poll" } };
}

/**
 * The `lingerUntil` a batch's windowed starts (latest `until`: `startUntil`) raise
 * the partition's to, or undefined when they do not raise it. A partition that
 * parks while its `lingerUntil` is ahead wakes up then (`afterPoll`), to read what
 * the starts the queue dropped as duplicates of the window announced.
 */
export function raisedLinger(view: PartitionView, startUntil: number | undefined): number | undefined {
  if (startUntil === undefined) return undefined;
  const next = lingerUntil(startUntil);
  const committed = view.opState.get("lingerUntil");
  return typeof committed === "number" && committed >= next ? undefined : next;
}

/** The committed wake-up time of a parked source partition, if it has one. */
export function parkedWakeAt(view: PartitionView): number | undefined {
  const w = view.opState.get("wakeAt");
  return view.opState.get("parked") === true && typeof w === "number" ? w : undefined;
}

/** What to do after a poll: the partition-state writes, and whether to poll again at once. */
export function afterPoll(
  c: SplitChunk,
  backoff: number,
  now: number,
  linger?: number,
): { poll: boolean; writes: [string, unknown][] } {
  const read = c.reads.some((r) => r.chunk.records.length > 0);
  const caughtUp = c.reads.length > 0 && c.reads.every((r) => r.chunk.idle === true);
  const reset: [string, unknown][] = read && backoff !== 0 ? [["backoff", 0]] : [];
  if (c.reads.length === 0 || (read && !caughtUp)) return { poll: true, writes: reset };
  if (caughtUp) {
    const times = c.reads.map((r) => r.chunk.wakeAt).filter((t): t is number => typeof t === "number");
    if (linger !== undefined && linger > now) times.push(linger);
    return {
      poll: false,
      writes: [...reset, ["parked", true], ["wakeAt", times.length ? Math.min(...times) : null]],
    };
  }
  const next = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, backoff * 2));
  return {
    poll: false,
    writes: [
      ["parked", true],
      ["backoff", next],
      ["wakeAt", now + next],
    ],
  };
}
