/**
 * Savepoints: a completed checkpoint, materialized. Taking one folds each
 * partition's base and segments up to the cut into plain keyed values (by key
 * group) and source positions (by split), so it outlives compaction and restores
 * at any parallelism: the new partitions simply own new key-group ranges.
 */

import { PartitionNotEmptyError, RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { describeUidChange, uidChange } from "../graph/uids.ts";
import { keyGroupRange } from "../keys.ts";
import { foldPartition } from "../log/read.ts";
import { isValidName, NAME_RULE } from "../names.ts";
import { BROADCAST_STATE_PREFIX } from "../operators/broadcast-state.ts";
import {
  BROADCAST_STATE,
  type CheckpointManifest,
  type CheckpointStore,
  OPERATOR_LISTS,
  type Savepoint,
} from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { StateChange, StateStore } from "../ports/state-store.ts";
import type { CheckpointCoordinator } from "./coordinator.ts";
import { foldCutIntoValues } from "./fold-cut.ts";
import { replayPositions, undoReplays } from "./replay-undo.ts";
import { finishRestore, finishRestoring, RESTORE_WRITE_ATTEMPTS, writeRestoring } from "./restore.ts";
import { installTask, lastSegment } from "./savepoint-install.ts";

/** A savepoint cannot be taken or restored: unknown name, another job, a name taken, incompatible state. */
export class SavepointError extends RiffleError {
  constructor(message: string) {
    super("savepoint", message);
  }
}

/** Checks a savepoint name. */
export function checkSavepointName(name: string): string {
  if (!isValidName(name)) throw new SavepointError(`savepoint name '${name}' must be ${NAME_RULE}`);
  return name;
}

/**
 * Savepoint `name` of job `job`.
 *
 * @throws SavepointError naming the savepoints the job has, when it has no such one.
 */
export async function findSavepoint(checkpoints: CheckpointStore, job: string, name: string): Promise<Savepoint> {
  const sp = await checkpoints.getSavepoint(job, checkSavepointName(name));
  if (sp) return sp;
  const names = (await checkpoints.listSavepoints(job)).map((x) => x.name);
  throw new SavepointError(
    `job '${job}' has no savepoint named '${name}'` +
      (names.length ? ` (it has: ${names.join(", ")})` : " (it has none)"),
  );
}

/**
 * Materializes completed checkpoint `manifest` as savepoint `name`. With `inPlace`
 * (a rescale) it keeps only the source positions: the keyed values stay where they
 * are, and restoring it folds the checkpoint into them (`fold-cut.ts`).
 */
export async function takeSavepoint(
  plan: Plan,
  state: StateStore,
  checkpoints: CheckpointStore,
  clock: Clock,
  manifest: CheckpointManifest,
  name: string,
  options: { inPlace?: boolean } = {},
): Promise<Savepoint> {
  checkSavepointName(name);
  if (await checkpoints.getSavepoint(plan.job, name)) {
    throw new SavepointError(`job '${plan.job}' already has a savepoint named '${name}'`);
  }
  if (manifest.status !== "completed" || !manifest.cut) {
    throw new SavepointError(`checkpoint ${manifest.id} of job '${plan.job}' is not completed`);
  }
  const changed = uidChange(plan, Object.keys(manifest.parallelism));
  if (changed && changed.gone.length > 0) {
    throw new SavepointError(
      `job '${plan.job}' cannot take savepoint '${name}' from checkpoint ${manifest.id}: ${describeUidChange(changed)}`,
    );
  }
  // A savepoint restore rewrites the logs this reads, and moves the generation first:
  // refuse one that came after the checkpoint, or that begins while this reads.
  const record = await checkpoints.loadJob(plan.job);
  const generation = record?.generation;
  if ((record?.restoredFrom?.generation ?? 0) > manifest.generation) {
    throw new SavepointError(
      `job '${plan.job}' was restored from savepoint '${record?.restoredFrom?.savepoint}' after checkpoint ${manifest.id}: take savepoint '${name}' from a checkpoint of generation ${generation}`,
    );
  }
  const sources: Record<string, Record<string, unknown>> = {};
  const lists: Record<string, Record<string, unknown[]>> = {};
  const broadcast: Record<string, Record<string, unknown>> = {};
  const values: Record<string, StateChange[]> = {};
  const replays: Record<string, Record<string, number>> = {};
  let count = 0;
  for (const task of plan.tasks) {
    const P = manifest.parallelism[task.id] ?? task.parallelism;
    for (let p = 0; p < P; p++) {
      const through = manifest.cut[`${task.id}#${p}`] ?? 0;
      const view = await foldPartition(state, task.id, p, through, "none"); // positions only
      replays[`${task.id}#${p}`] = replayPositions(view.positions);
      for (const [k, v] of view.opState) {
        if (k.startsWith("list:")) {
          const byKey = lists[task.id] ?? {};
          byKey[k] = [...(byKey[k] ?? []), ...(v as unknown[])];
          lists[task.id] = byKey;
        }
        // Every partition holds the same broadcast state at a cut: keep partition 0's (as Flink).
        if (k.startsWith(BROADCAST_STATE_PREFIX) && p === 0) broadcast[task.id] = { ...broadcast[task.id], [k]: v };
        if (!k.startsWith("split:")) continue;
        const positions = sources[task.id] ?? {};
        positions[k.slice("split:".length)] = v;
        sources[task.id] = positions;
      }
      if (task.keyed && !options.inPlace) {
        const { start, end } = keyGroupRange(p, P, plan.maxParallelism);
        const part = await state.exportState(task.id, p, through, start, end);
        values[task.id] = [...(values[task.id] ?? []), ...part];
        count += part.length;
      }
    }
  }
  const after = (await checkpoints.loadJob(plan.job))?.generation;
  if (after !== generation) {
    throw new SavepointError(
      `job '${plan.job}' was restored (generation ${generation} to ${after}) while savepoint '${name}' was taken from checkpoint ${manifest.id}; nothing was saved: take it again`,
    );
  }
  const savepoint: Savepoint = {
    job: plan.job,
    name,
    createdAt: clock.now(),
    checkpoint: manifest.id,
    maxParallelism: plan.maxParallelism,
    parallelism: manifest.parallelism,
    values: count,
    ...(options.inPlace ? { inPlace: true as const } : {}),
    replays: { since: record?.restoredFrom?.generation ?? 0, generation: manifest.generation, positions: replays },
    sources: {
      ...sources,
      ...(Object.keys(lists).length > 0 ? { [OPERATOR_LISTS]: lists } : {}),
      ...(Object.keys(broadcast).length > 0 ? { [BROADCAST_STATE]: broadcast } : {}),
    },
    state: values,
  };
  if (!(await checkpoints.putSavepoint(savepoint))) {
    throw new SavepointError(`job '${plan.job}' already has a savepoint named '${name}'`);
  }
  return savepoint;
}

/**
 * Restores `plan` (at its own parallelism, which may differ from the savepoint's)
 * from `savepoint`: a new generation, every task's log and state replaced by the
 * savepoint's keyed values and per-split source positions. Once the logs are
 * rewritten, before the job record leaves `restoring`, the output's published marks
 * go with the old log and the replays the savepoint does not hold are undone
 * (`replay-undo.ts`). Returns the new generation.
 */
export async function restoreFromSavepoint(
  plan: Plan,
  graph: JobGraph,
  state: StateStore,
  checkpoints: CheckpointStore,
  output: OutputStore,
  coordinator: CheckpointCoordinator,
  savepoint: Savepoint,
): Promise<number> {
  if (savepoint.job !== plan.job) {
    throw new SavepointError(`savepoint '${savepoint.name}' belongs to job '${savepoint.job}', not '${plan.job}'`);
  }
  if (savepoint.maxParallelism !== plan.maxParallelism) {
    throw new SavepointError(
      `savepoint '${savepoint.name}' has ${savepoint.maxParallelism} key groups but the job has ${plan.maxParallelism}: maxParallelism is fixed for the life of a job`,
    );
  }
  const changed = uidChange(plan, Object.keys(savepoint.parallelism));
  const lost = changed?.gone.filter((t) => t in savepoint.state || t in savepoint.sources) ?? [];
  if (changed && lost.length > 0) {
    throw new SavepointError(
      `savepoint '${savepoint.name}' holds state the job has no operator for: ${describeUidChange({ ...changed, gone: lost })}`,
    );
  }
  const generation = await beginRestore(plan, checkpoints, coordinator, savepoint.name);
  return finishRestoring(checkpoints, plan.job, generation, async () => {
    await installSavepoint(plan, graph, state, checkpoints, output, coordinator, savepoint, generation);
    return generation;
  });
}

/** The rest of {@link restoreFromSavepoint}, once its record is written: every task's log and state replaced. */
async function installSavepoint(
  plan: Plan,
  graph: JobGraph,
  state: StateStore,
  checkpoints: CheckpointStore,
  output: OutputStore,
  coordinator: CheckpointCoordinator,
  savepoint: Savepoint,
  generation: number,
): Promise<void> {
  if (savepoint.inPlace) await foldInPlace(plan, state, checkpoints, coordinator, savepoint, generation);
  for (const task of plan.tasks) {
    // A zombie of the old generation (a Lambda still in flight) may append after the
    // reset, also before the new base. The new log starts past the old one's end, so
    // such a segment lands below the new base (never read, and `putBase` ignores it),
    // and a fence at the new base refuses the rest.
    const starts: number[] = [];
    for (let p = 0; p < task.parallelism; p++) starts.push(await lastSegment(state, task.id, p));
    // A store whose reset cannot keep compaction out may find a base written in between
    // the reset and the new one; start over then.
    for (let attempt = 1; ; attempt++) {
      if (savepoint.inPlace) await state.dropLogs(task.id);
      else await state.resetTask(task.id);
      try {
        await installTask(state, graph, task, savepoint, starts, generation);
        break;
      } catch (e) {
        if (!(e instanceof PartitionNotEmptyError) || attempt >= RESET_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  await output.resetPublished(plan.job);
  if (savepoint.replays) await undoReplays(output, plan.job, savepoint.replays);
  await finishRestore(checkpoints, plan.job);
}

/**
 * Marks the job record as restoring `name` at a new generation, or picks up a restore
 * of the same savepoint that an earlier attempt left unfinished (same generation: a
 * retried restore is idempotent). Refuses while another restore is in progress.
 */
async function beginRestore(
  plan: Plan,
  checkpoints: CheckpointStore,
  coordinator: CheckpointCoordinator,
  name: string,
): Promise<number> {
  // The round's trigger writes the record too (it lists the checkpoint in flight): a race with
  // it is not the operator's to retry, so retry here a few times before refusing.
  for (let attempt = 0; attempt < RESTORE_WRITE_ATTEMPTS; attempt++) {
    const job = await coordinator.record();
    if (job.restoring) {
      if (job.restoredFrom?.savepoint === name && job.restoredFrom.generation === job.generation) return job.generation;
      throw new SavepointError(
        `job '${plan.job}' is restoring generation ${job.generation}${job.restoredFrom ? ` from savepoint '${job.restoredFrom.savepoint}'` : ""}; try again when it has finished`,
      );
    }
    const generation = await markRestoring(plan, checkpoints, coordinator, name);
    if (generation !== undefined) return generation;
  }
  throw new SavepointError(`job '${plan.job}' changed while restoring savepoint '${name}'; try again`);
}

/** Writes the restoring record of savepoint `name` ({@link writeRestoring}); undefined if the record changed meanwhile. */
async function markRestoring(
  plan: Plan,
  checkpoints: CheckpointStore,
  coordinator: CheckpointCoordinator,
  name: string,
): Promise<number | undefined> {
  const parallelism = Object.fromEntries(plan.tasks.map((t) => [t.id, t.parallelism]));
  // The savepoint is the new starting point: older checkpoints' cuts no longer apply.
  const written = await writeRestoring(checkpoints, coordinator, (job) => ({
    restarts: 0,
    parallelism,
    lastCompleted: 0,
    restoredFrom: { savepoint: name, generation: job.generation + 1 },
  }));
  return written?.saved ? written.generation : undefined;
}

/** Folds the checkpoint of an in-place savepoint into the keyed values (see `fold-cut.ts`). */
async function foldInPlace(
  plan: Plan,
  state: StateStore,
  checkpoints: CheckpointStore,
  coordinator: CheckpointCoordinator,
  savepoint: Savepoint,
  generation: number,
): Promise<void> {
  const manifest = await checkpoints.getManifest(plan.job, savepoint.checkpoint);
  if (!manifest?.cut) {
    throw new SavepointError(`rescale '${savepoint.name}': checkpoint ${savepoint.checkpoint} has no cut`);
  }
  await foldCutIntoValues(plan, state, coordinator, savepoint.parallelism, manifest.cut, generation);
}

/** Resets of a task tried before a savepoint restore gives up. */
const RESET_ATTEMPTS = 20;
