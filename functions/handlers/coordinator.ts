/**
 * The coordinator's step Lambdas: trigger, poll, complete, abort, restore, and
 * continue-as-new. Each is one small middy handler over one core step
 * ({@link CoordinatorSteps}); the Step Functions state machine (`core/checkpoint/asl.ts`)
 * sequences them. Trigger and Poll first send the ticks of due processing-time
 * timers (the machine's rounds are the AWS runtime's clock), and Trigger starts a
 * checkpoint only once the interval has passed. Ticks are best effort: one that
 * cannot be sent is logged and named in the answer (`tickError`), and delays its
 * timers to the partition's next batch; it never stops a checkpoint. Complete, and
 * Poll while its checkpoint is pending (a backlog holds barriers back), then run the
 * autoscale round when the job has `autoscale` (rate-limited; best effort too).
 */

import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { nextExecutionName } from "../../core/checkpoint/asl.ts";
import { type AutoscaleAnswer, CoordinatorSteps, type StepContext } from "../../core/checkpoint/steps.ts";
import { describeCause, RiffleError } from "../../core/errors.ts";

/** Input every step gets from the state machine. */
export interface StepInput {
  readonly job: string;
  /** The checkpoint the round triggered (poll, complete, abort). */
  readonly checkpoint?: number | null;
  /** ContinueAsNew: the name of the execution that is ending. */
  readonly execution?: string;
}

/** One step's Lambda handler; the context is optional for local callers. */
export type StepHandler = (input: StepInput, context?: Context) => Promise<unknown>;

/** The step handlers of one job. */
export interface CoordinatorHandlers {
  readonly trigger: StepHandler;
  readonly poll: StepHandler;
  readonly complete: StepHandler;
  readonly abort: StepHandler;
  readonly restore: StepHandler;
  readonly continueAsNew: StepHandler;
}

/** Options of {@link createCoordinatorHandlers}. */
export interface CoordinatorHandlerOptions {
  /**
   * Starts the next execution of the state machine (`StartExecution` in AWS) under
   * `name` when given; an execution of that name that already exists counts as started.
   */
  readonly startExecution: (input: { job: string; round: number }, name?: string) => Promise<void>;
  /** Receives a line per tick that could not be sent (default: `console.error`, CloudWatch on Lambda). */
  readonly log?: (line: string) => void;
}

/** Builds the coordinator's step handlers over `context`. */
export function createCoordinatorHandlers(
  context: StepContext,
  options: CoordinatorHandlerOptions,
): CoordinatorHandlers {
  const steps = new CoordinatorSteps(context);
  const job = context.plan.job;
  const log = options.log ?? ((line: string) => console.error(line));
  /** Sends the due ticks; says why it could not, if it could not. */
  const tick = async (): Promise<{ tickError?: string }> => {
    try {
      await steps.tick();
      return {};
    } catch (e) {
      const tickError = describeCause(e);
      log(`coordinator of job '${job}': timer ticks not sent: ${tickError}`);
      return { tickError };
    }
  };
  /**
   * The autoscale round after a completion (`CoordinatorSteps.autoscale`). Best effort:
   * a round that fails is logged and named in the answer (`autoscaleError`), and the
   * next completion tries again; it never fails the publication.
   */
  const autoscale = async (): Promise<{ autoscaled?: AutoscaleAnswer; autoscaleError?: string }> => {
    try {
      const a = await steps.autoscale();
      if (a.rescaled) {
        log(`coordinator of job '${job}': rescaled to ${JSON.stringify(a.parallelism)}: ${JSON.stringify(a.reasons)}`);
      }
      return a.checked ? { autoscaled: a } : {};
    } catch (e) {
      const autoscaleError = describeCause(e);
      log(`coordinator of job '${job}': autoscale round failed: ${autoscaleError}`);
      return { autoscaleError };
    }
  };
  const step = <T>(name: string, fn: (input: StepInput) => Promise<T>) =>
    middy<StepInput, T>().handler(async (input: StepInput) => {
      if (input?.job !== job) {
        throw new RiffleError("unknown-job", `coordinator step '${name}' of job '${job}' got job '${input?.job}'`);
      }
      return fn(input);
    });
  const checkpointOf = (name: string, input: StepInput): number => {
    const id = input.checkpoint;
    if (typeof id !== "number" || !Number.isSafeInteger(id)) {
      throw new RiffleError("bad-step-input", `coordinator step '${name}' needs a checkpoint id, got ${String(id)}`);
    }
    return id;
  };
  // Lambda calls a handler with (event, context); local runners call it with the input alone.
  const wrap = (h: (input: StepInput, context: Context) => Promise<unknown>) => (input: StepInput, context?: Context) =>
    h(input, context ?? ({ functionName: `riffle-coordinator-${job}` } as Context));
  return {
    trigger: wrap(
      step("trigger", async () => {
        const ticked = await tick();
        return { ...(await steps.trigger({ whenDue: true })), ...ticked };
      }),
    ),
    poll: wrap(
      step("poll", async (i) => {
        const id = checkpointOf("poll", i);
        const ticked = await tick();
        const polled = await steps.poll(id);
        // A backlog holds barriers back: autoscaling must not wait for a completion.
        return { ...polled, ...ticked, ...(polled.status === "pending" ? await autoscale() : {}) };
      }),
    ),
    complete: wrap(step("complete", async () => ({ ...(await steps.complete()), ...(await autoscale()) }))),
    abort: wrap(step("abort", (i) => steps.abort(checkpointOf("abort", i)))),
    restore: wrap(step("restore", () => steps.restore())),
    continueAsNew: wrap(
      step("continueAsNew", async (input) => {
        const name = input.execution ? nextExecutionName(input.execution) : undefined;
        await options.startExecution({ job, round: 0 }, name);
        return { continued: true, ...(name ? { execution: name } : {}) };
      }),
    ),
  };
}
