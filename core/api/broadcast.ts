/**
 * The broadcast state pattern, as in Flink: a low-volume stream (rules, config) is
 * broadcast to every partition of an operator together with a main stream, and kept
 * in broadcast state, a map every partition holds an identical copy of.
 *
 * ```ts
 * const rulesDesc = new MapStateDescriptor<string, Rule>("rules");
 * events.keyBy((e) => e.user).connect(rules.broadcast(rulesDesc)).process({
 *   processElement(e, ctx) { const r = ctx.getBroadcastState(rulesDesc).get(e.kind); … },
 *   processBroadcastElement(r, ctx) { ctx.getBroadcastState(rulesDesc).put(r.kind, r); },
 * });
 * ```
 *
 * The order in which a partition sees the two inputs is not defined (as in Flink):
 * a rule and the events sent after it may arrive in either order.
 */

import type { Key } from "../keys.ts";
import { checkName } from "../names.ts";
import type { KeyedContext, ProcessContext, RichFunction, TimerContext, TimeService } from "./functions.ts";
import type { StateCodec, StateSpec } from "./state.ts";

/**
 * Declares a broadcast state: a map from `K` to `V`, named `name` (unique within its
 * operator). Values are checked when put, like keyed state values: plain JSON, or
 * with the rich codec (`{ codec: "rich" }`, or the job's `env.setStateCodec`) also
 * `Date`, `Map`, `Set` and `bigint`.
 */
export class MapStateDescriptor<K extends Key, V> {
  /** The state's name. */
  readonly name: string;
  /** How values are stored; default: the job's codec. */
  readonly codec: StateCodec | undefined;
  /** @internal Type witness only. */
  declare readonly types?: { k: K; v: V };
  constructor(name: string, options: { codec?: StateCodec } = {}) {
    this.name = checkName("MapStateDescriptor name", name);
    this.codec = options.codec;
  }
}

/** Broadcast state as `processElement` sees it: read-only (a write would make the copies differ). */
export interface ReadOnlyBroadcastState<K extends Key, V> {
  /** The value of `key`, if any. */
  get(key: K): V | undefined;
  /** Whether `key` has a value. */
  contains(key: K): boolean;
  /** All entries, in no particular order (as Flink's map state). */
  entries(): [K, V][];
}

/** Broadcast state as `processBroadcastElement` sees it: it may change it. */
export interface BroadcastState<K extends Key, V> extends ReadOnlyBroadcastState<K, V> {
  /** Sets `key` to `value`. */
  put(key: K, value: V): void;
  /** Removes `key`. */
  remove(key: K): void;
  /** Removes every entry. */
  clear(): void;
}

/** Reads broadcast state. */
export interface ReadOnlyBroadcastAccess {
  /** The broadcast state `descriptor` declares, read-only. */
  getBroadcastState<K extends Key, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/** What `processBroadcastElement` sees: no key, no keyed state, no timer registration. */
export interface BroadcastContext<O> extends ProcessContext<O> {
  /** The clocks. */
  readonly timers: TimeService;
  /** The broadcast state `descriptor` declares, writable. */
  getBroadcastState<K extends Key, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

/** What `processElement` of a {@link BroadcastProcessFunction} sees. */
export interface ReadOnlyBroadcastContext<O> extends ProcessContext<O>, ReadOnlyBroadcastAccess {}

/** What `processElement` of a {@link KeyedBroadcastProcessFunction} sees: keyed state and timers, read-only broadcast state. */
export interface KeyedReadOnlyBroadcastContext<K extends Key, S extends StateSpec, O>
  extends KeyedContext<K, S, O>,
    ReadOnlyBroadcastAccess {}

/** What `onTimer` of a {@link KeyedBroadcastProcessFunction} sees. */
export interface KeyedBroadcastTimerContext<K extends Key, S extends StateSpec, O>
  extends TimerContext<K, S, O>,
    ReadOnlyBroadcastAccess {}

/**
 * Flink's `BroadcastProcessFunction`: a non-keyed stream connected with a
 * {@link BroadcastStream}.
 */
export interface BroadcastProcessFunction<A, B, O> extends RichFunction {
  /** Called for each element of the main stream; broadcast state is read-only here. */
  processElement(value: A, ctx: ReadOnlyBroadcastContext<O>): void;
  /** Called on every partition for each element of the broadcast stream. */
  processBroadcastElement(value: B, ctx: BroadcastContext<O>): void;
  /** Called when a checkpoint completed; see {@link KeyedProcessFunction.notifyCheckpointComplete}. */
  notifyCheckpointComplete?(checkpointId: number): void;
}

/**
 * Flink's `KeyedBroadcastProcessFunction`: a keyed stream connected with a
 * {@link BroadcastStream}, with keyed state and timers on the keyed side.
 */
export interface KeyedBroadcastProcessFunction<A, B, K extends Key, S extends StateSpec, O> extends RichFunction {
  /** The keyed state this function uses, by name. */
  readonly state?: S;
  /** Called for each element of the keyed stream; broadcast state is read-only here. */
  processElement(value: A, ctx: KeyedReadOnlyBroadcastContext<K, S, O>): void;
  /** Called on every partition for each element of the broadcast stream (outside any key). */
  processBroadcastElement(value: B, ctx: BroadcastContext<O>): void;
  /** Called when a timer registered in `processElement` fires. */
  onTimer?(time: number, ctx: KeyedBroadcastTimerContext<K, S, O>): void;
  /** Called when a checkpoint completed; see {@link KeyedProcessFunction.notifyCheckpointComplete}. */
  notifyCheckpointComplete?(checkpointId: number): void;
}
