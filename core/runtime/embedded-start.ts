/**
 * How the embedded runtime opens a job against its stores: creates it, resumes it
 * from its last completed checkpoint, or restores it from a savepoint — each through
 * the shared coordinator steps — after checking that no state was lost.
 */

import { CheckpointCoordinator } from "../checkpoint/coordinator.ts";
import { checkSameParallelism } from "../checkpoint/restore.ts";
import type { CoordinatorSteps } from "../checkpoint/steps.ts";
import { RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { runningPlan } from "../graph/rescale.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { OutputStore } from "../ports/output-store.ts";

/** The state dir's output says the job ran, but its checkpoint store holds no job: state was lost. */
export class StateLostError extends RiffleError {
  constructor(message: string) {
    super("state-dir", message);
  }
}

/** What opening a job works on. */
export interface OpenJobContext {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly checkpoints: CheckpointStore;
  readonly clock: Clock;
  readonly output: OutputStore;
  readonly steps: CoordinatorSteps;
  /** True when the output store is durable (it keeps its own published marks). */
  readonly durableOutput: boolean;
  /** Start from this savepoint, unless the job already runs from it. */
  readonly fromSavepoint: string | undefined;
}

/** A coordinator over the job's checkpoint store. */
export function coordinatorOf(c: Pick<OpenJobContext, "plan" | "graph" | "checkpoints" | "clock">) {
  const { plan, checkpoints, clock, graph } = c;
  return new CheckpointCoordinator({ plan, store: checkpoints, clock, config: graph.config.checkpoint });
}

/** Creates, resumes, or restores the job (from a savepoint); returns the generation to launch. */
export async function openJob(c: OpenJobContext): Promise<number> {
  const { plan, checkpoints, steps } = c;
  const previous = await checkpoints.loadJob(plan.job);
  const published = await c.output.publishedThrough(plan.job);
  if (!previous && Object.keys(published).length > 0) {
    throw new StateLostError(
      `job '${plan.job}' has published output up to ${JSON.stringify(published)}, but its checkpoint store holds no such job: ` +
        "the state was deleted or truncated. Restore it from a backup, or remove the output's progress marker to start over",
    );
  }
  // Without a durable output store, what the last run completed counts as published.
  const last = previous && !c.durableOutput ? await coordinatorOf(c).lastCompleted() : undefined;
  if (last?.cut) await c.output.setPublished(plan.job, last.cut);
  const sp = c.fromSavepoint;
  if (sp !== undefined && previous?.restoredFrom?.savepoint !== sp) {
    if (!previous) await coordinatorOf(c).init();
    return (await steps.restoreSavepoint(sp)).generation;
  }
  if (previous) {
    checkSameParallelism(c.graph.config.aws.autoscale ? runningPlan(plan, previous.parallelism) : plan, previous);
    return (await steps.resume()).generation;
  }
  return (await steps.start()).generation;
}
