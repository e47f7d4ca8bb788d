/**
 * How the embedded runtime is put together and opens a job against its stores:
 * {@link wireRuntime} plans the job and connects its parts to the ports (the
 * options' or in-memory ones); {@link openJob} creates the job, resumes it from its
 * last completed checkpoint, or restores it from a savepoint — each through the
 * shared coordinator steps — after checking that no state was lost.
 */

import { buildGraph, type Job } from "../api/environment.ts";
import { CheckpointCoordinator } from "../checkpoint/coordinator.ts";
import { checkSameParallelism } from "../checkpoint/restore.ts";
import { CoordinatorSteps } from "../checkpoint/steps.ts";
import { RiffleError } from "../errors.ts";
import { checkIngestFed } from "../graph/checks.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { planJob } from "../graph/planner.ts";
import { runningPlan } from "../graph/rescale.ts";
import { InMemoryCheckpointStore } from "../memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../memory/in-memory-output-store.ts";
import { InMemoryQueue } from "../memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../memory/in-memory-state-store.ts";
import { InMemoryTableStore } from "../memory/in-memory-table-store.ts";
import { InMemoryTaskScaler } from "../memory/in-memory-task-scaler.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import { type Clock, SystemClock } from "../ports/clock.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { EmbeddedOptions, TaskDeadLetter } from "./embedded-options.ts";
import { ObservedOutputStore } from "./embedded-output.ts";
import { CheckpointDriver } from "./lifecycle.ts";
import { PartitionScheduler } from "./scheduler.ts";

/** The state dir's output says the job ran, but its checkpoint store holds no job: state was lost. */
export class StateLostError extends RiffleError {
  constructor(message: string) {
    super("state-dir", message);
  }
}

/**
 * Builds and plans `job` (a mistake in it throws here, before anything runs), and
 * connects the coordinator steps, the checkpoint driver and the partition scheduler
 * to the ports of `options`, or to new in-memory ones. Dead letters published with
 * a checkpoint go to `onDeadLetter`.
 */
export function wireRuntime(job: Job, options: EmbeddedOptions, onDeadLetter: (d: TaskDeadLetter) => void) {
  const graph = buildGraph(job, options.parallelism === undefined ? {} : { parallelism: options.parallelism });
  const plan = planJob(graph);
  if (!options.ingest) checkIngestFed(graph);
  const clock = options.clock ?? new SystemClock();
  const store = options.store ?? new InMemoryStateStore();
  const checkpoints = options.checkpoints ?? new InMemoryCheckpointStore();
  const queue = options.queue ?? new InMemoryQueue(clock);
  const output = new ObservedOutputStore(options.output ?? new InMemoryOutputStore(), {
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    onDeadLetter,
  });
  const scaler = options.scaler ?? new InMemoryTaskScaler(queue);
  const tables = options.tables ?? new InMemoryTableStore();
  const steps = new CoordinatorSteps({
    plan,
    graph,
    state: store,
    checkpoints,
    queue,
    output,
    dynamicTables: tables,
    clock,
    scaler,
    ...(options.simulation?.marks ? { marks: options.simulation.marks } : {}),
  });
  const call = options.simulation?.coordinatorCall;
  const driver = new CheckpointDriver({
    steps,
    checkpoints,
    job: plan.job,
    config: graph.config.checkpoint,
    clock,
    ...(options.onCheckpoint ? { onEvent: options.onCheckpoint } : {}),
    ...(call ? { call } : {}),
  });
  const scheduler = new PartitionScheduler({ plan, graph, store, checkpoints, clock, queue, options, tables });
  return { graph, plan, clock, store, checkpoints, queue, output, tables, steps, driver, scheduler };
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
