/**
 * Runs the checkpoint coordinator's state machines locally with the ASL interpreter
 * `aws-local-stepfunctions`: the same definitions that are deployed — the Standard
 * machine, whose RunRounds state runs the Express rounds machine to its end as
 * `startExecution.sync:2` does on AWS, and whose Round tasks are bound to a local
 * function. Like AWS, each Standard execution runs at most `roundsPerExecution`
 * Express executions, then hands over (ContinueAsNew) to a fresh one, so no
 * execution's history grows without bound.
 */

import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { CONTINUE_AS_NEW, JOB_FAILED_ERROR, RUN_ROUNDS } from "../../core/checkpoint/asl.ts";
import { ROUND, WAIT_FOR_ACKS, WAIT_INTERVAL } from "../../core/checkpoint/asl-rounds.ts";
import type { AslDefinition } from "../../core/checkpoint/asl-types.ts";
import { JobFailedError } from "../../core/checkpoint/steps.ts";
import { describeCause, RiffleError } from "../../core/errors.ts";
import type { WorkflowType } from "../aws/accounting-snapshot.ts";

/** Parameters of the Round state. */
export interface RoundStepInput {
  readonly job: string;
  readonly checkpoint: number | null;
  /** When the Express execution started (ISO 8601). */
  readonly started: string;
}

/** A coordinator step: receives the Task state's Parameters, returns what the Lambda would. */
export type CoordinatorStep<I> = (input: I) => Promise<unknown>;

/** The local function behind the Round task (ContinueAsNew is handled by the runner). */
export interface CoordinatorSteps {
  readonly round: CoordinatorStep<RoundStepInput>;
}

/** The two definitions: the Standard machine (`coordinatorDefinition`) and the Express rounds (`roundsDefinition`). */
export interface CoordinatorDefinitions {
  readonly coordinator: AslDefinition;
  readonly rounds: AslDefinition;
}

/** The interpreter's event stream of one execution. */
type EventLogs = ReturnType<StateMachine["run"]>["eventLogs"];

/** Where a local state machine reports its billable usage (`RequestAccounting` is one). */
export interface WorkflowMeter {
  /** `n` states entered or retried. */
  recordStateTransitions(machine: string, type: WorkflowType, n?: number): void;
  /** One execution that ran `durationMs`. */
  recordExecution(machine: string, type: WorkflowType, durationMs: number): void;
  /** `durationMs` more of an execution still running. */
  recordExecutionTime(machine: string, type: WorkflowType, durationMs: number): void;
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
  /** Called when Standard execution `n` (1-based) starts. */
  readonly onExecution?: (n: number) => void;
  /** Receives one line per execution start/end, step failure, and caught error. */
  readonly log?: (line: string) => void;
  /** Counts transitions and executions (default: not counted). */
  readonly meter?: WorkflowMeter;
  /** The Standard machine's name in the meter (default `<job>-coordinator`; the rounds are `<machine>-rounds`). */
  readonly machine?: string;
}

/** A running local coordinator. */
export interface LocalCoordinator {
  /** Aborts the running executions; resolves once they and any step in flight have stopped. */
  stop(): Promise<void>;
  /** How many Standard executions have started so far. */
  executions(): number;
  /**
   * Starts the next execution of a coordinator that went to sleep (its last execution
   * ended with a round answering `sleeping`); does nothing while one runs.
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

/** How the machines are billed and named in the meter. */
interface Billing {
  readonly meter: WorkflowMeter;
  readonly machine: string;
  readonly rounds: string;
}

/**
 * Runs `definitions` until the job finishes or {@link LocalCoordinator.stop} is
 * called. Errors thrown by a step become task failures, so the definitions' Retry and
 * Catch apply as in AWS. Every step call first yields to the event loop, so
 * zero-millisecond waits cannot starve timers.
 */
export function runCoordinatorLocally(
  definitions: CoordinatorDefinitions,
  steps: CoordinatorSteps,
  options: LocalCoordinatorOptions,
): LocalCoordinator {
  if (typeof steps.round !== "function") {
    throw new RiffleError("coordinator-local", `steps.round must be a function, got ${typeof steps.round}`);
  }
  const validation = { validationOptions: { checkArn: false } };
  const machine = new StateMachine(definitions.coordinator as unknown as StateMachineDefinition, validation);
  const roundsMachine = new StateMachine(definitions.rounds as unknown as StateMachineDefinition, validation);
  const log = options.log;
  const machineName = options.machine ?? `${options.job}-coordinator`;
  const billing = options.meter
    ? { meter: options.meter, machine: machineName, rounds: `${machineName}-rounds` }
    : undefined;
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let count = 0;
  let continued = false;
  /** Set when a round of this execution answered `sleeping`. */
  let slept = false;
  let wakeUp: (() => void) | undefined;
  /**
   * Set by a wake that came while this execution still ran: a round wrote `sleeping`,
   * a task committed and woke the job before the execution ended. On AWS that wake
   * starts a new execution; here the loop must not wait for another one.
   */
  let wokenEarly = false;
  const aborts = new Set<() => void>();
  /** Express time counted so far of the rounds execution running. */
  let expressMark: number | undefined;
  const countExpressTime = () => {
    if (expressMark === undefined || !billing) return;
    const now = performance.now();
    billing.meter.recordExecutionTime(billing.rounds, "EXPRESS", now - expressMark);
    expressMark = now;
  };

  const round = async (input: unknown): Promise<never> => {
    countExpressTime();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stopped) throw new CoordinatorStoppedError(ROUND);
    const call = steps.round(input as RoundStepInput);
    inFlight.add(call);
    try {
      const answer = asJson(await call) as { sleeping?: boolean } | null;
      if (answer?.sleeping) slept = true;
      return answer as never;
    } finally {
      inFlight.delete(call);
    }
  };
  const roundsOverrides = runOverrides({ [ROUND]: round }, options.waitMs);
  /** RunRounds: one Express execution of the rounds machine, to its end (`startExecution.sync:2`). */
  const runRounds = async (parameters: unknown): Promise<never> => {
    const input = (parameters as { Input: unknown }).Input;
    const started = performance.now();
    expressMark = started;
    const execution = roundsMachine.run(input as never, {
      ...(roundsOverrides ? { overrides: roundsOverrides } : {}),
      noThrowOnAbort: true,
      context: {
        Execution: { Name: `${options.job}-rounds`, Input: input as never, StartTime: new Date().toISOString() },
      },
    });
    aborts.add(execution.abort);
    const forwarding = forwardEvents(
      `${count} rounds`,
      execution.eventLogs,
      log,
      billing && { ...billing, machine: billing.rounds, type: "EXPRESS" },
    );
    try {
      return { Output: await execution.result } as never;
    } finally {
      aborts.delete(execution.abort);
      await forwarding.catch(() => {});
      countExpressTime();
      expressMark = undefined;
      billing?.meter.recordExecution(billing.rounds, "EXPRESS", 0);
    }
  };
  const overrides = runOverrides(
    {
      [RUN_ROUNDS]: runRounds,
      [CONTINUE_AS_NEW]: async (input) => {
        continued = true;
        log?.(`execution ${count}: continue as new ${JSON.stringify(input)}`);
        return { started: true } as never;
      },
    },
    options.waitMs,
  );
  const loop = async (): Promise<void> => {
    while (!stopped) {
      count += 1;
      continued = false;
      wokenEarly = false; // a wake can only be for a sleep that this execution writes
      const n = count;
      options.onExecution?.(n);
      log?.(`execution ${n}: start {job: ${options.job}, round: 0}`);
      await runExecution(machine, n, options.job, overrides, { log, billing, aborts });
      if (stopped) break;
      if (slept) {
        slept = false;
        if (wokenEarly) {
          log?.(`execution ${n}: woken as it went to sleep`);
          continue;
        }
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
      if (wakeUp) wakeUp();
      else wokenEarly = true;
    },
    asleep: () => wakeUp !== undefined,
    async stop() {
      stopped = true;
      wakeUp?.();
      for (const abort of aborts) abort();
      await done.catch(() => {});
      await Promise.allSettled([...inFlight]);
    },
    executions: () => count,
    done,
  };
}

type Overrides = NonNullable<Parameters<StateMachine["run"]>[1]>["overrides"];

/** The interpreter's overrides: the Task states' local handlers, and the waits and retry pauses in ms. */
function runOverrides(
  handlers: Record<string, (input: unknown) => Promise<never>>,
  waitMs: LocalCoordinatorOptions["waitMs"],
): Overrides {
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
  readonly billing: Billing | undefined;
  readonly aborts: Set<() => void>;
}

/**
 * Runs Standard execution `n` of `machine` to its end; its transitions are counted
 * before the execution itself (the event stream ends with the execution). A failed
 * execution is a `coordinator-execution` error.
 */
async function runExecution(
  machine: StateMachine,
  n: number,
  job: string,
  overrides: Overrides,
  hooks: ExecutionHooks,
): Promise<void> {
  const input = { job, round: 0 };
  const execution = machine.run(input, {
    ...(overrides ? { overrides } : {}),
    noThrowOnAbort: true,
    context: { Execution: { Name: `${job}-r${n}`, Input: input, StartTime: new Date().toISOString() } },
  });
  hooks.aborts.add(execution.abort);
  const { log, billing } = hooks;
  const forwarding = forwardEvents(String(n), execution.eventLogs, log, billing && { ...billing, type: "STANDARD" });
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
      { cause },
    );
  } finally {
    hooks.aborts.delete(execution.abort);
    const ran = performance.now() - started;
    await forwarding.catch(() => {});
    billing?.meter.recordExecution(billing.machine, "STANDARD", ran);
  }
}

/** `RIFFLE_TRACE_COORDINATOR=1` logs every state the local coordinator enters (for diagnosing a stuck loop). */
const TRACE = process.env.RIFFLE_TRACE_COORDINATOR === "1";

/** Logs failures and catches, and counts states entered or retried as transitions. */
async function forwardEvents(
  n: string,
  events: EventLogs,
  log: ((line: string) => void) | undefined,
  billing: { meter: WorkflowMeter; machine: string; type: WorkflowType } | undefined,
) {
  if (!log && !billing) return;
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
