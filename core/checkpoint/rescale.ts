/**
 * Elastic scaling: the coordinator's autoscale round and the rescale it applies.
 *
 * A rescale is a restore to the newest completed checkpoint at a new parallelism:
 * a new generation whose partitions own new key-group ranges. It goes the savepoint
 * way (source splits dealt out again, new partition bases, published marks reset)
 * but *in place*: the savepoint (`rescale-<checkpoint>`) holds only source
 * positions, every partition's segments up to the cut are folded into the keyed
 * values (`fold-cut.ts`), the logs are dropped and the values stay where they are,
 * addressed by key group. The job record's `parallelism` says what runs; every
 * runtime derives its plan from it (`rescaledPlan`).
 *
 * The autoscale round measures each scalable task (its queue's backlog through the
 * {@link TaskScaler}, its rate from the data messages its partitions consumed since
 * the last round), asks {@link decideParallelism}, rescales what changed, and keeps
 * each task's event-source concurrency equal to its parallelism.
 */

import type { AutoscaleConfig } from "../api/aws-config.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { isScalable } from "../graph/rescale.ts";
import { foldPartition } from "../log/read.ts";
import type { AutoscaleRecord, CheckpointManifest, CheckpointStore, JobRecord } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { TaskScaler } from "../ports/task-scaler.ts";
import { decideParallelism, type ScaleDecision } from "./autoscale.ts";
import type { CheckpointCoordinator } from "./coordinator.ts";
import { restoreFromSavepoint, takeSavepoint } from "./savepoint.ts";

/** What a rescale works on. */
export interface RescaleContext {
  /** The plan running now. */
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly state: StateStore;
  readonly checkpoints: CheckpointStore;
  readonly output: OutputStore;
  readonly clock: Clock;
}

/** Name of the in-place savepoint of a rescale at checkpoint `id`. */
export function rescaleSavepointName(id: number): string {
  return `rescale-${id}`;
}

/**
 * Rescales the job to `target` (the plan at the new parallelism) at completed
 * checkpoint `last` (of the running generation, its output published). Returns the
 * new generation; the caller sends the start signals.
 */
export async function rescaleAt(
  c: RescaleContext,
  coordinator: CheckpointCoordinator,
  last: CheckpointManifest,
  target: Plan,
): Promise<number> {
  const { plan, state, checkpoints, clock, output } = c;
  const name = rescaleSavepointName(last.id);
  const sp =
    (await checkpoints.getSavepoint(plan.job, name)) ??
    (await takeSavepoint(plan, state, checkpoints, clock, last, name, { inPlace: true }));
  const generation = await restoreFromSavepoint(target, c.graph, state, checkpoints, output, coordinator, sp);
  await checkpoints.deleteSavepoint(plan.job, name);
  return generation;
}

/** What one autoscale round found. */
export interface AutoscaleRound {
  /** The parallelism each scalable task should run at (only those that change). */
  readonly changes: Readonly<Record<string, number>>;
  /** The record's new autoscale memory. */
  readonly memory: AutoscaleRecord;
  /** Per task: the decision and the load it was made from. */
  readonly decisions: Readonly<Record<string, ScaleDecision & { backlog: number; rate?: number }>>;
}

/** Seconds between two autoscale rounds: half the cooldown, at most 10. */
export function autoscaleEveryMs(config: AutoscaleConfig): number {
  return Math.min(10_000, (config.cooldownSeconds * 1000) / 2);
}

/** Measures every scalable task of `plan` and decides its parallelism (changes nothing). */
export async function autoscaleRound(
  plan: Plan,
  state: StateStore,
  scaler: TaskScaler,
  config: AutoscaleConfig,
  record: JobRecord,
  now: number,
): Promise<AutoscaleRound> {
  const before = record.autoscale?.generation === record.generation ? record.autoscale : undefined;
  const consumed: Record<string, number> = {};
  const tasks: Record<string, AutoscaleRecord["tasks"][string]> = { ...record.autoscale?.tasks };
  const changes: Record<string, number> = {};
  const decisions: Record<string, ScaleDecision & { backlog: number; rate?: number }> = {};
  for (const task of plan.tasks) {
    if (!isScalable(plan, task)) continue;
    const q = await scaler.backlog(task.id);
    const backlog = q.visible + q.inFlight;
    consumed[task.id] = await consumedMessages(state, task.id, task.parallelism);
    const prior = before?.consumed[task.id];
    const seconds = before ? (now - before.at) / 1000 : 0;
    const rate =
      prior !== undefined && seconds > 0 ? Math.max(0, (consumed[task.id] ?? 0) - prior) / seconds : undefined;
    const load = {
      backlog,
      parallelism: task.parallelism,
      ...(rate === undefined ? {} : { ratePerSecond: rate }),
      ...(q.oldestAgeSeconds === undefined ? {} : { oldestAgeSeconds: q.oldestAgeSeconds }),
    };
    const d = decideParallelism(load, config, tasks[task.id] ?? {}, now);
    tasks[task.id] = d.memory;
    decisions[task.id] = { ...d, backlog, ...(rate === undefined ? {} : { rate }) };
    if (d.parallelism !== task.parallelism) changes[task.id] = d.parallelism;
  }
  const memory = { at: now, generation: record.generation, consumed, tasks, applied: record.autoscale?.applied ?? {} };
  return { changes, memory, decisions };
}

/**
 * Sets the event-source concurrency of every scalable task whose applied value
 * differs from its parallelism in `plan`; returns the new `applied` map.
 */
export async function applyConcurrency(
  plan: Plan,
  scaler: TaskScaler,
  applied: Readonly<Record<string, number>>,
): Promise<Record<string, number>> {
  const next: Record<string, number> = { ...applied };
  for (const task of plan.tasks) {
    if (!isScalable(plan, task) || applied[task.id] === task.parallelism) continue;
    await scaler.setConcurrency(task.id, task.parallelism);
    next[task.id] = task.parallelism;
  }
  return next;
}

/** Data messages (envelopes on data channels) the partitions of `task` consumed, as their logs say. */
async function consumedMessages(state: StateStore, task: string, parallelism: number): Promise<number> {
  let n = 0;
  for (let p = 0; p < parallelism; p++) {
    const view = await foldPartition(state, task, p);
    for (const [channel, seq] of view.positions) if (!channel.startsWith("$")) n += seq;
  }
  return n;
}
