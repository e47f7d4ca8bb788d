/**
 * One round of the embedded scheduler over its tasks (core/runtime/scheduler.ts),
 * downstream first. A task that overlaps (it calls out: an async I/O or remote
 * function operator awaits answers from elsewhere) is not run in turn: a
 * {@link Beside} runs its batches one after another, across rounds, so that the
 * function always has a batch while riffle runs the other tasks, commits, ticks and
 * checkpoints, as separate task invocations do on AWS. While a batch of it is out,
 * the round runs the other tasks again (the source reads the next slices) as long as
 * `wantsMore` says its queue lacks a whole next batch; the round ends once one of its
 * batches is done (its result is the round's), the next one already out.
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
  /** True when source `task` reads nothing more this round: the tasks after it are behind (backpressure). */
  holdsBack?(task: TaskPlan): boolean;
}

const failed = <F>(r: StepResult<F>) => r !== "ok" && r !== "idle";

/**
 * The tasks that run beside the rounds: each runs one batch after another (one at a
 * time per task, so its partitions see their batches in queue order) until its queue
 * is empty, a batch fails, or {@link settle} stops it. The rounds take the results.
 */
export class Beside<F> {
  /** The running loops, by task id. */
  private readonly running = new Map<string, Promise<void>>();
  /** Results not taken yet. */
  private done: StepResult<F>[] = [];
  /** What a step threw (not a failed batch: a bug), rethrown by {@link take}. */
  private thrown: { readonly error: unknown } | undefined;
  private waiters: (() => void)[] = [];
  private stopping = false;

  /** True while a task runs a batch. */
  get busy(): boolean {
    return this.running.size > 0;
  }

  /** True when results wait to be taken. */
  get pending(): boolean {
    return this.done.length > 0 || this.thrown !== undefined;
  }

  /** Runs `task`'s batches, unless they already run (or a settle is under way). */
  start(task: TaskPlan, step: (task: TaskPlan) => Promise<StepResult<F>>): void {
    if (this.stopping || this.running.has(task.id)) return;
    const loop = async () => {
      try {
        for (;;) {
          const r = await step(task);
          this.done.push(r);
          this.notify();
          if (r === "idle" || failed(r) || this.stopping) return;
        }
      } catch (error) {
        this.thrown ??= { error };
      } finally {
        this.running.delete(task.id);
        this.notify();
      }
    };
    this.running.set(task.id, loop());
  }

  /** Resolves once a batch is done (or none runs). */
  async next(): Promise<void> {
    if (this.pending || !this.busy) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The results since the last take (throws what a step threw). */
  take(): StepResult<F>[] {
    const thrown = this.thrown;
    this.thrown = undefined;
    const out = this.done;
    this.done = [];
    if (thrown) throw thrown.error;
    return out;
  }

  /**
   * Lets every running batch finish and starts no next one: before anything that
   * replaces the partitions (a failover, a restore, a rescale, the end). Results stay
   * to be taken.
   */
  async settle(): Promise<void> {
    this.stopping = true;
    try {
      while (this.running.size > 0) await Promise.all(this.running.values());
    } finally {
      this.stopping = false;
    }
  }

  private notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/**
 * Runs one round of `tasks` (in the order given), the overlapping ones through
 * `beside`; the results of the steps run in turn and of the batches `beside` finished.
 */
export async function runRound<F>(
  tasks: readonly TaskPlan[],
  hooks: RoundHooks<F>,
  beside: Beside<F>,
): Promise<StepResult<F>[]> {
  const start = (task: TaskPlan) => beside.start(task, (t) => hooks.step(t));
  const results = await runInTurn(tasks, hooks, start);
  while (beside.busy && !beside.pending && !results.some(failed) && hooks.wantsMore()) {
    const more = await runInTurn(tasks, hooks, start);
    results.push(...more);
    if (more.every((r) => r === "idle")) break;
  }
  if (!results.some(failed)) await beside.next(); // the round ends with one batch done beside it
  results.push(...beside.take());
  while (beside.busy && results.every((r) => r === "idle")) {
    await beside.next(); // a round that ran nothing must not end while a batch is out (it would look idle)
    results.push(...beside.take());
  }
  return results;
}

/**
 * Runs `tasks` in turn (a source one batch per partition, any other until it is
 * idle), stopping at a failure; a task that overlaps is handed to `start`.
 */
async function runInTurn<F>(
  tasks: readonly TaskPlan[],
  hooks: RoundHooks<F>,
  start: (task: TaskPlan) => void,
): Promise<StepResult<F>[]> {
  const results: StepResult<F>[] = [];
  for (const task of tasks) {
    if (hooks.overlaps(task)) {
      start(task);
      continue;
    }
    if (task.isSource && hooks.holdsBack?.(task)) continue;
    for (let i = 0; task.isSource ? i < task.parallelism : true; i++) {
      const r = await hooks.step(task);
      results.push(r);
      if (r === "idle") break;
      if (r !== "ok") return results;
    }
  }
  return results;
}
