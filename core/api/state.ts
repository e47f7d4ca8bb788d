/**
 * Keyed state: declared by name on a keyed operator, read and written through
 * `ctx.state`. Every value is scoped to the current key. Values must be
 * JSON (or, with the `rich` {@link StateCodec}, JSON plus Date, Map, Set and
 * bigint); a write of anything else fails the job at once. Treat values as
 * immutable once written: write a new value with `update`/`put`/`add` rather than
 * mutating one you read.
 */

import type { StateTtlConfig } from "./state-ttl.ts";
import type { AggregateFunction } from "./windows.ts";

/**
 * How state values are stored. `json` (the default): plain JSON only; a write of
 * anything a JSON round trip would change (a `Map`, `Set`, `Date`, `bigint`, a class
 * instance, `NaN` or `Infinity`, a function, `undefined` in an array, a cycle) fails
 * the job at once with a `StateValueError` naming the operator, the state and the
 * value's type. `rich`: JSON plus `Date`, `Map`, `Set` and `bigint`, nested anywhere,
 * given back as they were after a crash or a restore (each read decodes a fresh
 * copy, which costs more than `json`).
 */
export type StateCodec = "json" | "rich";

/** The kinds of keyed state. */
export type StateKind = "value" | "list" | "map" | "reducing" | "aggregating";

/**
 * Declares one piece of keyed state. Create with {@link valueState},
 * {@link listState}, {@link mapState}, {@link reducingState} or {@link aggregatingState}.
 */
export type StateDescriptor<S> = {
  readonly kind: StateKind;
  /** Time-to-live of the state's values (entries of a map, elements of a list). */
  readonly ttl?: StateTtlConfig;
  /** How this state's values are stored (default: the job's, see `env.setStateCodec`). */
  readonly codec?: StateCodec;
  /** A map state's layout: hashed (see {@link MapStateOptions}). */
  readonly hashed?: boolean;
  /** @internal The fold of a reducing or aggregating state. */
  readonly fold?: AggregateFunction<unknown, unknown, unknown>;
  readonly __type?: S;
};

/** Options every state descriptor takes. */
export interface StateOptions {
  /** Expire values that were not written (or read, per the config) for a while; see {@link StateTtlConfig}. */
  readonly ttl?: StateTtlConfig;
  /** How this state's values are stored (default: the job's, see `env.setStateCodec`). */
  readonly codec?: StateCodec;
}

/** Options of a map state. */
export interface MapStateOptions extends StateOptions {
  /**
   * Keep each key's map as a hash trie once it holds more than a few dozen entries: a batch's
   * writes then copy the few small parts they change, where a plain map is copied whole on a
   * batch's first write (the committed value must not change), which costs in proportion to
   * the map. Use it for maps of thousands of entries per key. {@link MapState.entries} then
   * gives entries in no particular order (the order is the same on every run and after a
   * restore). Either layout reads the other's stored values, so the option may be switched
   * between runs of a job.
   */
  readonly hashed?: boolean;
}

/** A single value per key. */
export interface ValueState<T> {
  /** The value for the current key, or `undefined` when unset. */
  value(): T | undefined;
  /** Sets the value for the current key. */
  update(value: T): void;
  /** Removes the value for the current key. */
  clear(): void;
}

/** A list per key. */
export interface ListState<T> {
  /** The list for the current key (empty when unset). Do not mutate it. */
  get(): readonly T[];
  /** Appends one element. */
  add(value: T): void;
  /** Replaces the whole list. */
  update(values: readonly T[]): void;
  /** Removes the list. */
  clear(): void;
}

/** A map per key. Map keys are strings. */
export interface MapState<V> {
  get(mapKey: string): V | undefined;
  put(mapKey: string, value: V): void;
  remove(mapKey: string): void;
  has(mapKey: string): boolean;
  /**
   * Entries of the map: in insertion order, except that keys that are array indexes
   * ("0", "17") come first in ascending order, as a JavaScript object's keys do; in no
   * particular order for a {@link MapStateOptions.hashed} map.
   */
  entries(): [string, V][];
  /** Number of entries. */
  size(): number;
  clear(): void;
}

/**
 * State that folds what is added into one value, like Flink's `AggregatingState`:
 * `add` runs the aggregate function's `add`, `get` its `getResult`. Only the
 * accumulator is stored.
 */
export interface AggregatingState<IN, OUT> {
  /** The result for the current key, or `undefined` when nothing was added. */
  get(): OUT | undefined;
  /** Folds `value` into the current key's accumulator. */
  add(value: IN): void;
  /** Removes the accumulator. */
  clear(): void;
}

/** State that reduces what is added into one value of the same type, like Flink's `ReducingState`. */
export type ReducingState<T> = AggregatingState<T, T>;

/** Declares a {@link ValueState}. */
export function valueState<T>(options: StateOptions = {}): StateDescriptor<ValueState<T>> {
  return { kind: "value", ...options };
}
/** Declares a {@link ListState}. With a TTL, each element expires on its own. */
export function listState<T>(options: StateOptions = {}): StateDescriptor<ListState<T>> {
  return { kind: "list", ...options };
}
/** Declares a {@link MapState}. With a TTL, each entry expires on its own. */
export function mapState<V>(options: MapStateOptions = {}): StateDescriptor<MapState<V>> {
  return { kind: "map", ...options };
}

/**
 * Declares a {@link ReducingState}: `add(v)` stores `reduce(current, v)`.
 *
 * @example
 * ```ts
 * state: { max: reducingState<number>((a, b) => Math.max(a, b)) }
 * // in processElement: ctx.state.max.add(e.price); ctx.state.max.get();
 * ```
 */
export function reducingState<T>(
  reduce: (a: T, b: T) => T,
  options: StateOptions = {},
): StateDescriptor<ReducingState<T>> {
  const fold: AggregateFunction<T, T | undefined, T | undefined> = {
    createAccumulator: () => undefined,
    add: (v, acc) => (acc === undefined ? v : reduce(acc, v)),
    getResult: (acc) => acc,
  };
  return { kind: "reducing", fold: fold as AggregateFunction<unknown, unknown, unknown>, ...options };
}

/** Declares an {@link AggregatingState} that folds with `agg` (the same interface windows aggregate with). */
export function aggregatingState<IN, ACC, OUT>(
  agg: AggregateFunction<IN, ACC, OUT>,
  options: StateOptions = {},
): StateDescriptor<AggregatingState<IN, OUT>> {
  return { kind: "aggregating", fold: agg as AggregateFunction<unknown, unknown, unknown>, ...options };
}

/** The partition-state key of operator list state `name` of operator `uid`. */
export function operatorListKey(uid: string, name: string): string {
  return `list:${uid}/${name}`;
}

/** A record of state descriptors, keyed by state name. */
export type StateSpec = Record<string, StateDescriptor<unknown>>;

/** The state handles a {@link StateSpec} declares. */
export type StateHandles<S extends StateSpec> = {
  [K in keyof S]: S[K] extends StateDescriptor<infer H> ? H : never;
};
