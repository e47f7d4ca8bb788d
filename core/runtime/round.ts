/**
 * One round of the embedded scheduler over its tasks (core/runtime/scheduler.ts),
 * downstream first. A task that overlaps (it calls out: an async I/O or remote
 * function operator awaits answers from elsewhere) runs one batch beside the rest of
 * the round instead of in turn; while that batch is out, the other tasks run again
 * (the source reads the next slices) as long as `wantsMore` says its queue lacks a
 * whole next batch, so that the function works while riffle prepares what comes
 * next, as separate task invocations do on AWS. The round ends once that batch is
 * done too: nothing runs between rounds.
 */

import type { TaskPlan } from "../graph/plan.ts";

/** What one step of a task did: nothing to run, ran, or failed (`F`). */
export type StepResult<F> = "idle" | "ok" | F;

/** How a round runs its tasks. */
export interface RoundHooks<F> {
  /** Receives and runs one batch of `task`. */
  step(task: TaskPlan): Promise<StepResult<F>>;
  /** True when `task` runs its batch beside the rest of the round. */
  overlaps(task: TaskPlan): boolean;
  /** True while the tasks that overlap want their upstream to run again. */
  wantsMore(): boolean;
}

/** Runs one round of `tasks` (in the order given); every step's result, once every step is done. */
export async function runRound<F>(tasks: readonly TaskPlan[], hooks: RoundHooks<F>): Promise<StepResult<F>[]> {
  const beside: Promise<StepResult<F>>[] = [];
  let out = 0;
  const start = (task: TaskPlan) => {
    out++;
    beside.push(hooks.step(task).finally(() => out--));
  };
  const results: StepResult<F>[] = [];
  const failed = (r: StepResult<F>) => r !== "ok" && r !== "idle";
  const inTurn = async () => {
    results.push(...(await runInTurn(tasks, hooks, start)));
    while (out > 0 && !results.some(failed) && hooks.wantsMore()) {
      const more = await runInTurn(tasks, hooks, undefined);
      results.push(...more);
      if (more.every((r) => r === "idle")) break;
    }
  };
  const [turn] = await Promise.allSettled([inTurn()]);
  const besideDone = await Promise.allSettled(beside); // also when a task in turn threw
  if (turn?.status === "rejected") throw turn.reason;
  for (const s of besideDone) {
    if (s.status === "rejected") throw s.reason;
    results.push(s.value);
  }
  return results;
}

/**
 * Runs `tasks` in turn (a source one batch per partition, any other until it is
 * idle), stopping at a failure; a task that overlaps is handed to `start` (none: skipped).
 */
async function runInTurn<F>(
  tasks: readonly TaskPlan[],
  hooks: RoundHooks<F>,
  start: ((task: TaskPlan) => void) | undefined,
): Promise<StepResult<F>[]> {
  const results: StepResult<F>[] = [];
  for (const task of tasks) {
    if (hooks.overlaps(task)) {
      start?.(task);
      continue;
    }
    for (let i = 0; task.isSource ? i < task.parallelism : true; i++) {
      const r = await hooks.step(task);
      results.push(r);
      if (r === "idle") break;
      if (r !== "ok") return results;
    }
  }
  return results;
}
