/** The non-keyed process operator: runs a {@link ProcessFunction} on each record of a stream. */

import type { ProcessFunction } from "../api/functions.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";
import { callUser, notifyComplete, processContext } from "./process-context.ts";

/** Runs a process function that is not keyed; it chains like map. */
export class StreamProcessOperator extends ForwardingOperator {
  private readonly fn: ProcessFunction<unknown, unknown>;
  private readonly ctx: ReturnType<typeof processContext>;

  constructor(uid: string, next: Operator, fn: ProcessFunction<unknown, unknown>, services: TaskServices) {
    super(uid, next);
    this.fn = fn;
    this.ctx = processContext(uid, next, services);
  }

  processRecord(value: unknown, time: number | undefined): void {
    this.ctx.timestamp = time;
    callUser(this.uid, () => this.fn.processElement(value, this.ctx));
  }

  override notifyCheckpointComplete(n: number): void {
    notifyComplete(this.uid, this.fn, this.next, n);
  }
}
