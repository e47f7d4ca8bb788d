/**
 * Restore: bump the generation and cut every partition's log back to a completed
 * checkpoint. Nothing is copied: each partition's view becomes its base plus its
 * segments up to the cut, later segments are void, and envelopes of the old
 * generation are dropped on arrival.
 */

import type { Plan } from "../graph/plan.ts";
import { foldPartition } from "../log/read.ts";
import type { JobRecord } from "../ports/checkpoint-store.ts";
import { AbortReason, type CheckpointManifest, type CheckpointStore } from "../ports/checkpoint-store.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { CheckpointCoordinator } from "./coordinator.ts";
import { SavepointError } from "./savepoint.ts";

/** Restores `plan`'s job to `manifest` (or to empty state when there is none); returns the new generation. */
export async function restoreToCheckpoint(
  plan: Plan,
  state: StateStore,
  checkpoints: CheckpointStore,
  coordinator: CheckpointCoordinator,
  manifest: CheckpointManifest | undefined,
): Promise<number> {
  await coordinator.abortAll(AbortReason.JobRestored);
  const job = await coordinator.record();
  const generation = job.generation + 1;
  const saved = await checkpoints.saveJob(
    { ...job, generation, failures: 0, restoring: true },
    { generation: job.generation, nextCheckpoint: job.nextCheckpoint },
  );
  if (!saved) throw new Error(`job '${plan.job}' changed while restoring`);
  for (const task of plan.tasks) {
    for (let p = 0; p < task.parallelism; p++) {
      const through = manifest?.cut?.[`${task.id}#${p}`] ?? 0;
      await state.truncate(task.id, p, through, generation);
      // A partition that had finished before the cut stays finished: report it again.
      const view = await foldPartition(state, task.id, p);
      if (view.finished) {
        await checkpoints.finished(plan.job, { task: task.id, partition: p, segment: view.lastSegment, generation });
      }
    }
  }
  await finishRestore(checkpoints, plan.job);
  return generation;
}

/** Clears the job record's `restoring` flag (retrying while the counter moves under it). */
export async function finishRestore(checkpoints: CheckpointStore, job: string): Promise<void> {
  for (let attempt = 1; attempt <= 100; attempt++) {
    const r = await checkpoints.loadJob(job);
    if (!r?.restoring) return;
    const { restoring: _, ...rest } = r;
    if (await checkpoints.saveJob(rest, { generation: r.generation, nextCheckpoint: r.nextCheckpoint })) return;
  }
  throw new Error(`job '${job}': could not clear the restoring flag (the record kept changing)`);
}

/** Resuming from the log needs the same parallelism; a rescale goes through a savepoint. */
export function checkSameParallelism(plan: Plan, previous: JobRecord): void {
  const now = Object.fromEntries(plan.tasks.map((t) => [t.id, t.parallelism]));
  const sorted = (o: Readonly<Record<string, number>>) =>
    JSON.stringify(Object.entries(o).sort((a, b) => a[0].localeCompare(b[0])));
  if (sorted(previous.parallelism) !== sorted(now)) {
    throw new SavepointError(
      `job '${plan.job}' last ran with parallelism ${JSON.stringify(previous.parallelism)}, now ${JSON.stringify(now)}: ` +
        "to rescale, take a savepoint and start from it",
    );
  }
}
