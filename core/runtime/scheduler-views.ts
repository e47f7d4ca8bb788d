/**
 * What the embedded scheduler (core/runtime/scheduler.ts) reports of its partitions:
 * progress per task, each loaded partition's report, records read, the queues' dead
 * letters, when the next processing-time timer or message is due, and whether the
 * sources must wait (backpressure). Read-only views over its runners and queue.
 */

import type { Plan } from "../graph/plan.ts";
import type { PartitionReport } from "../ports/checkpoint-store.ts";
import type { QueueDeadLetter } from "../ports/queue.ts";
import { type EmbeddedOptions, MAX_BATCH, type TaskProgress } from "./embedded-options.ts";
import type { TaskRunner } from "./task-runner.ts";

type Queue = NonNullable<EmbeddedOptions["queue"]>;

/**
 * Envelopes queued for one partition of a task that is not a source past which the
 * sources read no more (backpressure): without it a downstream partition that waits out
 * a retry delay lets the sources read everything ahead, and a checkpoint's barriers
 * (a replay, a stop) wait behind all of it.
 */
export const BACKPRESSURE_ENVELOPES = 4 * MAX_BATCH;

/** True when a partition of a task of `plan` that is not a source has {@link BACKPRESSURE_ENVELOPES} queued. */
export function backpressured(plan: Plan, queue: Queue): boolean {
  for (const t of plan.tasks) {
    if (t.isSource) continue;
    for (let p = 0; p < t.parallelism; p++) if (queue.backlog(t.id, p) >= BACKPRESSURE_ENVELOPES) return true;
  }
  return false;
}

/** Progress per task of `plan`: backlog, records in and out. */
export function taskProgress(plan: Plan, runners: readonly TaskRunner[], queue: Queue): TaskProgress[] {
  return plan.tasks.map((t) => {
    const rs = runners.filter((r) => r.task.id === t.id);
    return {
      task: t.id,
      backlog: queue.backlog(t.id),
      recordsIn: rs.reduce((a, r) => a + r.stats.recordsIn, 0),
      recordsOut: rs.reduce((a, r) => a + r.stats.recordsOut, 0),
    };
  });
}

/** Each loaded partition's report at `now`, with its backlog, in plan order. */
export function partitionReports(runners: readonly TaskRunner[], queue: Queue, now: number): PartitionReport[] {
  const out: PartitionReport[] = [];
  for (const r of runners) {
    const report = r.report(now);
    if (report) out.push({ ...report, backlog: queue.backlog(r.task.id, r.partition) });
  }
  return out;
}

/** Records the source partitions of `runners` read, plus `before` (those of earlier generations). */
export function sourceRecords(runners: readonly TaskRunner[], before: number): number {
  let n = before;
  for (const r of runners) if (r.task.isSource) n += r.stats.recordsIn;
  return n;
}

/** Envelopes that the queues of `plan`'s tasks dead-lettered after too many receives. */
export function queueDeadLetters(plan: Plan, queue: Queue): QueueDeadLetter[] {
  return plan.tasks.flatMap((t) => [...queue.deadLetters(t.id)]);
}

/** The earliest of the runners' next processing-time timers and the next message to become visible. */
export function nextWake(runners: readonly TaskRunner[], queue: Queue): number | undefined {
  let t: number | undefined = queue.nextVisibleAt();
  for (const r of runners) {
    const n = r.nextProcessingTimer();
    if (n !== undefined && (t === undefined || n < t)) t = n;
  }
  return t;
}
