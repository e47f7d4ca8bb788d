/**
 * The coordinator's Lambdas: `round` and `continueAsNew`, each a small middy handler.
 * A round ({@link round} over the core steps, {@link CoordinatorSteps}) is everything
 * the coordinator does between two waits of its Express workflow
 * (`core/checkpoint/asl-rounds.ts`): it sends the ticks of due processing-time
 * timers (the rounds are the AWS runtime's clock) while it settles the checkpoint in
 * flight, restores on failover, and triggers the next checkpoint once the interval
 * has passed. Ticks are best effort: one that cannot be sent is logged and named in
 * the answer (`tickError`), and delays its timers to the partition's next batch; it
 * never stops a checkpoint. After the round, a job with `autoscale` runs the autoscale
 * round (rate-limited by the step; best effort too). ContinueAsNew starts the Standard machine's next execution.
 */

import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { nextExecutionName } from "../../core/checkpoint/asl.ts";
import { ROUNDS_EXECUTION_MS } from "../../core/checkpoint/asl-rounds.ts";
import { LazyMarks } from "../../core/checkpoint/published-marks.ts";
import { type RoundAnswer, round } from "../../core/checkpoint/round.ts";
import { CompletedManifests, RoundReads } from "../../core/checkpoint/round-reads.ts";
import { type AutoscaleAnswer, CoordinatorSteps, type StepContext } from "../../core/checkpoint/steps.ts";
import { describeCause, RiffleError } from "../../core/errors.ts";
import type { Telemetry } from "../aws/telemetry.ts";

/** Input every step gets from the state machine. */
export interface StepInput {
  readonly job: string;
  /** Round: the checkpoint the previous round followed (`null`: none). */
  readonly checkpoint?: number | null;
  /** Round: when its Express execution started (ISO 8601, `$$.Execution.StartTime`). */
  readonly started?: string;
  /** ContinueAsNew: the name of the execution that is ending. */
  readonly execution?: string;
}

/** What a round answers the rounds machine: the new state `{job, checkpoint, ...}`. */
export interface RoundOutput extends RoundAnswer {
  readonly job: string;
  /** True once the Express execution has run its share ({@link ROUNDS_EXECUTION_MS}): it ends, the next one starts. */
  readonly handOver?: true;
  /** Why the due timer ticks could not be sent, if they could not. */
  readonly tickError?: string;
  /** What the autoscale round did, when one ran. */
  readonly autoscaled?: AutoscaleAnswer;
  /** Why the autoscale round failed, if it did. */
  readonly autoscaleError?: string;
}

/** One step's Lambda handler; the context is optional for local callers. */
export type StepHandler = (input: StepInput, context?: Context) => Promise<unknown>;

/** The step handlers of one job. */
export interface CoordinatorHandlers {
  readonly round: StepHandler;
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
  /** Where a round that completes a checkpoint publishes its duration, alignment and bytes (EMF on Lambda). */
  readonly telemetry?: Pick<Telemetry, "checkpointCompleted">;
}

/** Builds the coordinator's step handlers over `context`. */
export function createCoordinatorHandlers(
  context: StepContext,
  options: CoordinatorHandlerOptions,
): CoordinatorHandlers {
  const job = context.plan.job;
  const log = options.log ?? ((line: string) => console.error(line));
  /** Sends the due ticks; says why it could not, if it could not. */
  const tick = async (steps: CoordinatorSteps): Promise<{ tickError?: string }> => {
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
   * The autoscale round after a coordinator round (`CoordinatorSteps.autoscale`; it
   * also runs while a checkpoint is pending, since a backlog holds barriers back).
   * Best effort: a round that fails is logged and named in the answer
   * (`autoscaleError`), and the next round tries again; it never fails the round.
   */
  const autoscale = async (
    steps: CoordinatorSteps,
  ): Promise<{ autoscaled?: AutoscaleAnswer; autoscaleError?: string }> => {
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
  const checkpointOf = (input: StepInput): number | null => {
    const id = input.checkpoint ?? null;
    if (id !== null && (typeof id !== "number" || !Number.isSafeInteger(id))) {
      throw new RiffleError("bad-step-input", `coordinator round needs a checkpoint id or null, got ${String(id)}`);
    }
    return id;
  };
  const clock = context.clock;
  /** Completed manifests kept across this container's rounds (round-reads.ts): the next round reads the last one. */
  const completedManifests = new CompletedManifests();
  const partitions = context.plan.tasks.reduce((n, t) => n + t.parallelism, 0);
  /** Published marks kept across this container's rounds, written every few (published-marks.ts). */
  const marks = new LazyMarks();
  /** True once the Express execution that started at `started` has run its share. */
  const handOver = (started: string | undefined): boolean => {
    const t = started === undefined ? Number.NaN : Date.parse(started);
    return Number.isFinite(t) && clock.now() - t >= ROUNDS_EXECUTION_MS;
  };
  // Lambda calls a handler with (event, context); local runners call it with the input alone.
  const wrap = (h: (input: StepInput, context: Context) => Promise<unknown>) => (input: StepInput, context?: Context) =>
    h(input, context ?? ({ functionName: `riffle-coordinator-${job}` } as Context));
  return {
    round: wrap(
      step("round", async (i): Promise<RoundOutput> => {
        const id = checkpointOf(i);
        // Each round reads the job record and each manifest once, and a completed one not again (round-reads.ts).
        const reads = new RoundReads(context.checkpoints, completedManifests);
        // A small job's record, acks and finished reports: one read (round-reads.ts).
        reads.prefetch(job, id, partitions);
        const steps = new CoordinatorSteps({ ...context, checkpoints: reads, marks });
        // The ticks go out while the round runs: neither waits for the other's requests.
        const [ticked, answer] = await Promise.all([tick(steps), round(steps, id)]);
        // The round wrote the manifest it completed: reading it back is served from `reads`.
        const done = answer.completed === undefined ? undefined : await reads.getManifest(job, answer.completed);
        if (done?.durationMs !== undefined)
          options.telemetry?.checkpointCompleted({ ...done, durationMs: done.durationMs });
        const scaled = answer.finished || answer.failed ? {} : await autoscale(steps);
        return { job, ...answer, ...ticked, ...scaled, ...(handOver(i.started) ? { handOver: true as const } : {}) };
      }),
    ),
    continueAsNew: wrap(
      step("continueAsNew", async (input) => {
        const name = input.execution ? nextExecutionName(input.execution) : undefined;
        await options.startExecution({ job, round: 0 }, name);
        return { continued: true, ...(name ? { execution: name } : {}) };
      }),
    ),
  };
}
