/**
 * What the embedded scheduler does with a batch's messages once the batch ran, as the Lambda
 * SQS event source mapping does with a partial batch response: deletes those that succeeded,
 * makes the rest visible again after the retry delay, and says when one of them was received
 * as often as the job allows (the job must fail over).
 */

import type { JobGraph } from "../graph/graph.ts";
import type { TaskPlan } from "../graph/plan.ts";
import { type Clock, ManualClock } from "../ports/clock.ts";
import type { ReceivedMessage } from "../ports/queue.ts";
import type { EmbeddedOptions } from "./embedded-options.ts";

/** A partition that failed too often: the job must fail over. */
export interface BatchFailure {
  readonly reason: string;
  readonly error: unknown;
  /** A mistake in the job's code (`JobCodeError`): the job fails at once, with no restart. */
  readonly fatal?: true;
}

/** What settling a batch needs of the scheduler. */
export interface ReceiptContext {
  readonly graph: JobGraph;
  readonly queue: NonNullable<EmbeddedOptions["queue"]>;
  readonly options: EmbeddedOptions;
}

/** Deletes the messages of `task` that were `done`. */
export async function ackDone(c: ReceiptContext, task: TaskPlan, done: readonly ReceivedMessage[]): Promise<void> {
  if (done.length > 0)
    await c.queue.ack(
      task.id,
      done.map((m) => m.receipt),
    );
}

/**
 * Returns `failed` to the queue after the retry delay, with `error` as the reason; a
 * {@link BatchFailure} when one was received as often as the job allows.
 */
export async function retryFailed(
  c: ReceiptContext,
  task: TaskPlan,
  failed: readonly ReceivedMessage[],
  error: string,
  cause: unknown,
): Promise<"ok" | BatchFailure> {
  if (failed.length === 0) return "ok";
  await c.queue.nack(
    task.id,
    failed.map((m) => m.receipt),
    c.options.retryDelayMs ?? 100,
    error,
  );
  return tooManyAttempts(c.graph, task, failed, error, cause);
}

/**
 * A failure once an envelope was received as often as the job allows: the job must
 * fail over. Counted on the first failed envelope of the newest generation in the
 * batch: envelopes of an older one are dropped unprocessed, however often they come.
 */
function tooManyAttempts(
  graph: JobGraph,
  task: TaskPlan,
  failed: readonly ReceivedMessage[],
  error: string,
  cause: unknown,
): "ok" | BatchFailure {
  const limit = graph.config.maxRecordAttempts + (graph.config.recordFailure === "dead-letter" ? 1 : 0);
  const gen = Math.max(...failed.map((m) => m.body.gen));
  const first = (failed.find((m) => m.body.gen === gen) ?? failed[0]) as ReceivedMessage;
  if (first.receiveCount >= limit) {
    return { reason: `${task.id}[${first.group}] failed ${limit} times: ${error}`, error: cause };
  }
  return "ok";
}

/** Runs a receive through the simulation's task invocation, then deletes what succeeded and returns the rest. */
export async function invokeTask(
  c: ReceiptContext & { readonly clock: Clock },
  task: TaskPlan,
  msgs: readonly ReceivedMessage[],
  invoke: NonNullable<NonNullable<EmbeddedOptions["simulation"]>["invoke"]>,
): Promise<"ok" | BatchFailure> {
  const { options, clock } = c;
  const { retry, error } = await invoke(task, msgs);
  if (options.batchTimeMs && clock instanceof ManualClock) clock.advance(options.batchTimeMs);
  if (options.simulation?.deleteAfterBatch?.() === false) return "ok";
  await ackDone(
    c,
    task,
    msgs.filter((m) => !retry.has(m.receipt)),
  );
  const failed = msgs.filter((m) => retry.has(m.receipt));
  return retryFailed(c, task, failed, error ?? "the invocation failed", undefined);
}
