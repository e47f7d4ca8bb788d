/**
 * A plan at another parallelism: what a job runs after the coordinator rescaled
 * some of its tasks (autoscaling). The job record keeps each task's current
 * parallelism; every runtime derives the plan it runs from the deployed one with
 * {@link rescaledPlan}, so the deployment never changes.
 */

import type { AutoscaleConfig } from "../api/aws-config.ts";
import { JobDefinitionError } from "../errors.ts";
import type { Plan, TaskPlan } from "./plan.ts";

/**
 * Whether `task` can change its parallelism alone: not a source (its splits are
 * dealt out by the savepoint path), and no forward edge in or out (a forward edge
 * needs equal parallelism on both ends).
 */
export function isScalable(plan: Plan, task: TaskPlan): boolean {
  if (task.isSource || task.inputs.some((i) => i.partitioner === "forward")) return false;
  if (task.outputs.some((o) => o.partitioner === "forward")) return false;
  return plan.tasks.every(
    (t) => t === task || !t.inputs.some((i) => i.from === task.id && i.partitioner === "forward"),
  );
}

/** The tasks of `plan` that autoscaling may resize ({@link isScalable}). */
export function scalableTasks(plan: Plan): TaskPlan[] {
  return plan.tasks.filter((t) => isScalable(plan, t));
}

/**
 * `plan` with the parallelism of the tasks in `parallelism` (task id → partitions)
 * replaced; tasks not named, or named with their own parallelism, are unchanged.
 * Returns `plan` itself when nothing changes.
 * @throws JobDefinitionError when a task that is not {@link isScalable} would change.
 */
export function rescaledPlan(plan: Plan, parallelism: Readonly<Record<string, number>> | undefined): Plan {
  if (!parallelism) return plan;
  let changed = false;
  const tasks = plan.tasks.map((t) => {
    const p = parallelism[t.id];
    if (p === undefined || p === t.parallelism) return t;
    if (!isScalable(plan, t)) {
      throw new JobDefinitionError(
        `task '${t.id}' of job '${plan.job}' cannot run at parallelism ${p} (deployed at ${t.parallelism}): ` +
          "only a task with no forward edge that is not a source rescales on its own",
      );
    }
    changed = true;
    return { ...t, parallelism: p };
  });
  return changed ? { ...plan, tasks } : plan;
}

/**
 * The plan a job runs at the parallelism its record says (`rescaledPlan`), or `plan`
 * itself when the record names a parallelism `plan` cannot run at (a record of another
 * deployment, which the caller's own checks refuse).
 */
export function runningPlan(plan: Plan, parallelism: Readonly<Record<string, number>> | undefined): Plan {
  try {
    return rescaledPlan(plan, parallelism);
  } catch {
    return plan;
  }
}

/** Checks `autoscale` against the plan (max ≤ maxParallelism); a mistake fails at plan time. */
export function checkAutoscalePlan(plan: Plan, autoscale: AutoscaleConfig | undefined): void {
  if (!autoscale) return;
  if (autoscale.max > plan.maxParallelism) {
    throw new JobDefinitionError(
      `configureAws: autoscale.max (${autoscale.max}) is above maxParallelism ${plan.maxParallelism}: ` +
        "a task can have at most one partition per key group",
    );
  }
}
