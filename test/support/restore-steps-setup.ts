/**
 * The restore steps' test setup: a keyed job over in-memory stores, each step a
 * fresh CoordinatorSteps as a Lambda would run it, with a state store that can
 * fail its truncate/reset (a restore that dies midway) and a helper that commits
 * segments and completes a checkpoint at a cut.
 */

import { expect } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { CoordinatorSteps, type StepContext } from "../../core/checkpoint/steps.ts";
import { planJob } from "../../core/graph/planner.ts";
import type { Segment } from "../../core/log/segment.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";

const job = defineJob("restores", (env) => {
  env.setRestartStrategy({ attempts: 2, delayMs: 0 });
  env
    .fromGenerator((i) => i, { count: 100, splits: 2 })
    .keyBy((x) => x % 3)
    .sum()
    .sinkTo("out");
});

/** A state store whose `resetTask` fails the first `failures` times (a crash or a zombie mid-restore). */
export class FlakyResetStore extends InMemoryStateStore {
  failures = 0;
  truncateFailures = 0;
  override async truncate(task: string, partition: number, through: number, generation: number): Promise<void> {
    if (this.truncateFailures > 0) {
      this.truncateFailures--;
      throw new Error("injected: the failover died here");
    }
    return super.truncate(task, partition, through, generation);
  }
  /** A task whose `resetTask` fails (a restore that died after installing the tasks before it). */
  failTask: string | undefined;
  override async resetTask(task: string): Promise<void> {
    if (task === this.failTask) throw new Error("injected: the restore died at this task");
    if (this.failures > 0) {
      this.failures--;
      throw new Error("injected: the restore died here");
    }
    return super.resetTask(task);
  }
}

export function setup() {
  const graph = buildGraph(job, { parallelism: 2 });
  const plan = planJob(graph);
  const state = new FlakyResetStore();
  const clock = new ManualClock(1_000);
  const context: StepContext = {
    plan,
    graph,
    state,
    checkpoints: new InMemoryCheckpointStore(),
    queue: { send: async () => {} },
    output: new InMemoryOutputStore(),
    clock,
  };
  const steps = () => new CoordinatorSteps(context);
  const partitions = plan.tasks.flatMap((t) => [0, 1].map((p) => ({ task: t.id, partition: p })));
  const segment = (n: number, positions: Record<string, number> = {}): Segment => ({
    n,
    gen: 1,
    time: 0,
    positions,
    outSeqs: {},
    changes: [],
    outbox: [],
    sentThrough: n,
  });
  /**
   * Commits segments 1..`upTo` in every partition (segment n with channel positions
   * `positions(n)`) and completes a checkpoint cut at `cut`.
   */
  const checkpointAt = async (
    upTo: number,
    cut: number,
    positions: (n: number) => Record<string, number> = () => ({}),
  ) => {
    const id = (await steps().trigger()).checkpoint as number;
    for (const { task, partition } of partitions) {
      const last = (await state.readSegments(task, partition, 0)).at(-1)?.n ?? 0;
      for (let n = last + 1; n <= upTo; n++) await state.append(task, partition, segment(n, positions(n)));
      await context.checkpoints.ack(plan.job, {
        checkpoint: id,
        task,
        partition,
        segment: cut,
        alignmentMs: 0,
        bytes: 0,
        time: 0,
      });
    }
    expect(await steps().poll(id)).toEqual({ status: "completed", completed: id });
    return (await context.checkpoints.getManifest(plan.job, id)) as NonNullable<
      Awaited<ReturnType<typeof context.checkpoints.getManifest>>
    >;
  };
  const record = async () => context.checkpoints.loadJob(plan.job);
  return { plan, state, context, steps, checkpointAt, record, clock };
}
