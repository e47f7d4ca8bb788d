/**
 * The autoscaling decision (Flink's reactive mode, driven by the queue): from one
 * task's load — its queue's backlog, the age of its oldest message, its processing
 * rate and its parallelism — the parallelism it should run at, within the job's
 * `autoscale` bounds. Pure: the coordinator measures, this decides, the rescale
 * step applies (`rescale.ts`).
 *
 * - **Out**: when the backlog — more than one batch ({@link BATCH}) per partition —
 *   would take longer than `targetLagSeconds` to drain at the current rate (or the
 *   oldest message is older than that), the task gets as
 *   many partitions as drain the backlog within the target at the rate one partition
 *   achieved: `ceil(backlog / (targetLag × rate per partition))`, at least one more
 *   than now. When nothing was processed in the window despite a backlog, it doubles.
 *   Before a first window (no rate yet) nothing changes.
 * - **In**: when the backlog would drain within a quarter of the target, or is at most
 *   one message per partition, the task is underused; once it stayed so for
 *   `cooldownSeconds`, an idle task (no backlog, nothing processed) goes to `min`, a
 *   busy one to half its partitions.
 * - No change within `cooldownSeconds` of the last one (hysteresis: no flapping).
 */

import type { AutoscaleConfig } from "../api/aws-config.ts";

/** What the coordinator measured of one task. */
export interface TaskLoad {
  /** Messages in the task's queue: visible plus in flight. */
  readonly backlog: number;
  /** Age of its oldest message in seconds, when the queue says (SQS alone does not). */
  readonly oldestAgeSeconds?: number;
  /** Messages the task consumed per second over the last window; undefined before there is a window. */
  readonly ratePerSecond?: number;
  /** Its parallelism now. */
  readonly parallelism: number;
}

/** What the decision remembers of a task between two calls (kept in the job record). */
export interface AutoscaleMemory {
  /** When the task was last rescaled (ms). */
  readonly changedAt?: number;
  /** Since when it has been underused without a break (ms). */
  readonly lowSince?: number;
}

/** The decision for one task. */
export interface ScaleDecision {
  /** The parallelism it should run at (its current one when nothing changes). */
  readonly parallelism: number;
  /** What to remember for the next call. */
  readonly memory: AutoscaleMemory;
  /** Why, in a few words (logs, tests). */
  readonly reason: string;
}

/** A backlog that drains within this share of the target counts as underused. */
export const LOW_WATER = 0.25;

/**
 * Messages one invocation takes (the SQS batch): a backlog of at most this many per
 * partition is not worth a rescale, however slow the rate (barriers and ticks alone
 * keep a few messages in a quiet task's queue).
 */
export const BATCH = 10;

/** Decides the parallelism of one task at time `now` (ms); see the module comment. */
export function decideParallelism(
  load: TaskLoad,
  config: AutoscaleConfig,
  memory: AutoscaleMemory,
  now: number,
): ScaleDecision {
  const current = load.parallelism;
  const clamp = (n: number) => Math.min(config.max, Math.max(config.min, n));
  const cooldownMs = config.cooldownSeconds * 1000;
  const stay = (reason: string, m: AutoscaleMemory = memory) => ({ parallelism: current, memory: m, reason });
  if (current < config.min || current > config.max) {
    return { parallelism: clamp(current), memory: { changedAt: now }, reason: "outside [min, max]" };
  }
  const rate = load.ratePerSecond;
  if (rate === undefined) return stay("measuring");
  const lag = lagSeconds(load.backlog, rate);
  const age = load.oldestAgeSeconds ?? 0;
  const cooling = memory.changedAt !== undefined && now - memory.changedAt < cooldownMs;
  const sizable = load.backlog > BATCH * current; // more than one batch per partition waits
  if ((sizable && lag > config.targetLagSeconds) || age > config.targetLagSeconds) {
    const { lowSince: _, ...rest } = memory;
    if (cooling) return stay("behind, cooling down", rest);
    const perPartition = rate > 0 ? rate / current : undefined;
    const need = perPartition ? Math.ceil(load.backlog / (config.targetLagSeconds * perPartition)) : current * 2;
    const next = clamp(Math.max(need, current + 1));
    if (next === current) return stay("behind, at max", rest);
    return { parallelism: next, memory: { changedAt: now }, reason: `behind: lag ${describe(lag)} s` };
  }
  const low = lag <= config.targetLagSeconds * LOW_WATER || load.backlog <= current;
  if (!low || age > config.targetLagSeconds * LOW_WATER) {
    const { lowSince: _, ...rest } = memory;
    return stay("on target", rest);
  }
  const lowSince = memory.lowSince ?? now;
  if (current === config.min || cooling || now - lowSince < cooldownMs)
    return stay("underused", { ...memory, lowSince });
  const idle = load.backlog === 0 && rate === 0;
  const next = idle ? config.min : clamp(Math.ceil(current / 2));
  return { parallelism: next, memory: { changedAt: now }, reason: idle ? "idle" : "underused" };
}

/** Seconds the backlog takes to drain at `rate` messages/s (infinite when nothing is processed). */
export function lagSeconds(backlog: number, rate: number): number {
  if (backlog <= 0) return 0;
  if (rate <= 0) return Number.POSITIVE_INFINITY;
  return backlog / rate;
}

function describe(lag: number): string {
  return Number.isFinite(lag) ? lag.toFixed(1) : "∞";
}
