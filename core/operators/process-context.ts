/**
 * What the process operators share (non-keyed, broadcast and keyed): the
 * non-keyed context a process function gets, and the rule for errors its code
 * throws.
 */

import type { ProcessContext, TimeService } from "../api/functions.ts";
import { OperatorError, RiffleError } from "../errors.ts";
import type { Operator, TaskServices } from "./operator.ts";
import { operatorListStates } from "./operator-state.ts";
import { sideRecord } from "./side-output.ts";

/** A context as its operator keeps it: the operator sets `timestamp` before each call. */
export type Stamped<C> = C & { timestamp: number | undefined };

/**
 * The context of a function that is not keyed: `emit` and `output` (side outputs)
 * to `next` with the record's timestamp, the clocks, operator list state.
 */
export function processContext(
  uid: string,
  next: Operator,
  services: TaskServices,
): Stamped<ProcessContext<unknown> & { readonly timers: TimeService }> {
  const ctx = {
    timestamp: undefined as number | undefined,
    timers: { currentProcessingTime: () => services.now, currentWatermark: () => services.watermark },
    emit: (value: unknown) => next.processRecord(value, ctx.timestamp, 0),
    output: (tag: { id: string }, value: unknown) => next.processRecord(sideRecord(tag.id, value), ctx.timestamp, 0),
    getListState: operatorListStates(uid, services) as ProcessContext<unknown>["getListState"],
  };
  return ctx;
}

/**
 * Runs the user's code `call` for operator `uid`: an error riffle threw (a state
 * value it cannot hold, a protocol error) passes as it is; any other error becomes
 * an {@link OperatorError} naming the operator (the record failed).
 */
export function callUser(uid: string, call: () => void): void {
  try {
    call();
  } catch (cause) {
    if (cause instanceof RiffleError) throw cause;
    throw new OperatorError(uid, cause);
  }
}

/** Tells `fn` that checkpoint `n` completed (see {@link callUser} for its errors), then tells `next`. */
export function notifyComplete(
  uid: string,
  fn: { notifyCheckpointComplete?(checkpointId: number): void },
  next: Operator,
  n: number,
): void {
  callUser(uid, () => fn.notifyCheckpointComplete?.(n));
  next.notifyCheckpointComplete?.(n);
}
