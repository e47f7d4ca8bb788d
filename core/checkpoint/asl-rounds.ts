/**
 * The coordinator's rounds as an Express workflow (Amazon States Language, JSONPath),
 * run one execution after another by the Standard machine of `asl.ts`. Pure.
 *
 * ```text
 * WaitInterval ─► Round ─► AfterRound ─┬─ finished, sleeping, failed or handOver ─► RoundsDone
 *      ▲                               ├─ checkpoint n in flight ─► WaitForAcks ─► Round
 *      └───────────────────────────────┴─ no checkpoint in flight
 * ```
 *
 * A round is ONE Lambda invocation (`round.ts`): it settles the checkpoint the previous
 * round followed (poll, then complete or abort it; a failover restores), triggers the
 * next one when the interval says it is due, and sends due timer ticks. Its answer
 * replaces the state (`{job, checkpoint, ...}`), so the state stays small. Between
 * rounds the execution waits the checkpoint interval (or `tickSeconds`), or
 * `pollSeconds` while a checkpoint is in flight.
 *
 * An Express execution may run 5 minutes. The round says `handOver` once the execution
 * has run {@link ROUNDS_EXECUTION_MS} (it gets `$$.Execution.StartTime`), and the
 * execution ends, so the Standard machine starts the next one. A round that still fails
 * after its retries ends the execution too (the error in `$.error`): the next one picks
 * up from the durable checkpoint store.
 */

import { RiffleError } from "../errors.ts";
import { type CoordinatorAslOptions, checkArns, isTrue, positiveInteger, TASK_RETRY } from "./asl.ts";
import type { AslDefinition, AslState } from "./asl-types.ts";

/** Wait between rounds while no checkpoint is in flight. */
export const WAIT_INTERVAL = "WaitInterval";
/** Task: one round (settle, restore, trigger, ticks). */
export const ROUND = "Round";
/** Choice after {@link ROUND}. */
export const AFTER_ROUND = "AfterRound";
/** Wait between rounds while a checkpoint is in flight. */
export const WAIT_FOR_ACKS = "WaitForAcks";
/** Succeed: this Express execution's rounds are over (its output says why). */
export const ROUNDS_DONE = "RoundsDone";

/** Every state name of the Express rounds machine, in loop order. */
export const ROUNDS_STATES = [WAIT_INTERVAL, ROUND, AFTER_ROUND, WAIT_FOR_ACKS, ROUNDS_DONE] as const;

/**
 * How long an Express execution runs rounds before it hands over: 4 of its 5 minutes,
 * which leaves a round (a Complete that publishes a large checkpoint, with retries)
 * a minute to end before Step Functions stops the execution (every step is idempotent
 * against the stores, so the next execution picks up one that was stopped). Each
 * execution costs the Standard machine 3 transitions and one Express request.
 */
export const ROUNDS_EXECUTION_MS = 240_000;

/** The execution input of the rounds machine (the Standard machine passes `checkpoint: null`). */
export interface RoundsExecutionInput {
  readonly job: string;
  readonly checkpoint: number | null;
}

/**
 * Builds the Express rounds machine's definition; see the module comment.
 *
 * @throws RiffleError (`coordinator-asl`) when an ARN is empty, the interval is negative, or a count is not a positive integer.
 */
export function roundsDefinition(options: CoordinatorAslOptions): AslDefinition {
  checkArns(options);
  const intervalMs = options.checkpoint.intervalMs;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new RiffleError("coordinator-asl", `checkpoint.intervalMs must be a finite number ≥ 0, got ${intervalMs}`);
  }
  const pollSeconds = positiveInteger("pollSeconds", options.pollSeconds ?? 1);
  const intervalSeconds = Math.max(1, Math.ceil(intervalMs / 1000));
  const tickSeconds =
    options.tickSeconds === undefined ? undefined : positiveInteger("tickSeconds", options.tickSeconds);
  const waitSeconds = Math.min(intervalSeconds, tickSeconds ?? intervalSeconds);
  const states: Record<string, AslState> = {
    [WAIT_INTERVAL]: {
      Type: "Wait",
      Comment: tickSeconds === undefined ? "Checkpoint interval between rounds" : "Timer tick between rounds",
      Seconds: waitSeconds,
      Next: ROUND,
    },
    [ROUND]: {
      Type: "Task",
      Comment: "Settle checkpoint n, trigger the next when due, send due ticks",
      Resource: options.functions.round,
      Parameters: { "job.$": "$.job", "checkpoint.$": "$.checkpoint", "started.$": "$$.Execution.StartTime" },
      // No ResultPath: the answer, `{job, checkpoint, ...}`, replaces the state.
      Retry: TASK_RETRY,
      Catch: [{ ErrorEquals: ["States.ALL"], Next: ROUNDS_DONE, ResultPath: "$.error" }],
      Next: AFTER_ROUND,
    },
    [AFTER_ROUND]: {
      Type: "Choice",
      Choices: [
        { Or: [isTrue("$.finished"), isTrue("$.sleeping"), isTrue("$.handOver")], Next: ROUNDS_DONE },
        { Variable: "$.failed", IsPresent: true, Next: ROUNDS_DONE },
        {
          And: [{ Variable: "$.checkpoint", IsPresent: true }, { Not: { Variable: "$.checkpoint", IsNull: true } }],
          Next: WAIT_FOR_ACKS,
        },
      ],
      Default: WAIT_INTERVAL,
    },
    [WAIT_FOR_ACKS]: { Type: "Wait", Comment: "Pause before polling again", Seconds: pollSeconds, Next: ROUND },
    [ROUNDS_DONE]: { Type: "Succeed" },
  };
  const ticks = tickSeconds === undefined ? "" : ` (ticks every ${waitSeconds} s)`;
  return {
    Comment: `riffle checkpoint rounds: a checkpoint every ${intervalSeconds} s${ticks}, polls every ${pollSeconds} s, ${ROUNDS_EXECUTION_MS / 1000} s per execution`,
    QueryLanguage: "JSONPath",
    StartAt: WAIT_INTERVAL,
    States: states,
  };
}
