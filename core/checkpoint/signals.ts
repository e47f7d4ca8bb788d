/**
 * The coordinator's envelopes into a job: start signals that (re)start every
 * source partition in a generation, checkpoint barriers, timer ticks, and
 * checkpoint-complete notifications. Both runtimes send these same envelopes.
 */

import {
  type Address,
  CONTROL_CHANNEL,
  NOTIFY_CHANNEL,
  type OutboxEntry,
  START_CHANNEL,
  TICK_CHANNEL,
} from "../envelope.ts";
import { type JobGraph, userFunctionOf } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";

/** Every partition of every source task. */
export function sourcePartitions(plan: Plan): Address[] {
  return plan.tasks
    .filter((t) => t.isSource)
    .flatMap((t) => Array.from({ length: t.parallelism }, (_, p) => ({ task: t.id, partition: p })));
}

/** Start signals for every source partition at `generation`. */
export function startEntries(plan: Plan, generation: number): OutboxEntry[] {
  return sourcePartitions(plan).map((to) => ({
    to,
    envelope: { gen: generation, from: START_CHANNEL, seq: 0, records: [], signal: { kind: "start" } },
  }));
}

/** Barrier `id` for every source partition at `generation` (seq = id on the gap-tolerant control channel). */
export function barrierEntries(plan: Plan, generation: number, id: number): OutboxEntry[] {
  return sourcePartitions(plan).map((to) => ({
    to,
    envelope: { gen: generation, from: CONTROL_CHANNEL, seq: id, records: [], signal: { kind: "barrier", n: id } },
  }));
}

/** A tick for each partition (ticks are unsequenced and accepted in any generation). */
export function tickEntries(to: readonly Address[], generation: number): OutboxEntry[] {
  return to.map(({ task, partition }) => ({
    to: { task, partition },
    envelope: { gen: generation, from: TICK_CHANNEL, seq: 0, records: [], signal: { kind: "tick" } },
  }));
}

/**
 * Ids of the tasks whose chain has a function with `notifyCheckpointComplete`, a
 * two-phase sink, or a source that listens to checkpoints.
 */
export function notifiedTasks(plan: Plan, graph: JobGraph): string[] {
  return plan.tasks
    .filter((t) =>
      t.operators.some((o) => {
        const op = graph.nodes[o.node]?.op;
        if (op?.kind === "twoPhaseSink") return true;
        if (op?.kind === "source" && op.source.checkpointListener === true) return true;
        const fn = op ? userFunctionOf(op) : undefined;
        return fn !== undefined && "notifyCheckpointComplete" in fn && fn.notifyCheckpointComplete !== undefined;
      }),
    )
    .map((t) => t.id);
}

/** Checkpoint `id` completed: a signal for every partition of every {@link notifiedTasks} task. */
export function notifyEntries(plan: Plan, graph: JobGraph, generation: number, id: number): OutboxEntry[] {
  const tasks = new Set(notifiedTasks(plan, graph));
  return plan.tasks
    .filter((t) => tasks.has(t.id))
    .flatMap((t) => Array.from({ length: t.parallelism }, (_, p) => ({ task: t.id, partition: p })))
    .map((to) => ({
      to,
      envelope: {
        gen: generation,
        from: NOTIFY_CHANNEL,
        seq: id,
        records: [],
        signal: { kind: "checkpoint-complete", n: id },
      },
    }));
}
