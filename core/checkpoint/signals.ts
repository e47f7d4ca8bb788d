/**
 * The coordinator's envelopes into a job: start signals that (re)start every
 * source partition in a generation, and checkpoint barriers. Both runtimes send
 * these same envelopes.
 */

import { type Address, CONTROL_CHANNEL, type OutboxEntry, START_CHANNEL } from "../envelope.ts";
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
