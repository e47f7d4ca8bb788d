/**
 * Keyed state: declared by name on a keyed operator, read and written through
 * `ctx.state`. Every value is scoped to the current key. Values must be
 * JSON (or, with the `rich` {@link StateCodec}, JSON plus Date, Map, Set and
 * bigint); a write of anything else fails the job at once. Treat values as
 * immutable once written: write a new value with `update`/`put`/`add` rather than
 * mutating one you read.
 */

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

/** Options of a state descriptor. */
export interface StateOptions {
  /** How this state's values are stored (default: the job's, see `env.setStateCodec`). */
  readonly codec?: StateCodec;
}

/** Declares one piece of keyed state. Create with {@link valueState}, {@link listState} or {@link mapState}. */
export type StateDescriptor<S> = {
  readonly kind: "value" | "list" | "map";
  readonly codec?: StateCodec;
  readonly __type?: S;
};

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
  /** Entries of the map, in insertion order. */
  entries(): [string, V][];
  /** Number of entries. */
  size(): number;
  clear(): void;
}

/** Declares a {@link ValueState}. */
export function valueState<T>(options: StateOptions = {}): StateDescriptor<ValueState<T>> {
  return options.codec ? { kind: "value", codec: options.codec } : { kind: "value" };
}
/** Declares a {@link ListState}. */
export function listState<T>(options: StateOptions = {}): StateDescriptor<ListState<T>> {
  return options.codec ? { kind: "list", codec: options.codec } : { kind: "list" };
}
/** Declares a {@link MapState}. */
export function mapState<V>(options: StateOptions = {}): StateDescriptor<MapState<V>> {
  return options.codec ? { kind: "map", codec: options.codec } : { kind: "map" };
}

/** A record of state descriptors, keyed by state name. */
export type StateSpec = Record<string, StateDescriptor<unknown>>;

/** The state handles a {@link StateSpec} declares. */
export type StateHandles<S extends StateSpec> = {
  [K in keyof S]: S[K] extends StateDescriptor<infer H> ? H : never;
};
