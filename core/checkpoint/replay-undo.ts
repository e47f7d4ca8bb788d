/**
 * A restore undoes the replays it cuts away. A dead-letter replay on the stores
 * (`core/control/store-control.ts`) marks its letters replayed as it sends them
 * back, each with the envelope that carries it ({@link ReplayMark}): generation,
 * destination partition, replay channel and sequence number. A restore may then
 * move the job to a state without that envelope's effect: the envelope was taken
 * after the cut, or it arrives at the old generation and is dropped. Its mark must
 * go too, or the record is lost for ever.
 *
 * One rule for every restore (to a checkpoint, from a savepoint, a rescale): once
 * the logs are rewritten and before the restore finishes, clear the mark of every
 * letter whose envelope is not inside the restored state ({@link replayInside}).
 * Clearing is conditional on the envelope's sequence number, so it is idempotent: a
 * restore retried, or finished by a later round, clears the same marks again, and
 * never a newer replay's.
 */

import { REPLAY_PREFIX } from "../envelope.ts";
import type { ReplayCut } from "../ports/checkpoint-store.ts";
import type { OutputStore, ReplayMark } from "../ports/output-store.ts";

export type { ReplayCut };

/** Whether the envelope of `mark` is inside the state `cut` describes (its partition took it by the cut). */
export function replayInside(mark: ReplayMark, cut: ReplayCut): boolean {
  if (mark.generation < cut.since) return true;
  if (mark.generation > cut.generation) return false;
  return (cut.positions[`${mark.task}#${mark.partition}`]?.[mark.channel] ?? 0) >= mark.seq;
}

/** The replay channels among a partition's channel positions. */
export function replayPositions(positions: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [channel, seq] of positions) if (channel.startsWith(REPLAY_PREFIX)) out[channel] = seq;
  return out;
}

/**
 * Clears the replayed mark of each of `job`'s dead letters whose replay envelope is
 * not inside `cut` (letters marked without an envelope are left alone). Returns
 * the ids cleared.
 */
export async function undoReplays(output: OutputStore, job: string, cut: ReplayCut): Promise<string[]> {
  const undone = (await output.deadLetters(job)).flatMap((d) =>
    d.replayedAt !== undefined && d.replay && !replayInside(d.replay, cut) ? [{ id: d.id, seq: d.replay.seq }] : [],
  );
  if (undone.length > 0) await output.unmarkReplayed(job, undone);
  return undone.map((d) => d.id);
}
