/**
 * User function types. Plain functions for stateless transformations, an object
 * with `processElement` (and optionally `onTimer`) for keyed processing.
 */

import type { Key } from "../keys.ts";
import type { StateHandles, StateSpec } from "./state.ts";

/** Timer registration for a keyed process function. Timers are per key and deduplicated. */
export interface TimerService {
  /** Processing time of the current batch, from the runtime clock (never `Date.now()`). */
  currentProcessingTime(): number;
  /** The operator's current event-time watermark (`-Infinity` before the first). */
  currentWatermark(): number;
  /** Fires `onTimer` once processing time reaches `time`. */
  registerProcessingTimeTimer(time: number): void;
  /** Fires `onTimer` once the watermark reaches `time`. */
  registerEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
}

/** What a keyed process function sees for each element or timer. */
export interface KeyedContext<K extends Key, S extends StateSpec, O> {
  /** The current key. */
  readonly key: K;
  /** Keyed state handles, scoped to the current key. */
  readonly state: StateHandles<S>;
  /** Timers, scoped to the current key. */
  readonly timers: TimerService;
  /** Event time of the current element, when it has one. */
  readonly timestamp: number | undefined;
  /** Emits one output record. */
  emit(value: O): void;
}

/** Context of `onTimer`. */
export interface TimerContext<K extends Key, S extends StateSpec, O> extends KeyedContext<K, S, O> {
  /** Whether the firing timer was an event-time or a processing-time timer. */
  readonly timeDomain: "event" | "processing";
}

/**
 * A keyed process function, like Flink's `KeyedProcessFunction`.
 *
 * @example
 * ```ts
 * stream.keyBy((e) => e.user).process({
 *   state: { count: valueState<number>() },
 *   processElement(e, ctx) {
 *     const n = (ctx.state.count.value() ?? 0) + 1;
 *     ctx.state.count.update(n);
 *     ctx.emit({ user: ctx.key, n });
 *   },
 * });
 * ```
 */
export interface KeyedProcessFunction<T, K extends Key, S extends StateSpec, O> {
  /** The keyed state this function uses, by name. */
  readonly state?: S;
  /** Called once per input element. */
  processElement(value: T, ctx: KeyedContext<K, S, O>): void;
  /** Called when a timer registered for a key fires. */
  onTimer?(time: number, ctx: TimerContext<K, S, O>): void;
  /**
   * Called when checkpoint `checkpointId` completed, i.e. everything before it is
   * committed and its output published (on each partition of the function, outside
   * any key). Best effort, as in Flink: a notification may be skipped (a restore, a
   * later checkpoint that completed first) and, after a crash, repeated; make it
   * idempotent. An error it throws fails the partition's batch like a record's.
   */
  notifyCheckpointComplete?(checkpointId: number): void;
}

/** A key selector: must be deterministic; it runs on both sides of the shuffle. */
export type KeySelector<T, K extends Key> = (value: T) => K;

/**
 * A keyed function over two connected streams that share keyed state and timers,
 * like Flink's `KeyedCoProcessFunction`. Both inputs are keyed to the same key.
 */
export interface KeyedCoProcessFunction<A, B, K extends Key, S extends StateSpec, O> {
  /** The keyed state this function uses, by name. */
  readonly state?: S;
  /** Called for each element of the first stream. */
  processElement1(value: A, ctx: KeyedContext<K, S, O>): void;
  /** Called for each element of the second stream. */
  processElement2(value: B, ctx: KeyedContext<K, S, O>): void;
  /** Called when a timer fires. */
  onTimer?(time: number, ctx: TimerContext<K, S, O>): void;
  /** Called when a checkpoint completed; see {@link KeyedProcessFunction.notifyCheckpointComplete}. */
  notifyCheckpointComplete?(checkpointId: number): void;
}
