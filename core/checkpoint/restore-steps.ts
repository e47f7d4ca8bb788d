/**
 * The coordinator's restore steps: a failover to the newest completed checkpoint
 * (counted against the restart strategy), an operator's resume, a savepoint restore,
 * and finishing a restore that died midway. They run as methods of `CoordinatorSteps`
 * (`steps.ts`), over its {@link StepScope}; the mechanics are in `restore.ts` and
 * `savepoint.ts`.
 */

import type { JobRecord } from "../ports/checkpoint-store.ts";
import { revertTables } from "../tables/revert.ts";
import { LONGEST_STEP_MS } from "./config.ts";
import { failedReason, failJob } from "./job-failure.ts";
import { INTERRUPTED, restoreToCheckpoint } from "./restore.ts";
import { findSavepoint, restoreFromSavepoint, SavepointError } from "./savepoint.ts";
import { startEntries } from "./signals.ts";
import type { StepScope } from "./step-scope.ts";

/** Answer of the restore step. */
export interface RestoreAnswer {
  readonly generation: number;
  readonly checkpoint: number | null;
  /** Set when the restart strategy's attempts are used up: the job failed, nothing was restored. */
  readonly failed?: string;
}

/**
 * How long a restore may run before a later round takes it for dead and finishes it:
 * the longest a step runs. A restore that failed is marked interrupted and finished
 * at the next round (`finishRestoring`).
 */
export const STALE_RESTORE_MS = LONGEST_STEP_MS;

/** Publishes the newest completed checkpoint's output (the complete step). */
type Complete = () => Promise<unknown>;

/** The failover step: see `CoordinatorSteps.restore`. */
export async function restoreStep(s: StepScope, complete: Complete, reason: string): Promise<RestoreAnswer> {
  await s.sync();
  const record = await s.record();
  if (record.failed) return { generation: record.generation, checkpoint: null, failed: record.failed };
  const { attempts } = s.context.graph.config.restart;
  const restarts = record.restarts ?? 0;
  if (restarts >= attempts) {
    const { job } = s.context.plan;
    const failed = await failJob(s.context.checkpoints, job, failedReason(job, reason, restarts));
    return { generation: record.generation, checkpoint: null, failed };
  }
  return restoreLast(s, complete, () => ({ restarts: restarts + 1 }));
}

/** Restores the newest completed checkpoint (a failover or a resume), `update` applied to the record. */
export async function restoreLast(
  s: StepScope,
  complete: Complete,
  update: (r: JobRecord) => Partial<JobRecord>,
): Promise<RestoreAnswer> {
  const { plan, state, checkpoints, output } = s.context;
  // A savepoint restore that died midway is finished, never cut back to a checkpoint
  // over its half-installed state (some tasks the savepoint's, others the old job's).
  const record = await checkpoints.loadJob(plan.job);
  const from = record?.restoredFrom;
  if (record?.restoring && from?.generation === record.generation) {
    return { ...(await restoreSavepointStep(s, complete, from.savepoint)), checkpoint: null };
  }
  await complete(); // nothing the last checkpoint committed may be lost by the restore
  const coordinator = await s.coordinator();
  const last = await coordinator.lastCompleted();
  const generation = await restoreToCheckpoint(plan, state, checkpoints, output, coordinator, last, update);
  await s.context.queue.send(startEntries(plan, generation));
  return { generation, checkpoint: last?.id ?? null };
}

/** The savepoint restore step: see `CoordinatorSteps.restoreSavepoint`. */
export async function restoreSavepointStep(
  s: StepScope,
  complete: Complete,
  name: string,
): Promise<{ generation: number }> {
  await s.sync();
  const { plan, graph, state, checkpoints, output } = s.context;
  const sp = await findSavepoint(checkpoints, plan.job, name);
  const record = await checkpoints.loadJob(plan.job);
  if (sp.inPlace && !(record?.restoring && record.restoredFrom?.savepoint === sp.name)) {
    throw new SavepointError(`savepoint '${name}' of job '${plan.job}' is a rescale's; it cannot be restored`);
  }
  if (sp.inPlace) {
    // Finishing a rescale that died midway: at the parallelism it wrote into the record.
    s.rescaled = true;
    await s.sync();
  }
  if (record && !record.restoring) await complete();
  // Tables go back to their snapshot at the savepoint (`revert.ts`), before the job runs on.
  const tables = s.context.dynamicTables;
  if (tables && !sp.inPlace && record) await revertTables(tables, plan.job, sp.checkpoint, record.nextCheckpoint);
  const coordinator = await s.coordinator();
  // A rescale's savepoint restores at the parallelism it set in the record; any other at the plan's.
  const target = sp.inPlace ? s.context.plan : s.deployed.plan;
  // The new log starts again: the published marks go with the old one, before the job runs on.
  const generation = await restoreFromSavepoint(target, graph, state, checkpoints, output, coordinator, sp);
  if (sp.inPlace) await checkpoints.deleteSavepoint(plan.job, sp.name);
  await s.sync();
  await s.context.queue.send(startEntries(s.context.plan, generation));
  return { generation };
}

/**
 * Finishes a restore that died midway (a Lambda that timed out or crashed after
 * marking the job `restoring`): once it has been restoring for
 * {@link STALE_RESTORE_MS}, the trigger runs it again — the savepoint restore it
 * was, at the same generation, or a restore to the last completed checkpoint.
 * A restore that failed and marked itself interrupted is run again at once.
 * Without this the job would wait for an operator.
 */
export async function finishStaleRestore(s: StepScope, complete: Complete, record: JobRecord): Promise<void> {
  const since = record.restoringSince ?? 0;
  if (since !== INTERRUPTED && s.context.clock.now() - since < STALE_RESTORE_MS) return;
  const from = record.restoredFrom;
  if (from && from.generation === record.generation) await restoreSavepointStep(s, complete, from.savepoint);
  else await restoreLast(s, complete, () => ({}));
}
