/**
 * Folding a completed checkpoint into the keyed values, in place (a rescale): each
 * partition's log is cut back to the checkpoint's cut and fenced at the new
 * generation, then every segment up to the cut is compacted into the task's values,
 * which are addressed by key group. The task's logs can then be dropped
 * (`StateStore.dropLogs`) and its new partitions, owning new key-group ranges, read
 * the values where they are: ownership moves, values are not copied.
 *
 * Compaction never folds the last segment of a log on its own (its outbox may still
 * have to be sent). At a completed cut every outbox up to the cut was sent (a
 * partition acks only after sending), so the fold appends an empty *seal* segment
 * right after the cut, of the new generation, whose `sentThrough` says so.
 */

import { SegmentConflictError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import { readPartition } from "../log/read.ts";
import type { Segment } from "../log/segment.ts";
import type { StateStore } from "../ports/state-store.ts";
import { RestoreError } from "./restore.ts";

/**
 * Folds every partition of `plan`'s tasks, at the parallelism in `parallelism` (the
 * checkpoint's), up to its cut in `cut`. Idempotent: a partition already folded, or
 * dropped, or given a new base by an earlier attempt, is left alone.
 */
export async function foldCutIntoValues(
  plan: Plan,
  state: StateStore,
  clock: { now(): number },
  parallelism: Readonly<Record<string, number>>,
  cut: Readonly<Record<string, number>>,
  generation: number,
): Promise<void> {
  for (const task of plan.tasks) {
    const P = parallelism[task.id] ?? task.parallelism;
    for (let p = 0; p < P; p++) await foldPartition(state, clock, task.id, p, cut[`${task.id}#${p}`] ?? 0, generation);
  }
}

async function foldPartition(
  state: StateStore,
  clock: { now(): number },
  task: string,
  partition: number,
  cut: number,
  generation: number,
): Promise<void> {
  const { base, segments } = await readPartition(state, task, partition);
  const from = base?.through ?? 0;
  if (from > cut) return; // the new base of an earlier attempt of this rescale
  const last = Math.min(cut, segments.at(-1)?.n ?? from);
  await state.truncate(task, partition, last, generation);
  if (last <= from) return;
  const seal: Segment = {
    n: last + 1,
    gen: generation,
    time: clock.now(),
    positions: {},
    outSeqs: {},
    changes: [],
    outbox: [],
    sentThrough: last,
  };
  try {
    await state.append(task, partition, seal);
  } catch (e) {
    if (!(e instanceof SegmentConflictError)) throw e; // sealed by an earlier attempt
  }
  const through = await state.compact(task, partition, last);
  if (through < last) {
    throw new RestoreError(`rescale: ${task}[${partition}] folded only through segment ${through} of ${last}`, {
      retryable: true,
    });
  }
}
