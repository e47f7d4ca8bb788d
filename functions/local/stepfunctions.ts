/**
 * Runs the checkpoint coordinator's state machine locally with the ASL interpreter
 * `aws-local-stepfunctions`: the same definition that is deployed, its Lambda Task
 * states bound to local functions. Like AWS, each execution lasts at most
 * `roundsPerExecution` rounds, then hands over (ContinueAsNew) to a fresh
 * execution, so no execution's history grows without bound.
 */

import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import {
  ABORT,
  type AslDefinition,
  COMPLETE,
  CONTINUE_AS_NEW,
  JOB_FAILED_ERROR,
  POLL,
  RESTORE,
  TRIGGER,
  WAIT_FOR_ACKS,
  WAIT_INTERVAL,
} from "../../core/checkpoint/asl.ts";
import { JobFailedError } from "../../core/checkpoint/steps.ts";
import { describeCause, RiffleError } from "../../core/errors.ts";
import type { WorkflowType } from "../aws/accounting-snapshot.ts";

/** Parameters of the Trigger and Restore states. */
export interface JobStepInput {
  readonly job: string;
}

/** Parameters of the Poll, Complete and Abort states. */
export interface CheckpointStepInput extends JobStepInput {
  readonly checkpoint: number;
}

/** A coordinator step: receives the Task state's Parameters, returns what the Lambda would. */
export type CoordinatorStep<I> = (input: I) => Promise<unknown>;

/** The local functions behind the Task states (ContinueAsNew is handled by the runner). */
export interface CoordinatorSteps {
  readonly trigger: CoordinatorStep<JobStepInput>;
  readonly poll: CoordinatorStep<CheckpointStepInput>;
  readonly complete: CoordinatorStep<CheckpointStepInput>;
  readonly abort: CoordinatorStep<CheckpointStepInput>;
  readonly restore: CoordinatorStep<JobStepInput>;
}

/** The interpreter's event stream of one execution. */
type EventLogs = ReturnType<StateMachine["run"]>["eventLogs"];

/** Where a local state machine reports its billable usage (`RequestAccounting` is one). */
export interface WorkflowMeter {
  /** `n` states entered or retried. */
  recordStateTransitions(machine: string, type: WorkflowType, n?: number): void;
  /** One execution that ran `durationMs`. */
  recordExecution(machine: string, type: WorkflowType, durationMs: number): void;
}

/** Options of {@link runCoordinatorLocally}. */
export interface LocalCoordinatorOptions {
  /** The job id (the execution input is `{job, round: 0}`). */
  readonly job: string;
  /**
   * Wait overrides in milliseconds: `interval` for WaitInterval, `poll` for
   * WaitForAcks, `retry` for every Retry pause. Unset: the definition's own seconds.
   */
  readonly waitMs?: { readonly interval?: number; readonly poll?: number; readonly retry?: number };
  /** Called when execution `n` (1-based) starts. */
  readonly onExecution?: (n: number) => void;
  /** Receives one line per execution start/end, step failure, and caught error. */
  readonly log?: (line: string) => void;
  /** Counts transitions and executions (default: not counted). */
  readonly meter?: WorkflowMeter;
  /** How the state machine is billed (default `STANDARD`). */
  readonly type?: WorkflowType;
  /** The state machine's name in the meter (default `<job>-coordinator`). */
  readonly machine?: string;
}

/** A running local coordinator. */
export interface LocalCoordinator {
  /** Aborts the running execution; resolves once it and any step in flight have stopped. */
  stop(): Promise<void>;
  /** How many executions have started so far. */
  executions(): number;
  /**
   * Starts the next execution of a coordinator that went to sleep (its last execution
   * ended with Trigger answering `sleeping`); does nothing while one runs.
   */
  wake(): void;
  /** True while the coordinator sleeps (no execution runs, the job is not finished). */
  asleep(): boolean;
  /**
   * Resolves when the job finished (an execution ended without ContinueAsNew) or
   * after {@link stop}; rejects with a `JobFailedError` when an execution ended in the
   * JobFailed state (the restart attempts are used up), or a `RiffleError`
   * (`coordinator-execution`) if it failed otherwise.
   */
  readonly done: Promise<void>;
}

/** Thrown to a step called after {@link LocalCoordinator.stop}: the execution is being torn down. */
class CoordinatorStoppedError extends RiffleError {
  constructor(state: string) {
    super("coordinator-stopped", `state ${state} not run: the local coordinator is stopping`);
  }
}

/** Lambda's boundary: the payload travels as JSON (undefined becomes null). */
function asJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/**
 * Runs `definition` (from `coordinatorDefinition`) until the job finishes or
 * {@link LocalCoordinator.stop} is called. Errors thrown by a step become task
 * failures, so the definition's Retry and Catch apply as in AWS. Every step call
 * first yields to the event loop, so zero-millisecond waits cannot starve timers.
 */
export function runCoordinatorLocally(
  definition: AslDefinition,
  steps: CoordinatorSteps,
  options: LocalCoordinatorOptions,
): LocalCoordinator {
  checkSteps(steps);
  const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: { checkArn: false },
  });
  const log = options.log;
  const machineName = options.machine ?? `${options.job}-coordinator`;
  const type = options.type ?? "STANDARD";
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let count = 0;
  let continued = false;
  /** Set when this execution's Trigger answered `sleeping`. */
  let slept = false;
  let wakeUp: (() => void) | undefined;
  let abortCurrent: (() => void) | undefined;

  const bind =
    <I>(state: string, step: CoordinatorStep<I>) =>
    async (input: unknown) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (stopped) throw new CoordinatorStoppedError(state);
      const call = step(input as I);
      inFlight.add(call);
      try {
        return asJson(await call) as never;
      } finally {
        inFlight.delete(call);
      }
    };
  const handlers: Record<string, (input: unknown) => Promise<never>> = {
    [TRIGGER]: async (input) => {
      const answer = (await bind(TRIGGER, steps.trigger)(input)) as { sleeping?: boolean } | null;
      if (answer?.sleeping) slept = true;
      return answer as never;
    },
    [POLL]: bind(POLL, steps.poll),
    [COMPLETE]: bind(COMPLETE, steps.complete),
    [ABORT]: bind(ABORT, steps.abort),
    [RESTORE]: bind(RESTORE, steps.restore),
    [CONTINUE_AS_NEW]: async (input) => {
      continued = true;
      log?.(`execution ${count}: continue as new ${JSON.stringify(input)}`);
      return { started: true } as never;
    },
  };
  const overrides = runOverrides(handlers, options.waitMs);
  const billing = options.meter ? { meter: options.meter, machine: machineName, type } : undefined;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      count += 1;
      continued = false;
      const n = count;
      options.onExecution?.(n);
      log?.(`execution ${n}: start {job: ${options.job}, round: 0}`);
      await runExecution(machine, n, options.job, overrides, {
        log,
        billing,
        onStart: (abort) => {
          abortCurrent = abort;
        },
      });
      abortCurrent = undefined;
      if (stopped) break;
      if (slept) {
        slept = false;
        log?.(`execution ${n}: asleep (the job is quiet)`);
        await new Promise<void>((resolve) => {
          wakeUp = resolve;
        });
        wakeUp = undefined;
        if (stopped) break;
        continue;
      }
      log?.(`execution ${n}: ${continued ? "continued as new" : "job finished"}`);
      if (!continued) break;
    }
  };
  const done = loop();
  done.catch(() => {}); // observed by stop(); callers awaiting `done` still see the rejection

  return {
    wake() {
      wakeUp?.();
    },
    asleep: () => wakeUp !== undefined,
    async stop() {
      stopped = true;
      wakeUp?.();
      abortCurrent?.();
      await done.catch(() => {});
      await Promise.allSettled([...inFlight]);
    },
    executions: () => count,
    done,
  };
}

function checkSteps(steps: CoordinatorSteps): void {
  for (const name of ["trigger", "poll", "complete", "abort", "restore"] as const) {
    const step = steps[name];
    if (typeof step !== "function") {
      throw new RiffleError("coordinator-local", `steps.${name} must be a function, got ${typeof step}`);
    }
  }
}

/** The interpreter's overrides: the Task states' local handlers, and the waits and retry pauses in ms. */
function runOverrides(
  handlers: Record<string, (input: unknown) => Promise<never>>,
  waitMs: LocalCoordinatorOptions["waitMs"],
): NonNullable<Parameters<StateMachine["run"]>[1]>["overrides"] {
  const waitTimeOverrides: Record<string, number> = {};
  if (waitMs?.interval !== undefined) waitTimeOverrides[WAIT_INTERVAL] = waitMs.interval;
  if (waitMs?.poll !== undefined) waitTimeOverrides[WAIT_FOR_ACKS] = waitMs.poll;
  const retry = waitMs?.retry;
  const retryIntervalOverrides =
    retry === undefined ? undefined : Object.fromEntries(Object.keys(handlers).map((state) => [state, retry]));
  return {
    taskResourceLocalHandlers: handlers,
    waitTimeOverrides,
    ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}),
  };
}

/** What one execution reports to: the log, the meter, and who may abort it. */
interface ExecutionHooks {
  readonly log: ((line: string) => void) | undefined;
  readonly billing: { meter: WorkflowMeter; machine: string; type: WorkflowType } | undefined;
  readonly onStart: (abort: () => void) => void;
}

/**
 * Runs execution `n` of `machine` to its end; its transitions are counted before
 * the execution itself (the event stream ends with the execution). A failed
 * execution is a `coordinator-execution` error.
 */
async function runExecution(
  machine: StateMachine,
  n: number,
  job: string,
  overrides: NonNullable<Parameters<StateMachine["run"]>[1]>["overrides"],
  hooks: ExecutionHooks,
): Promise<void> {
  const input = { job, round: 0 };
  const execution = machine.run(input, {
    ...(overrides ? { overrides } : {}),
    noThrowOnAbort: true,
    context: { Execution: { Name: `${job}-r${n}`, Input: input, StartTime: new Date().toISOString() } },
  });
  hooks.onStart(execution.abort);
  const { log, billing } = hooks;
  const forwarding = log || billing ? forwardEvents(n, execution.eventLogs, log, billing) : undefined;
  const started = performance.now();
  try {
    await execution.result;
  } catch (cause) {
    if (cause instanceof Error && (cause.cause as Error | undefined)?.name === JOB_FAILED_ERROR) {
      throw new JobFailedError(`coordinator execution ${n} of job '${job}' ended in ${JOB_FAILED_ERROR}`, cause);
    }
    throw new RiffleError(
      "coordinator-execution",
      `coordinator execution ${n} of job '${job}' failed: ${describeCause(cause)}`,
      {
        cause,
      },
    );
  } finally {
    const ran = performance.now() - started;
    await forwarding?.catch(() => {});
    billing?.meter.recordExecution(billing.machine, billing.type, ran);
  }
}

/** `RIFFLE_TRACE_COORDINATOR=1` logs every state the local coordinator enters (for diagnosing a stuck loop). */
const TRACE = process.env.RIFFLE_TRACE_COORDINATOR === "1";

/** Logs failures and catches, and counts states entered or retried as billed transitions. */
async function forwardEvents(
  n: number,
  events: EventLogs,
  log: ((line: string) => void) | undefined,
  billing: { meter: WorkflowMeter; machine: string; type: WorkflowType } | undefined,
) {
  for await (const event of events) {
    if (billing && (event.type === "StateEntered" || event.type === "StateRetried")) {
      billing.meter.recordStateTransitions(billing.machine, billing.type);
    }
    if (!log) continue;
    if (event.type === "StateFailed") {
      log(`execution ${n}: ${event.state.name} failed: ${event.Error}: ${describeCause(event.Cause)}`);
    } else if (event.type === "StateCaught") {
      log(`execution ${n}: ${event.state.name} caught, next ${event.catch.catcher.Next}`);
    } else if (event.type === "ExecutionFailed") {
      log(`execution ${n}: failed: ${event.Error}: ${describeCause(event.Cause)}`);
    } else if (TRACE && event.type === "StateEntered") {
      log(`execution ${n}: ${event.state.name}`);
    }
  }
}
