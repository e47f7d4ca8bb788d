/**
 * User function types. Plain functions (or rich function objects with `open` and
 * `close`) for stateless transformations, an object with `processElement` (and
 * optionally `onTimer`) for processing, keyed or not.
 */

import type { Key } from "../keys.ts";
import type { OutputTag } from "./output-tag.ts";
import type { ListState, StateHandles, StateSpec } from "./state.ts";

/** What a rich function learns about where it runs, in `open`. */
export interface RuntimeContext {
  /** The job's name. */
  readonly job: string;
  /** The uid of the function's operator. */
  readonly operator: string;
  /** The index of this partition (Flink's subtask index), 0-based. */
  readonly partition: number;
  /** The operator's parallelism. */
  readonly parallelism: number;
  /** The job generation (bumped by every restore). */
  readonly generation: number;
}

/**
 * Lifecycle hooks of a rich function, as in Flink's `RichFunction`. riffle calls
 * `open` when a partition's runner builds its operator chain (a cold start, and again
 * after a failed batch made it drop the chain) and awaits it before the first record;
 * `close` when the runner drops the chain in an orderly way: a failed batch, a
 * restore, the end of an embedded run. A crash calls no `close`, and on AWS Lambda a
 * container is frozen and reclaimed without notice, so `close` is a courtesy for
 * releasing clients and handles, never a place to flush output that must not be lost
 * (use a sink, or {@link TwoPhaseCommitSink}, for that).
 *
 * One function object serves every partition of its operator that a process runs
 * (the embedded runtime runs them all; a Lambda container may run several), so
 * `open` may run several times on it: keep per-partition things in state, or in a
 * map by `ctx.partition`, not in one field.
 */
export interface RichFunction {
  /** Called once before the partition's first record (per chain, see above). */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called when the chain is dropped in an orderly way; errors it throws are ignored. */
  close?(): void | Promise<void>;
}

/** A map function object with lifecycle hooks. */
export interface RichMapFunction<T, O> extends RichFunction {
  map(value: T): O;
}
/** A filter function object with lifecycle hooks. */
export interface RichFilterFunction<T> extends RichFunction {
  filter(value: T): boolean;
}
/** A flatMap function object with lifecycle hooks. */
export interface RichFlatMapFunction<T, O> extends RichFunction {
  flatMap(value: T): Iterable<O>;
}

/** The clocks a process function reads. */
export interface TimeService {
  /** Processing time of the current batch, from the runtime clock (never `Date.now()`). */
  currentProcessingTime(): number;
  /** The operator's current event-time watermark (`-Infinity` before the first). */
  currentWatermark(): number;
}

/** Timer registration for a keyed process function. Timers are per key and deduplicated. */
export interface TimerService extends TimeService {
  /** Fires `onTimer` once processing time reaches `time`. */
  registerProcessingTimeTimer(time: number): void;
  /** Fires `onTimer` once the watermark reaches `time`. */
  registerEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
}

/** What a process function, keyed or not, sees for each element. */
export interface ProcessContext<O> {
  /** Event time of the current element, when it has one. */
  readonly timestamp: number | undefined;
  /** The clocks (on a keyed stream, also timer registration). */
  readonly timers: TimeService;
  /** Emits one output record. */
  emit(value: O): void;
  /** Emits `value` to side output `tag` (read it with `getSideOutput(tag)`). */
  output<X>(tag: OutputTag<X>, value: X): void;
  /**
   * The partition's operator (non-keyed) list state `name`, like Flink's operator
   * `ListState`: one list per partition of the operator, committed with the batch.
   * On a rescale through a savepoint, the lists of all partitions are concatenated
   * and split evenly among the new partitions. Keep it small: every change rewrites it.
   */
  getListState<X>(name: string): ListState<X>;
}

/** What a keyed process function sees for each element or timer. */
export interface KeyedContext<K extends Key, S extends StateSpec, O> extends ProcessContext<O> {
  /** The current key. */
  readonly key: K;
  /** Keyed state handles, scoped to the current key. */
  readonly state: StateHandles<S>;
  /** Timers, scoped to the current key. */
  readonly timers: TimerService;
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
export interface KeyedProcessFunction<T, K extends Key, S extends StateSpec, O> extends RichFunction {
  /** The keyed state this function uses, by name. */
  readonly state?: S;
  /** Called once per input element. */
  processElement(value: T, ctx: KeyedContext<K, S, O>): void;
  /** Called when a timer registered for a key fires. */
  onTimer?(time: number, ctx: TimerContext<K, S, O>): void;
  /**
   * Event-time timers this function's state implies, instead of stored ones: while a key holds
   * state `state`, it has one event-time timer, at `at(key, value)`, as a window's state implies
   * the window's end, or a row's state its expiry. The function still registers it (after writing
   * the state, when `at` reads its value), but nothing is written for it: a restore finds the keys
   * that hold the state and sets their timers again. A timer fires only while its key holds the
   * state and `at` still gives its time; `onTimer` should clear the state (a key that still holds
   * it after a restore fires again at once). Another time is refused, and so is deleting a timer,
   * unless `storesOthers`. Saves two state writes per key and window.
   */
  readonly impliedTimers?: ImpliedTimers<K, S>;
  /**
   * Mini-batch processing, like Flink's `MapBundleFunction`: when defined, the operator
   * holds the records of one slice (the input envelopes one step of a batch processes) by
   * key and, at the slice's end (and before any watermark, timer, barrier, end of input or
   * broadcast record), calls this once per key with that key's records in arrival order,
   * keys in the order they first arrived;
   * `processElement` is then not called. A bundle never outlives the batch that read
   * its records, so state and output stay exactly once. A record-by-record rerun (which
   * dead-letters a failing record) hands over bundles of one record.
   */
  processBundle?(values: readonly T[], ctx: KeyedContext<K, S, O>): void;
  /**
   * Called when checkpoint `checkpointId` completed, i.e. everything before it is
   * committed and its output published (on each partition of the function, outside
   * any key). Best effort, as in Flink: a notification may be skipped (a restore, a
   * later checkpoint that completed first) and, after a crash, repeated; make it
   * idempotent. An error it throws fails the partition's batch like a record's.
   */
  notifyCheckpointComplete?(checkpointId: number): void;
}

/** Which state implies a key's event-time timer, and its time: see {@link KeyedProcessFunction.impliedTimers}. */
export interface ImpliedTimers<K extends Key, S extends StateSpec> {
  /** The state whose keys each have a timer: a value state when `at` reads its value. */
  readonly state: keyof S & string;
  /**
   * The time of the timer of a key holding `state`, from the key and, for a value state, its
   * value (as `value()` reads it). The same key and value must always give the same time.
   */
  readonly at: (key: K, value: unknown) => number;
  /**
   * Whether the function also registers event-time timers at other times (say, for the rows of
   * another state): those are stored and fire as usual, and may be deleted. Default false: a
   * timer at another time is refused, which catches an `at` that disagrees with the function.
   */
  readonly storesOthers?: boolean;
}

/** A key selector: must be deterministic; it runs on both sides of the shuffle. */
export type KeySelector<T, K extends Key> = (value: T) => K;

/**
 * A keyed function over two connected streams that share keyed state and timers,
 * like Flink's `KeyedCoProcessFunction`. Both inputs are keyed to the same key.
 */
export interface KeyedCoProcessFunction<A, B, K extends Key, S extends StateSpec, O> extends RichFunction {
  /** The keyed state this function uses, by name. */
  readonly state?: S;
  /** Called for each element of the first stream. */
  processElement1(value: A, ctx: KeyedContext<K, S, O>): void;
  /** Called for each element of the second stream. */
  processElement2(value: B, ctx: KeyedContext<K, S, O>): void;
  /**
   * Mini-batch processing of the first stream, as {@link KeyedProcessFunction.processBundle}:
   * when defined, the operator holds the first stream's records of one slice by key
   * and calls this once per key with them (`processElement1` is then not called). A bundle
   * holds records of one stream only, and is handed over before any record of the other stream
   * is processed, so the order of the two streams' records per key is kept.
   */
  processBundle1?(values: readonly A[], ctx: KeyedContext<K, S, O>): void;
  /** Mini-batch processing of the second stream: see {@link processBundle1}. */
  processBundle2?(values: readonly B[], ctx: KeyedContext<K, S, O>): void;
  /**
   * With bundles on both streams: the stream whose bundles of a slice are handed over first.
   * Both streams' records of the slice are then held, and that stream's bundles go before the
   * other's (instead of a record of one stream handing over the other's held records). Records
   * of two streams come through different channels, whose relative order is arbitrary anyway;
   * the function says it does less work seeing that stream first (a join's side unique on the
   * key: the other side's rows then meet its row instead of being stored for it).
   */
  readonly bundleFirst?: 1 | 2;
  /** Called when a timer fires. */
  onTimer?(time: number, ctx: TimerContext<K, S, O>): void;
  /** Event-time timers the state implies: see {@link KeyedProcessFunction.impliedTimers}. */
  readonly impliedTimers?: ImpliedTimers<K, S>;
  /** Called when a checkpoint completed; see {@link KeyedProcessFunction.notifyCheckpointComplete}. */
  notifyCheckpointComplete?(checkpointId: number): void;
}

/**
 * A process function on a stream that is not keyed, like Flink's
 * `ProcessFunction`: no keyed state and no timers (Flink allows timers only on
 * keyed streams), but emit, side outputs and the rich lifecycle.
 *
 * @example
 * ```ts
 * const errors = new OutputTag<string>("errors");
 * const parsed = lines.process<Row>({
 *   processElement(line, ctx) {
 *     try { ctx.emit(JSON.parse(line)); } catch { ctx.output(errors, line); }
 *   },
 * });
 * parsed.getSideOutput(errors).sinkTo("bad-lines");
 * ```
 */
export interface ProcessFunction<T, O> extends RichFunction {
  /** Called once per input element. */
  processElement(value: T, ctx: ProcessContext<O>): void;
  /** Called when a checkpoint completed; see {@link KeyedProcessFunction.notifyCheckpointComplete}. */
  notifyCheckpointComplete?(checkpointId: number): void;
}
