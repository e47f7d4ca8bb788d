/**
 * Whether a checkpoint may be triggered now: a pure function of the coordinator's
 * state, the config and the clock (Flink's `CheckpointRequestDecider`).
 */

import type { CheckpointConfig } from "./config.ts";

/** What the decider looks at. */
export interface TriggerState {
  /** Checkpoints triggered and neither completed nor aborted. */
  readonly pending: number;
  /** Time of the last trigger, if any. */
  readonly lastTriggerAt: number | undefined;
  /** Time of the last completion, if any. */
  readonly lastCompletedAt: number | undefined;
}

/** Why not now. */
export type NoTriggerReason = "too-many-concurrent" | "min-pause" | "interval";

/** The decision. */
export type TriggerDecision =
  | { readonly trigger: true }
  | { readonly trigger: false; readonly reason: NoTriggerReason; readonly retryAt: number | undefined };

/** Decides whether to trigger a checkpoint at `now`. */
export function decideTrigger(state: TriggerState, config: CheckpointConfig, now: number): TriggerDecision {
  if (state.pending >= config.maxConcurrent)
    return { trigger: false, reason: "too-many-concurrent", retryAt: undefined };
  if (state.lastCompletedAt !== undefined && now < state.lastCompletedAt + config.minPauseMs) {
    return { trigger: false, reason: "min-pause", retryAt: state.lastCompletedAt + config.minPauseMs };
  }
  if (state.lastTriggerAt !== undefined && now < state.lastTriggerAt + config.intervalMs) {
    return { trigger: false, reason: "interval", retryAt: state.lastTriggerAt + config.intervalMs };
  }
  return { trigger: true };
}
