/**
 * Restore: bump the generation and cut every partition's log back to a completed
 * checkpoint. Nothing is copied: each partition's view becomes its base plus its
 * segments up to the cut, later segments are void, and envelopes of the old
 * generation are dropped on arrival. Everything that can refuse a restore is
 * checked before anything is written: a restore completes or changes nothing.
 * Dead-letter replays the cut leaves out lose their mark (`replay-undo.ts`).
 */

import { RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import { describeUidChange, uidChange } from "../graph/uids.ts";
import { foldPartition } from "../log/read.ts";
import type { JobRecord } from "../ports/checkpoint-store.ts";
import { AbortReason, type CheckpointManifest, type CheckpointStore } from "../ports/checkpoint-store.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { CheckpointCoordinator } from "./coordinator.ts";
import { monotonicCut } from "./coordinator.ts";
import { replayPositions, undoReplays } from "./replay-undo.ts";

/** A restore cannot be done (the log no longer holds the cut, the job changed under it…). Nothing was changed. */
export class RestoreError extends RiffleError {
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super("restore", message, options);
  }
}

/**
 * A restore began (its restoring record, at `generation`, is written) but a step after
 * that failed, retryably (a compaction's lease, a throttled request…). What it had
 * installed is never cut back: the record stays restoring, marked interrupted, and the
 * next round's trigger finishes the restore (see `finishStaleRestore`); running the
 * same restore again also finishes it.
 */
export class RestoreInterruptedError extends RiffleError {
  /** The generation the restore moves the job to. */
  readonly generation: number;
  constructor(job: string, generation: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      "restore-interrupted",
      `job '${job}': the restore to generation ${generation} began but was interrupted (${why}); it is finished at the next round of checkpoints, or by the same restore again`,
      { cause, retryable: true },
    );
    this.generation = generation;
  }
}

/** How often a restore tries its conditional record write against concurrent triggers. */
export const RESTORE_WRITE_ATTEMPTS = 5;

/**
 * Aborts the checkpoints in flight and writes the restoring record at the next generation
 * (the record as read, unfailed, plus `update`'s fields): that generation, and whether
 * the conditional write won. `expectGeneration`: undefined when the generation is no longer it.
 * Both restores, to a checkpoint and to a savepoint, write their record through it.
 */
export async function writeRestoring(
  checkpoints: CheckpointStore,
  coordinator: CheckpointCoordinator,
  update: (record: JobRecord) => Partial<JobRecord>,
  expectGeneration?: number,
): Promise<{ generation: number; saved: boolean } | undefined> {
  await coordinator.abortAll(AbortReason.JobRestored);
  const job = await coordinator.record();
  if (expectGeneration !== undefined && job.generation !== expectGeneration) return undefined;
  const generation = job.generation + 1;
  const { failed: _failed, ...running } = job; // a restored job runs again
  const saved = await checkpoints.saveJob(
    { ...running, ...update(job), generation, failures: 0, restoring: true, restoringSince: coordinator.now() },
    { generation: job.generation, nextCheckpoint: job.nextCheckpoint },
  );
  return { generation, saved };
}

/**
 * Writes the restoring record, retrying a lost race with a trigger (the round's trigger
 * writes the record too: it lists the checkpoint in flight), not refusing it; undefined
 * when another restore moved the generation (that race is the caller's).
 */
async function markRestoring(
  checkpoints: CheckpointStore,
  coordinator: CheckpointCoordinator,
  update: (record: JobRecord) => Partial<JobRecord>,
): Promise<number | undefined> {
  let seen: number | undefined;
  for (let attempt = 0; attempt < RESTORE_WRITE_ATTEMPTS; attempt++) {
    const written = await writeRestoring(checkpoints, coordinator, update, seen);
    if (written === undefined) return undefined;
    if (written.saved) return written.generation;
    seen = written.generation - 1;
  }
  return undefined;
}

/** Earlier completed checkpoints a restore consults to repair a cut that moved back. */
const CUT_LOOKBACK = 16;

/**
 * Restores `plan`'s job to `manifest` (or to empty state when there is none); returns
 * the new generation. `update` adds fields to the new job record (the restart count).
 */
export async function restoreToCheckpoint(
  plan: Plan,
  state: StateStore,
  checkpoints: CheckpointStore,
  output: OutputStore,
  coordinator: CheckpointCoordinator,
  manifest: CheckpointManifest | undefined,
  update: (record: JobRecord) => Partial<JobRecord> = () => ({}),
): Promise<number> {
  const cut = manifest ? await effectiveCut(checkpoints, manifest) : await startOfGeneration(plan, state);
  await checkRestorable(plan, state, cut, manifest);
  const generation = await markRestoring(checkpoints, coordinator, update);
  if (generation === undefined) {
    throw new RestoreError(`job '${plan.job}' changed while restoring; try again`, { retryable: true });
  }
  return finishRestoring(checkpoints, plan.job, generation, async () => {
    await cutTo(plan, state, checkpoints, output, manifest, cut, generation);
    return generation;
  });
}

/** The rest of {@link restoreToCheckpoint}, once its record is written: every partition cut back to `cut`. */
async function cutTo(
  plan: Plan,
  state: StateStore,
  checkpoints: CheckpointStore,
  output: OutputStore,
  manifest: CheckpointManifest | undefined,
  cut: Readonly<Record<string, number>>,
  generation: number,
): Promise<void> {
  const positions: Record<string, Record<string, number>> = {};
  for (const task of plan.tasks) {
    for (let p = 0; p < task.parallelism; p++) {
      const k = `${task.id}#${p}`;
      await state.truncate(task.id, p, cut[k] ?? 0, generation);
      // A partition that had finished before the cut stays finished: report it again.
      const view = await foldPartition(state, task.id, p, cut[k] ?? 0, "none");
      positions[k] = replayPositions(view.positions);
      if (view.finished) {
        await checkpoints.finished(plan.job, { task: task.id, partition: p, segment: view.lastSegment, generation });
      }
    }
  }
  // The replays the cut leaves out are undone: their letters may be replayed again.
  const since = (await checkpoints.loadJob(plan.job))?.restoredFrom?.generation ?? 0;
  await undoReplays(output, plan.job, { since, generation: manifest?.generation ?? generation - 1, positions });
  await finishRestore(checkpoints, plan.job);
}

/**
 * Runs the rest of a restore whose restoring record (at `generation`) is written. A
 * failure leaves the record restoring (a half-installed restore is finished, never cut
 * back), marks it interrupted so that the next round's trigger finishes it at once
 * rather than after `STALE_RESTORE_MS`, and throws {@link RestoreInterruptedError}.
 */
export async function finishRestoring<T>(
  checkpoints: CheckpointStore,
  job: string,
  generation: number,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RestoreInterruptedError) throw error;
    await markInterrupted(checkpoints, job, generation).catch(() => {}); // else it is stale in STALE_RESTORE_MS
    throw new RestoreInterruptedError(job, generation, error);
  }
}

/** `restoringSince` of a restore that failed and is no longer running: the next trigger finishes it. */
export const INTERRUPTED = 0;

/** Marks the record restoring `generation` {@link INTERRUPTED} (a conditional write; a lost race is fine). */
async function markInterrupted(checkpoints: CheckpointStore, job: string, generation: number): Promise<void> {
  const r = await checkpoints.loadJob(job);
  if (!r?.restoring || r.generation !== generation) return;
  const at = { generation: r.generation, nextCheckpoint: r.nextCheckpoint };
  await checkpoints.saveJob({ ...r, restoringSince: INTERRUPTED }, at);
}

/**
 * The cut to restore: `manifest`'s, raised to the cuts of the completed checkpoints
 * of its generation just before it (a cut written before cuts were kept monotonic may
 * have moved back below what compaction already folded).
 */
async function effectiveCut(
  checkpoints: CheckpointStore,
  manifest: CheckpointManifest,
): Promise<Record<string, number>> {
  let cut: Record<string, number> = { ...(manifest.cut ?? {}) };
  for (let id = manifest.id - 1; id > 0 && id >= manifest.id - CUT_LOOKBACK; id--) {
    const m = await checkpoints.getManifest(manifest.job, id);
    if (m?.status === "completed" && m.generation === manifest.generation) cut = monotonicCut(cut, m.cut);
  }
  return cut;
}

/**
 * The cut of a generation that completed no checkpoint yet: each partition's base
 * (what a savepoint restore installed; nothing for a new job). A run killed after a
 * savepoint restore, before its first checkpoint, resumes from the savepoint.
 */
async function startOfGeneration(plan: Plan, state: StateStore): Promise<Record<string, number>> {
  const cut: Record<string, number> = {};
  for (const task of plan.tasks) {
    for (let p = 0; p < task.parallelism; p++)
      cut[`${task.id}#${p}`] = (await state.readBase(task.id, p))?.through ?? 0;
  }
  return cut;
}

/** Refuses (changing nothing) when a partition's log was compacted past the cut. */
async function checkRestorable(
  plan: Plan,
  state: StateStore,
  cut: Readonly<Record<string, number>>,
  manifest: CheckpointManifest | undefined,
): Promise<void> {
  for (const task of plan.tasks) {
    for (let p = 0; p < task.parallelism; p++) {
      const through = (await state.readBase(task.id, p))?.through ?? 0;
      const at = cut[`${task.id}#${p}`] ?? 0;
      if (through > at) {
        throw new RestoreError(
          `cannot restore job '${plan.job}' to checkpoint ${manifest?.id ?? 0}: ${task.id}[${p}] is compacted through segment ${through}, past the cut (${at}); nothing was changed`,
        );
      }
    }
  }
}

/** Clears the job record's `restoring` flag (retrying while the counter moves under it). */
export async function finishRestore(checkpoints: CheckpointStore, job: string): Promise<void> {
  for (let attempt = 1; attempt <= 100; attempt++) {
    const r = await checkpoints.loadJob(job);
    if (!r?.restoring) return;
    const { restoring: _, restoringSince: _since, ...rest } = r;
    if (await checkpoints.saveJob(rest, { generation: r.generation, nextCheckpoint: r.nextCheckpoint })) return;
  }
  throw new RestoreError(`job '${job}': could not clear the restoring flag (the record kept changing)`, {
    retryable: true,
  });
}

/** Resuming from the log needs the same parallelism; a rescale goes through a savepoint. */
export function checkSameParallelism(plan: Plan, previous: JobRecord): void {
  const changed = uidChange(plan, Object.keys(previous.parallelism));
  if (changed) {
    throw new RestoreError(
      `job '${plan.job}' cannot resume from its last run: ${describeUidChange(changed)}; ` +
        "to change a job's operators, take a savepoint and start from it",
    );
  }
  const now = Object.fromEntries(plan.tasks.map((t) => [t.id, t.parallelism]));
  const sorted = (o: Readonly<Record<string, number>>) =>
    JSON.stringify(Object.entries(o).sort((a, b) => a[0].localeCompare(b[0])));
  if (sorted(previous.parallelism) !== sorted(now)) {
    throw new RestoreError(
      `job '${plan.job}' last ran with parallelism ${JSON.stringify(previous.parallelism)}, now ${JSON.stringify(now)}: ` +
        "to rescale, take a savepoint and start from it",
    );
  }
}
