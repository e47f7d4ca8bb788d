/**
 * What a keyed operator hands its function: the context of an element or a timer, with the
 * function's keyed state handles (TTL cleanups included), its timer service, emit and side
 * outputs, operator list state and, for a keyed broadcast function, read-only broadcast state.
 */

import type { KeyedBroadcastProcessFunction, MapStateDescriptor, ReadOnlyBroadcastAccess } from "../api/broadcast.ts";
import type {
  KeyedContext,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  TimerContext,
  TimerService,
} from "../api/functions.ts";
import type { StateCodec, StateDescriptor, StateSpec } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { KeyedBackend } from "../runtime/keyed-backend.ts";
import type { Timers } from "../runtime/timers.ts";
import { broadcastStates } from "./broadcast-state.ts";
import type { Operator, TaskServices } from "./operator.ts";
import { operatorListStates } from "./operator-state.ts";
import { callUser } from "./process-context.ts";
import { sideRecord } from "./side-output.ts";
import { stateHandle, stateValues } from "./state-handles.ts";

type Fn = KeyedProcessFunction<unknown, Key, StateSpec, unknown>;
type CoFn = KeyedCoProcessFunction<unknown, unknown, Key, StateSpec, unknown>;
type BcFn = KeyedBroadcastProcessFunction<unknown, unknown, Key, StateSpec, unknown>;
/** What a keyed operator runs: a one-input, a two-input or a keyed broadcast function. */
export type KeyedOp =
  | { readonly kind: "process"; readonly fn: Fn }
  | { readonly kind: "coProcess"; readonly fn: CoFn }
  | {
      readonly kind: "keyedBroadcastProcess";
      readonly fn: BcFn;
      readonly descriptors: readonly MapStateDescriptor<Key, unknown>[];
    };

/** The context a keyed function gets; its timestamp and time domain change per call. */
export type KeyedCtx = KeyedContext<Key, StateSpec, unknown> & {
  timestamp: number | undefined;
  timeDomain: "event" | "processing";
};

/** A keyed operator's context, state and timer callbacks. */
export interface KeyedParts {
  readonly ctx: KeyedCtx;
  /** The ids of the function's states, and the timers'. */
  readonly stateIds: readonly string[];
  /** Removes the current key's expired TTL values. */
  readonly cleanup: () => void;
  /** Runs `onTimer` for an event-time timer of the current key. */
  readonly fireEvent: (t: number) => void;
  /** Runs `onTimer` for a processing-time timer of the current key. */
  readonly fireProcessing: (t: number) => void;
}

/** `getBroadcastState` of a keyed element's context: read-only. */
function readOnlyBroadcast(
  uid: string,
  services: TaskServices,
  descriptors: readonly MapStateDescriptor<Key, unknown>[],
  codec: StateCodec,
): ReadOnlyBroadcastAccess {
  const states = broadcastStates(uid, services, descriptors, codec);
  return { getBroadcastState: ((d: MapStateDescriptor<Key, unknown>) => states(d, false)) as never };
}

/** The id under which keyed operator `uid` keeps its state `name`. */
export const keyedStateId = (uid: string, name: string): string => `${uid}/${name}`;

/** The keyed state handles of `fn` under `uid`, and the cleanup of its TTL states. */
function handles(
  uid: string,
  fn: Fn | CoFn | BcFn,
  backend: KeyedBackend,
  services: TaskServices,
  timers: Timers,
  codec: StateCodec,
) {
  const names = Object.keys(fn.state ?? {});
  const state: Record<string, unknown> = {};
  const cleanups: (() => void)[] = [];
  const ttl = { now: () => services.now, schedule: (t: number) => timers.register("c", t) };
  for (const name of names) {
    const d = (fn.state as StateSpec)[name] as StateDescriptor<unknown>;
    const built = stateHandle(d, keyedStateId(uid, name), backend, ttl, stateValues(uid, name, d?.codec ?? codec));
    state[name] = built.handle;
    if (built.cleanup) cleanups.push(built.cleanup);
  }
  const cleanup = () => {
    for (const c of cleanups) c();
  };
  return { state, cleanup, stateIds: [...names.map((n) => keyedStateId(uid, n)), timers.stateId] };
}

/** The context, state and timer callbacks of keyed operator `uid` running `op`, emitting to `next`. */
export function keyedParts(
  uid: string,
  next: Operator,
  op: KeyedOp,
  services: TaskServices,
  backend: KeyedBackend,
  timers: Timers,
  codec: StateCodec,
): KeyedParts {
  const fn = op.fn;
  const { state, cleanup, stateIds } = handles(uid, fn, backend, services, timers, codec);
  const timerService: TimerService = {
    currentProcessingTime: () => services.now,
    currentWatermark: () => services.watermark,
    registerEventTimeTimer: (t) => timers.register("e", t),
    registerProcessingTimeTimer: (t) => timers.register("p", t),
    deleteEventTimeTimer: (t) => timers.delete("e", t),
    deleteProcessingTimeTimer: (t) => timers.delete("p", t),
  };
  const ctx: KeyedCtx = {
    get key() {
      return backend.current.key as Key;
    },
    state: state as KeyedContext<Key, StateSpec, unknown>["state"],
    timers: timerService,
    timestamp: undefined as number | undefined,
    timeDomain: "event" as "event" | "processing",
    emit: (value: unknown) => next.processRecord(value, ctx.timestamp, 0),
    output: (tag: { id: string }, value: unknown) => next.processRecord(sideRecord(tag.id, value), ctx.timestamp, 0),
    getListState: operatorListStates(uid, services) as KeyedContext<Key, StateSpec, unknown>["getListState"],
    ...(op.kind === "keyedBroadcastProcess" ? readOnlyBroadcast(uid, services, op.descriptors, codec) : {}),
  };
  // The keyed broadcast function's timer context also reads broadcast state; `ctx` has it.
  const onTimer = fn.onTimer as ((t: number, c: TimerContext<Key, StateSpec, unknown>) => void) | undefined;
  const call = (t: number) => {
    ctx.timestamp = t;
    callUser(uid, () => onTimer?.call(fn, t, ctx as TimerContext<Key, StateSpec, unknown>));
  };
  const fireEvent = (t: number) => {
    ctx.timeDomain = "event";
    call(t);
  };
  const fireProcessing = (t: number) => {
    ctx.timeDomain = "processing";
    call(t);
  };
  return { ctx, stateIds, cleanup, fireEvent, fireProcessing };
}
