/**
 * The checkpoint coordinator as an AWS Step Functions state machine (Amazon States
 * Language, JSONPath). Pure: builds a JSON-serializable definition, imports nothing
 * from AWS. Every Task state calls one small "coordinator step" Lambda directly
 * (`"Resource": <function ARN>`), so each step runs one core function.
 *
 * The loop, one round per checkpoint attempt:
 *
 * ```text
 * WaitInterval ─► Trigger ─► AfterTrigger ─┬─ finished or sleeping ──────────────► Done
 *      ▲                                   ├─ failed ────────────────────────────► JobFailed
 *      │                                   ├─ checkpoint null ─► NextRound
 *      │                                   └─ checkpoint n ─► WaitForAcks ─► Poll ─► Decide
 *      │        Decide: pending ─► WaitForAcks · completed ─► Complete ─► NextRound
 *      │                timeout ─► Abort ─► AfterAbort (failover? Restore : NextRound)
 *      │                failover ─► Restore · aborted ─► NextRound · finished ─► Done
 *      │        Restore ─► AfterRestore (failed? JobFailed : NextRound)
 *      │
 * CheckRounds ◄─ NextRound (round + 1)
 *      └─ round ≥ roundsPerExecution ─► ContinueAsNew (starts a fresh execution, round 0) ─► Done
 * ```
 *
 * The Trigger step also sends due processing-time timer ticks, and triggers only
 * once the checkpoint interval has passed since the last trigger; with `tickSeconds`
 * set, WaitInterval waits that long instead of the whole interval, so a round (and
 * its ticks) comes every `tickSeconds`, and a checkpoint every interval. Poll also
 * sends due ticks, so timers fire while a checkpoint is in flight.
 *
 * A quiet job's coordinator sleeps (scale to zero, `sleep.ts`): Trigger answers
 * `sleeping` and the execution ends; the next writer of new work starts the next
 * one (`<job>-w<n>`).
 *
 * The job fails for good (the Fail state {@link JOB_FAILED}) once its restart
 * strategy's attempts are used up: the Restore step then answers `failed` (and so
 * does Trigger, for a job already failed) and the reason is in the job record.
 *
 * The state carried between states is `{job, round}` plus the last step results
 * (`$.trigger`, `$.poll`, ...); `NextRound` drops everything but `job` and the
 * incremented `round`, so the state stays small. Every step is retried on Lambda
 * service errors and task failures; a step that still fails (Trigger, Poll,
 * Complete, Abort, Restore) is caught into `$.error` and the machine goes on to the
 * next round: the coordinator never dies of a transient failure, and every step is
 * idempotent against the durable checkpoint store, so the next round picks up.
 * After `roundsPerExecution` rounds the machine hands over to a new execution
 * (ContinueAsNew), which keeps each execution's event history bounded (Step
 * Functions caps a standard execution at 25,000 events).
 */

import type { AwsConfig } from "../api/aws-config.ts";
import { RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import type { AslCatcher, AslChoiceRule, AslDefinition, AslRetrier, AslState, AslTaskState } from "./asl-types.ts";
import type { CheckpointConfig } from "./config.ts";

export type * from "./asl-types.ts";

/** State names of the coordinator machine (part of the contract with the runner and the stacks). */
export const WAIT_INTERVAL = "WaitInterval";
/** Task: start checkpoint n (or report the job finished / nothing to do). */
export const TRIGGER = "Trigger";
/** Choice after {@link TRIGGER}. */
export const AFTER_TRIGGER = "AfterTrigger";
/** Wait between two polls of a pending checkpoint. */
export const WAIT_FOR_ACKS = "WaitForAcks";
/** Task: has every partition acked checkpoint n? */
export const POLL = "Poll";
/** Choice on the poll status. */
export const DECIDE = "Decide";
/** Task: write the manifest of checkpoint n and announce it. */
export const COMPLETE = "Complete";
/** Task: abort checkpoint n (timeout); says whether the job must fail over. */
export const ABORT = "Abort";
/** Choice after {@link ABORT}. */
export const AFTER_ABORT = "AfterAbort";
/** Task: fail the job over to its last completed checkpoint (or say the job failed). */
export const RESTORE = "Restore";
/** Choice after {@link RESTORE}. */
export const AFTER_RESTORE = "AfterRestore";
/** Pass: keeps `{job, round + 1}`. */
export const NEXT_ROUND = "NextRound";
/** Choice: continue as a new execution after enough rounds. */
export const CHECK_ROUNDS = "CheckRounds";
/** Task: start a new execution `{job, round: 0}`. */
export const CONTINUE_AS_NEW = "ContinueAsNew";
/** Succeed: the job finished, or a new execution took over. */
export const DONE = "Done";
/** Fail: the restart strategy's attempts are used up; the job failed for good. */
export const JOB_FAILED = "JobFailed";
/** Error name of the {@link JOB_FAILED} state. */
export const JOB_FAILED_ERROR = "JobFailed";

/** Every state name of the coordinator machine, in loop order. */
export const COORDINATOR_STATES = [
  WAIT_INTERVAL,
  TRIGGER,
  AFTER_TRIGGER,
  WAIT_FOR_ACKS,
  POLL,
  DECIDE,
  COMPLETE,
  ABORT,
  AFTER_ABORT,
  RESTORE,
  AFTER_RESTORE,
  NEXT_ROUND,
  CHECK_ROUNDS,
  CONTINUE_AS_NEW,
  DONE,
  JOB_FAILED,
] as const;

/** Lambda service errors worth a quick retry (as AWS recommends for Lambda tasks). */
export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
] as const;

/** Default number of rounds before an execution continues as a new one. */
export const DEFAULT_ROUNDS_PER_EXECUTION = 100;

/** The Lambda functions behind the coordinator's Task states (ARNs; any string locally). */
export interface CoordinatorFunctions {
  readonly trigger: string;
  readonly poll: string;
  readonly complete: string;
  readonly abort: string;
  readonly restore: string;
  readonly continueAsNew: string;
}

/** Options of {@link coordinatorDefinition}. */
export interface CoordinatorAslOptions {
  /** The job's checkpoint settings: `intervalMs` sets the wait between rounds. */
  readonly checkpoint: CheckpointConfig;
  /** The step functions' ARNs. */
  readonly functions: CoordinatorFunctions;
  /** Rounds per execution before continuing as a new one (default 100). */
  readonly roundsPerExecution?: number;
  /** Seconds between two polls of a pending checkpoint (default 1). */
  readonly pollSeconds?: number;
  /**
   * Seconds between rounds while no checkpoint is due (default: the checkpoint
   * interval). Set it for a job that may have processing-time timers (see
   * {@link tickSecondsFor}): each round's Trigger sends the ticks of due timers.
   */
  readonly tickSeconds?: number;
}

/** The execution input of the coordinator machine. */
export interface CoordinatorExecutionInput {
  readonly job: string;
  readonly round: number;
}

const JOB = { "job.$": "$.job" } as const;
/** ContinueAsNew also gets this execution's name, so the next one's name derives from it (a retry starts nothing twice). */
const JOB_AND_EXECUTION = { "job.$": "$.job", "execution.$": "$$.Execution.Name" } as const;
const JOB_AND_CHECKPOINT = { "job.$": "$.job", "checkpoint.$": "$.trigger.checkpoint" } as const;

/** Retry policy shared by every Task state. */
export const TASK_RETRY: readonly AslRetrier[] = [
  { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2 },
  { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
];

/** Catch of the looping steps: record the error in `$.error` (keeping `$.job`/`$.round`) and go on. */
const CATCH_TO_NEXT_ROUND: readonly AslCatcher[] = [
  { ErrorEquals: ["States.ALL"], Next: NEXT_ROUND, ResultPath: "$.error" },
];

function task(
  resource: string,
  parameters: Readonly<Record<string, string>>,
  resultPath: string,
  next: string,
  comment: string,
  caught: boolean,
): AslTaskState {
  return {
    Type: "Task",
    Comment: comment,
    Resource: resource,
    Parameters: parameters,
    ResultPath: resultPath,
    Retry: TASK_RETRY,
    ...(caught ? { Catch: CATCH_TO_NEXT_ROUND } : {}),
    Next: next,
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RiffleError("coordinator-asl", `${name} must be an integer ≥ 1, got ${value}`);
  }
  return value;
}

/** `variable` is present and BooleanEquals `true` (a missing field is not an error). */
function isTrue(variable: string): AslChoiceRule {
  return {
    And: [
      { Variable: variable, IsPresent: true },
      { Variable: variable, BooleanEquals: true },
    ],
  };
}

/**
 * Builds the coordinator's state machine definition. Start an execution with
 * `{"job": "<id>", "round": 0}` ({@link CoordinatorExecutionInput}).
 *
 * @throws RiffleError (`coordinator-asl`) when a function ARN is empty or a count is not a positive integer.
 */
export function coordinatorDefinition(options: CoordinatorAslOptions): AslDefinition {
  const fns = options.functions;
  for (const [name, arn] of Object.entries(fns)) {
    if (typeof arn !== "string" || arn.length === 0) {
      throw new RiffleError("coordinator-asl", `functions.${name} must be a non-empty Lambda ARN, got '${arn}'`);
    }
  }
  const intervalMs = options.checkpoint.intervalMs;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new RiffleError("coordinator-asl", `checkpoint.intervalMs must be a finite number ≥ 0, got ${intervalMs}`);
  }
  const rounds = positiveInteger("roundsPerExecution", options.roundsPerExecution ?? DEFAULT_ROUNDS_PER_EXECUTION);
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
      Next: TRIGGER,
    },
    [TRIGGER]: task(fns.trigger, JOB, "$.trigger", AFTER_TRIGGER, "Start checkpoint n, if any", true),
    [AFTER_TRIGGER]: {
      Type: "Choice",
      Choices: [
        { Or: [isTrue("$.trigger.finished"), isTrue("$.trigger.sleeping")], Next: DONE },
        { Variable: "$.trigger.failed", IsPresent: true, Next: JOB_FAILED },
        {
          Or: [
            { Variable: "$.trigger.checkpoint", IsPresent: false },
            { Variable: "$.trigger.checkpoint", IsNull: true },
          ],
          Next: NEXT_ROUND,
        },
      ],
      Default: WAIT_FOR_ACKS,
    },
    [WAIT_FOR_ACKS]: { Type: "Wait", Comment: "Pause between polls", Seconds: pollSeconds, Next: POLL },
    [POLL]: task(fns.poll, JOB_AND_CHECKPOINT, "$.poll", DECIDE, "Check the acks of checkpoint n", true),
    [DECIDE]: {
      Type: "Choice",
      Choices: [
        { Variable: "$.poll.status", StringEquals: "completed", Next: COMPLETE },
        { Variable: "$.poll.status", StringEquals: "timeout", Next: ABORT },
        { Variable: "$.poll.status", StringEquals: "failover", Next: RESTORE },
        { Variable: "$.poll.status", StringEquals: "finished", Next: DONE },
        { Variable: "$.poll.status", StringEquals: "aborted", Next: NEXT_ROUND },
      ],
      Default: WAIT_FOR_ACKS,
    },
    [COMPLETE]: task(fns.complete, JOB_AND_CHECKPOINT, "$.complete", NEXT_ROUND, "Write manifest n", true),
    [ABORT]: task(fns.abort, JOB_AND_CHECKPOINT, "$.abort", AFTER_ABORT, "Abort checkpoint n", true),
    [AFTER_ABORT]: {
      Type: "Choice",
      Choices: [{ ...isTrue("$.abort.failover"), Next: RESTORE }],
      Default: NEXT_ROUND,
    },
    [RESTORE]: task(fns.restore, JOB, "$.restore", AFTER_RESTORE, "Fail over to the last checkpoint", true),
    [AFTER_RESTORE]: {
      Type: "Choice",
      Choices: [{ Variable: "$.restore.failed", IsPresent: true, Next: JOB_FAILED }],
      Default: NEXT_ROUND,
    },
    [NEXT_ROUND]: {
      Type: "Pass",
      Comment: "Keep only the job and the next round number",
      Parameters: { "job.$": "$.job", "round.$": "States.MathAdd($.round, 1)" },
      Next: CHECK_ROUNDS,
    },
    [CHECK_ROUNDS]: {
      Type: "Choice",
      Choices: [{ Variable: "$.round", NumericGreaterThanEquals: rounds, Next: CONTINUE_AS_NEW }],
      Default: WAIT_INTERVAL,
    },
    [CONTINUE_AS_NEW]: task(
      fns.continueAsNew,
      JOB_AND_EXECUTION,
      "$.continued",
      DONE,
      "Start a new execution {job, round: 0} to bound history",
      false,
    ),
    [DONE]: { Type: "Succeed" },
    [JOB_FAILED]: {
      Type: "Fail",
      Error: JOB_FAILED_ERROR,
      Cause: "the restart strategy's attempts are used up; the job record (GET /jobs/{job}) says why",
    },
  };
  const ticks = tickSeconds === undefined ? "" : ` (ticks every ${waitSeconds} s)`;
  return {
    Comment: `riffle checkpoint coordinator: a checkpoint every ${intervalSeconds} s${ticks}, polls every ${pollSeconds} s, ${rounds} rounds per execution`,
    QueryLanguage: "JSONPath",
    StartAt: WAIT_INTERVAL,
    States: states,
  };
}

/**
 * The `tickSeconds` a job's coordinator needs: the job's `timerTickSeconds` when some
 * task is keyed (only keyed operators have processing-time timers), else `undefined`
 * (a round per checkpoint interval, as no tick is ever due); `undefined` too when the
 * job turned the ticks off (`timerTickSeconds: 0`).
 */
export function tickSecondsFor(plan: Plan, aws: Pick<AwsConfig, "timerTickSeconds">): number | undefined {
  if (aws.timerTickSeconds === 0 || !plan.tasks.some((t) => t.keyed)) return undefined;
  return aws.timerTickSeconds;
}

/**
 * Name of the execution that continues `previous`: `<base>-r<n+1>` after `<base>-r<n>`,
 * else `<previous>-r1`. Deterministic, so a retried ContinueAsNew asks for the same
 * name, and Step Functions refuses a second execution of it. At most 80 characters.
 */
export function nextExecutionName(previous: string): string {
  const m = /^(.*)-r(\d+)$/.exec(previous);
  const [base, n] = m ? [m[1] as string, Number(m[2]) + 1] : [previous, 1];
  const suffix = `-r${n}`;
  return `${base.slice(0, 80 - suffix.length)}${suffix}`;
}
