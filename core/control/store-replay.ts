/**
 * A dead-letter replay over the stores (AWS, aws-local): the letters are marked
 * replayed, each with the envelope that carries it, and then sent. A restore that
 * begins after the mark finds it and clears it if the restored state does not hold
 * the envelope (`core/checkpoint/replay-undo.ts`). A restore that overlaps the
 * replay may have looked before the mark while the envelope, sent at the old
 * generation, is dropped: the replay sees the generation move, waits for the
 * restore to finish, clears by the same rule the marks whose envelope the restored
 * log did not take, and sends those letters again.
 */

import { replayInside, replayPositions } from "../checkpoint/replay-undo.ts";
import type { StepContext } from "../checkpoint/step-scope.ts";
import { RiffleError } from "../errors.ts";
import { runningPlan } from "../graph/rescale.ts";
import { foldPartition } from "../log/read.ts";
import type { JobRecord } from "../ports/checkpoint-store.ts";
import type { ReplayMark, StoredDeadLetter } from "../ports/output-store.ts";
import { groupEntries, lettersToReplay, replayGroups, replayMarks } from "./replay.ts";
import { replayRouter } from "./replay-routing.ts";

/** How often a replay that a restore overlapped is sent again before it gives up. */
const REPLAY_ATTEMPTS = 5;

/** Replays `ids` (every letter not replayed yet when absent); returns how many letters were replayed. */
export async function replayOnStores(
  o: StepContext,
  ids: readonly string[] | undefined,
  timeoutMs: number,
): Promise<{ replayed: number }> {
  const job = o.plan.job;
  const replayed = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    const letters = lettersToReplay(await o.output.deadLetters(job), ids);
    if (letters.length === 0) return { replayed: replayed.size };
    const record = await o.checkpoints.loadJob(job);
    const marks = await sendMarked(o, letters, record);
    for (const d of letters) replayed.add(d.id);
    const after = await o.checkpoints.loadJob(job);
    if (!record?.restoring && !after?.restoring && after?.generation === record?.generation)
      return { replayed: replayed.size };
    // A restore overlapped: its undo may have run before the marks were written.
    const restored = await restoreFinished(o, timeoutMs);
    const undone = await undoOwn(o, restored, marks);
    for (const id of undone) replayed.delete(id);
    if (undone.length === 0) return { replayed: replayed.size };
    if (attempt >= REPLAY_ATTEMPTS) {
      throw new RiffleError("replay-interrupted", `job '${job}' kept being restored while replaying; replay again`, {
        retryable: true,
      });
    }
    ids ??= undone;
  }
}

/** Marks `letters` replayed with their envelopes, then sends the envelopes; returns the marks. */
async function sendMarked(
  o: StepContext,
  letters: readonly StoredDeadLetter[],
  record: JobRecord | undefined,
): Promise<Record<string, ReplayMark>> {
  const generation = record?.generation ?? 1;
  const now = o.clock.now();
  // Routed at the running parallelism: a rescaled task's key groups moved.
  const groups = replayGroups(letters, replayRouter(runningPlan(o.plan, record?.parallelism), o.graph));
  const marks = replayMarks(groups, generation, now);
  // Marked first: a restore that begins after the marks sees them.
  await o.output.markReplayed(
    o.plan.job,
    letters.map((d) => d.id),
    now,
    marks,
  );
  await o.queue.send(groupEntries(groups, generation, now));
  return marks;
}

/** Waits until the job record leaves `restoring`; returns it. */
async function restoreFinished(o: StepContext, timeoutMs: number): Promise<JobRecord | undefined> {
  const deadline = o.clock.now() + timeoutMs;
  for (;;) {
    const record = await o.checkpoints.loadJob(o.plan.job);
    if (!record?.restoring) return record;
    if (o.clock.now() > deadline) {
      throw new RiffleError("replay-interrupted", `job '${o.plan.job}' is still restoring; replay again later`, {
        retryable: true,
      });
    }
    await o.clock.sleep(100);
  }
}

/**
 * Clears the marks of `marks` that are still this replay's and whose envelope the
 * restored log did not take (by the rule of `replay-undo.ts`, on the partitions'
 * positions now); returns the ids cleared.
 */
async function undoOwn(
  o: StepContext,
  record: JobRecord | undefined,
  marks: Readonly<Record<string, ReplayMark>>,
): Promise<string[]> {
  const mine = (await o.output.deadLetters(o.plan.job)).filter(
    (d) => d.replayedAt !== undefined && d.replay?.seq === marks[d.id]?.seq,
  );
  const positions: Record<string, Record<string, number>> = {};
  for (const d of mine) {
    const m = d.replay as ReplayMark;
    const k = `${m.task}#${m.partition}`;
    positions[k] ??= replayPositions((await foldPartition(o.state, m.task, m.partition, undefined, "none")).positions);
  }
  const cut = { since: 0, generation: record?.generation ?? 0, positions };
  const undone = mine.filter((d) => !replayInside(d.replay as ReplayMark, cut));
  if (undone.length > 0)
    await o.output.unmarkReplayed(
      o.plan.job,
      undone.map((d) => ({ id: d.id, seq: (d.replay as ReplayMark).seq })),
    );
  return undone.map((d) => d.id);
}
