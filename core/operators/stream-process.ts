/** The non-keyed process operator: runs a {@link ProcessFunction} on each record of a stream. */

import type { ProcessContext, ProcessFunction } from "../api/functions.ts";
import { OperatorError, RiffleError } from "../errors.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";
import { operatorListStates } from "./operator-state.ts";
import { sideRecord } from "./side-output.ts";

/** Runs a process function that is not keyed; it chains like map. */
export class StreamProcessOperator extends ForwardingOperator {
  private readonly fn: ProcessFunction<unknown, unknown>;
  private readonly ctx: ProcessContext<unknown> & { timestamp: number | undefined };

  constructor(uid: string, next: Operator, fn: ProcessFunction<unknown, unknown>, services: TaskServices) {
    super(uid, next);
    this.fn = fn;
    const ctx = {
      timestamp: undefined as number | undefined,
      timers: { currentProcessingTime: () => services.now, currentWatermark: () => services.watermark },
      emit: (value: unknown) => next.processRecord(value, ctx.timestamp, 0),
      output: (tag: { id: string }, value: unknown) => next.processRecord(sideRecord(tag.id, value), ctx.timestamp, 0),
      getListState: operatorListStates(uid, services) as ProcessContext<unknown>["getListState"],
    };
    this.ctx = ctx;
  }

  processRecord(value: unknown, time: number | undefined): void {
    this.ctx.timestamp = time;
    try {
      this.fn.processElement(value, this.ctx);
    } catch (cause) {
      if (cause instanceof RiffleError) throw cause;
      throw new OperatorError(this.uid, cause);
    }
  }

  override notifyCheckpointComplete(n: number): void {
    try {
      this.fn.notifyCheckpointComplete?.(n);
    } catch (cause) {
      throw new OperatorError(this.uid, cause);
    }
    this.next.notifyCheckpointComplete?.(n);
  }
}
