/**
 * The non-keyed broadcast operator: runs a {@link BroadcastProcessFunction} over a
 * main stream (side 0) and a broadcast stream (side 1, every record reaches every
 * partition). Its broadcast state is partition state (`broadcast-state.ts`).
 */

import type { BroadcastContext, BroadcastProcessFunction, MapStateDescriptor } from "../api/broadcast.ts";
import type { StateCodec } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { broadcastStates } from "./broadcast-state.ts";
import { ForwardingOperator, type Operator, type TaskServices } from "./operator.ts";
import { callUser, notifyComplete, processContext, type Stamped } from "./process-context.ts";

type Fn = BroadcastProcessFunction<unknown, unknown, unknown>;

/**
 * The context of a non-keyed element: of `processBroadcastElement` (`writable`
 * broadcast state; shared with the keyed operator) or of `processElement`.
 */
export function broadcastContext(
  uid: string,
  next: Operator,
  services: TaskServices,
  descriptors: readonly MapStateDescriptor<Key, unknown>[],
  writable: boolean,
  codec: StateCodec,
): Stamped<BroadcastContext<unknown>> {
  const states = broadcastStates(uid, services, descriptors, codec);
  // The same object: `emit` reads its `timestamp`.
  return Object.assign(processContext(uid, next, services), {
    getBroadcastState: ((d: MapStateDescriptor<Key, unknown>) =>
      states(d, writable)) as BroadcastContext<unknown>["getBroadcastState"],
  });
}

/** Runs a broadcast process function on a stream that is not keyed. */
export class BroadcastProcessOperator extends ForwardingOperator {
  private readonly fn: Fn;
  /** Per input edge: whether it is the broadcast side. */
  private readonly broadcastInput: readonly boolean[];
  private readonly ctx: ReturnType<typeof broadcastContext>;
  private readonly readOnly: ReturnType<typeof broadcastContext>;

  constructor(
    uid: string,
    next: Operator,
    op: { readonly fn: Fn; readonly descriptors: readonly MapStateDescriptor<Key, unknown>[] },
    sides: readonly (0 | 1)[],
    services: TaskServices,
    codec: StateCodec = "json",
  ) {
    super(uid, next);
    this.fn = op.fn;
    this.broadcastInput = sides.map((s) => s === 1);
    this.ctx = broadcastContext(uid, next, services, op.descriptors, true, codec);
    this.readOnly = broadcastContext(uid, next, services, op.descriptors, false, codec);
  }

  processRecord(value: unknown, time: number | undefined, input: number): void {
    if (this.broadcastInput[input]) {
      this.ctx.timestamp = time;
      callUser(this.uid, () => this.fn.processBroadcastElement(value, this.ctx));
    } else {
      this.readOnly.timestamp = time;
      callUser(this.uid, () => this.fn.processElement(value, this.readOnly));
    }
  }

  override notifyCheckpointComplete(n: number): void {
    notifyComplete(this.uid, this.fn, this.next, n);
  }
}
