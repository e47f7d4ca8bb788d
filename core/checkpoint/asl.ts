/**
 * The checkpoint coordinator as two AWS Step Functions state machines (Amazon States
 * Language, JSONPath). Pure: builds JSON-serializable definitions, imports nothing
 * from AWS.
 *
 * Why two: a Standard workflow bills $25 per million state transitions, so a loop of
 * a few states per second costs more than everything else a job does; an Express
 * workflow bills $1 per million executions plus its duration (64 MB, $0.00006 per
 * minute), but runs at most 5 minutes and does not refuse a second execution of the
 * same name. So the rounds run in an Express workflow ({@link roundsDefinition},
 * `asl-rounds.ts`), about 4 minutes of them per execution, and a Standard workflow
 * ({@link coordinatorDefinition}) runs one Express execution after another,
 * synchronously (`startExecution.sync:2`): its executions keep the deterministic names
 * that make one coordinator per job (wakes `<job>-w<n>`, continue-as-new
 * `<name>-r<n+1>`; an execution of a name that exists counts as started), and each of
 * them has at most one Express execution running, as it waits for each to end.
 *
 * ```text
 * RunRounds (Express execution, ~4 min of rounds) ─► AfterRounds ─┬─ finished or sleeping ─► Done
 *      ▲                                                          ├─ failed ──────────────► JobFailed
 *      │                                                          ├─ roundsPerExecution run ─► ContinueAsNew
 *      │                                                          │   (starts a fresh execution, round 0) ─► Done
 *      └──────────────────── NextRound (round + 1) ◄──────────────┘ else
 * ```
 *
 * A quiet job's coordinator sleeps (scale to zero, `sleep.ts`): a round answers
 * `sleeping`, both executions end, and the next writer of new work starts the next
 * Standard execution (`<job>-w<n>`).
 *
 * The job fails for good (the Fail state {@link JOB_FAILED}) once its restart
 * strategy's attempts are used up, or a task hit a mistake in the job's code
 * (`job-failure.ts`): a round then answers `failed` and the reason is in the job
 * record. An Express execution that fails (a round that kept failing) is
 * caught into `$.error`, and the next one starts: the coordinator never dies of a
 * transient failure, and every step is idempotent against the durable checkpoint
 * store, so the next round picks up. After `roundsPerExecution` Express executions
 * the machine hands over to a new execution (ContinueAsNew), which keeps each
 * execution's event history bounded (Step Functions caps it at 25,000 events).
 */

import type { AwsConfig } from "../api/aws-config.ts";
import { RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import type { AslChoiceRule, AslDefinition, AslRetrier, AslState } from "./asl-types.ts";
import type { CheckpointConfig } from "./config.ts";

export type * from "./asl-types.ts";

/** Task: runs one Express execution of rounds and waits for its end. */
export const RUN_ROUNDS = "RunRounds";
/** Choice after {@link RUN_ROUNDS}. */
export const AFTER_ROUNDS = "AfterRounds";
/** Pass: keeps `{job, round + 1}`. */
export const NEXT_ROUND = "NextRound";
/** Task: start a new execution `{job, round: 0}`. */
export const CONTINUE_AS_NEW = "ContinueAsNew";
/** Succeed: the job finished or sleeps, or a new execution took over. */
export const DONE = "Done";
/** Fail: the job failed for good (restart attempts used up, or a mistake in its code). */
export const JOB_FAILED = "JobFailed";
/** Error name of the {@link JOB_FAILED} state. */
export const JOB_FAILED_ERROR = "JobFailed";

/** Every state name of the Standard coordinator machine, in loop order. */
export const COORDINATOR_STATES = [RUN_ROUNDS, AFTER_ROUNDS, NEXT_ROUND, CONTINUE_AS_NEW, DONE, JOB_FAILED] as const;

/** The resource of a Task state that starts a nested workflow and waits for its output (as JSON). */
export const START_EXECUTION_SYNC = "arn:aws:states:::states:startExecution.sync:2";

/** Lambda service errors worth a quick retry (as AWS recommends for Lambda tasks). */
export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
] as const;

/** Default number of Express executions before the Standard execution continues as a new one. */
export const DEFAULT_ROUNDS_PER_EXECUTION = 100;

/** The Lambda functions behind the coordinator's Task states (ARNs; any string locally). */
export interface CoordinatorFunctions {
  /** One round: settle the checkpoint in flight, restore if need be, trigger the next. */
  readonly round: string;
  readonly continueAsNew: string;
}

/** Options of {@link coordinatorDefinition} and {@link roundsDefinition}. */
export interface CoordinatorAslOptions {
  /** The job's checkpoint settings: `intervalMs` sets the wait between rounds. */
  readonly checkpoint: CheckpointConfig;
  /** The step functions' ARNs. */
  readonly functions: CoordinatorFunctions;
  /** ARN of the Express machine of {@link roundsDefinition} (any string locally). */
  readonly roundsMachine: string;
  /** Express executions per Standard execution before continuing as a new one (default 100). */
  readonly roundsPerExecution?: number;
  /** Seconds between two rounds while a checkpoint is in flight (default 1). */
  readonly pollSeconds?: number;
  /**
   * Seconds between rounds while no checkpoint is due (default: the checkpoint
   * interval). Set it for a job that may have processing-time timers (see
   * {@link tickSecondsFor}): each round sends the ticks of due timers.
   */
  readonly tickSeconds?: number;
}

/** The execution input of the Standard coordinator machine. */
export interface CoordinatorExecutionInput {
  readonly job: string;
  /** Express executions run by this Standard execution so far. */
  readonly round: number;
}

/** ContinueAsNew also gets this execution's name, so the next one's name derives from it (a retry starts nothing twice). */
const JOB_AND_EXECUTION = { "job.$": "$.job", "execution.$": "$$.Execution.Name" } as const;

/** Retry policy of the Lambda Task states. */
export const TASK_RETRY: readonly AslRetrier[] = [
  { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2 },
  { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
];

/** Timeout of {@link RUN_ROUNDS}: beyond the 5 minutes an Express execution may run. */
export const RUN_ROUNDS_TIMEOUT_SECONDS = 360;

/** Retry of {@link RUN_ROUNDS}: Step Functions' own service errors (a failed Express execution is caught instead). */
export const RUN_ROUNDS_RETRY: readonly AslRetrier[] = [
  {
    ErrorEquals: ["StepFunctions.SdkClientException", "StepFunctions.ServiceUnavailableException"],
    IntervalSeconds: 1,
    MaxAttempts: 5,
    BackoffRate: 2,
  },
];

/** @throws RiffleError (`coordinator-asl`) unless `value` is an integer ≥ 1. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RiffleError("coordinator-asl", `${name} must be an integer ≥ 1, got ${value}`);
  }
  return value;
}

/** `variable` is present and BooleanEquals `true` (a missing field is not an error). */
export function isTrue(variable: string): AslChoiceRule {
  return {
    And: [
      { Variable: variable, IsPresent: true },
      { Variable: variable, BooleanEquals: true },
    ],
  };
}

/** @throws RiffleError (`coordinator-asl`) when a function ARN or the rounds machine is empty. */
export function checkArns(options: CoordinatorAslOptions): void {
  const named: [string, unknown][] = [
    ...Object.entries(options.functions).map(([k, v]): [string, unknown] => [`functions.${k}`, v]),
    ["roundsMachine", options.roundsMachine],
  ];
  for (const [name, arn] of named) {
    if (typeof arn !== "string" || arn.length === 0) {
      throw new RiffleError("coordinator-asl", `${name} must be a non-empty ARN, got '${String(arn)}'`);
    }
  }
}

/**
 * Builds the Standard coordinator machine's definition. Start an execution with
 * `{"job": "<id>", "round": 0}` ({@link CoordinatorExecutionInput}).
 *
 * @throws RiffleError (`coordinator-asl`) when an ARN is empty or a count is not a positive integer.
 */
export function coordinatorDefinition(options: CoordinatorAslOptions): AslDefinition {
  checkArns(options);
  const rounds = positiveInteger("roundsPerExecution", options.roundsPerExecution ?? DEFAULT_ROUNDS_PER_EXECUTION);
  const output = "$.rounds.output";
  const states: Record<string, AslState> = {
    [RUN_ROUNDS]: {
      Type: "Task",
      Comment: "Run rounds in an Express execution (about 4 minutes of them) and wait for its end",
      Resource: START_EXECUTION_SYNC,
      Parameters: { StateMachineArn: options.roundsMachine, Input: { "job.$": "$.job", checkpoint: null } },
      ResultSelector: { "output.$": "$.Output" },
      ResultPath: "$.rounds",
      // Longer than an Express execution may run: a task timeout would not stop the execution,
      // and the next one would run beside it (two coordinators). The States Language's default is 60 s.
      TimeoutSeconds: RUN_ROUNDS_TIMEOUT_SECONDS,
      Retry: RUN_ROUNDS_RETRY,
      Catch: [{ ErrorEquals: ["States.ALL"], Next: AFTER_ROUNDS, ResultPath: "$.error" }],
      Next: AFTER_ROUNDS,
    },
    [AFTER_ROUNDS]: {
      Type: "Choice",
      Choices: [
        { Or: [isTrue(`${output}.finished`), isTrue(`${output}.sleeping`)], Next: DONE },
        { Variable: `${output}.failed`, IsPresent: true, Next: JOB_FAILED },
        // `round` counts the Express executions before this one: this one was the last.
        { Variable: "$.round", NumericGreaterThanEquals: rounds - 1, Next: CONTINUE_AS_NEW },
      ],
      Default: NEXT_ROUND,
    },
    [NEXT_ROUND]: {
      Type: "Pass",
      Comment: "Keep only the job and the count of Express executions",
      Parameters: { "job.$": "$.job", "round.$": "States.MathAdd($.round, 1)" },
      Next: RUN_ROUNDS,
    },
    [CONTINUE_AS_NEW]: {
      Type: "Task",
      Comment: "Start a new execution {job, round: 0} to bound history",
      Resource: options.functions.continueAsNew,
      Parameters: JOB_AND_EXECUTION,
      ResultPath: "$.continued",
      Retry: TASK_RETRY,
      Next: DONE,
    },
    [DONE]: { Type: "Succeed" },
    [JOB_FAILED]: {
      Type: "Fail",
      Error: JOB_FAILED_ERROR,
      Cause: "the restart strategy's attempts are used up; the job record (GET /jobs/{job}) says why",
    },
  };
  return {
    Comment: `riffle checkpoint coordinator: runs the rounds (an Express workflow) one execution after another, ${rounds} per execution`,
    QueryLanguage: "JSONPath",
    StartAt: RUN_ROUNDS,
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
