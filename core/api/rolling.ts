/**
 * Rolling aggregations of a keyed stream (reduce, sum, min, max): one keyed
 * process function that folds each record into a value state and emits the result.
 */

import type { NodeOp } from "../graph/graph.ts";
import type { Key } from "../keys.ts";
import type { KeyedProcessFunction } from "./functions.ts";
import type { StateSpec } from "./state.ts";
import { valueState } from "./state.ts";

/** The keys of `T` whose values are numbers. */
export type NumericKeys<T> = { [P in keyof T]: T[P] extends number ? P : never }[keyof T];

/** Folds a field (or, with no field, a number) with `op`; the first record of a key is kept as is. */
export function fieldFold<T>(
  field: PropertyKey | undefined,
  op: (a: number, b: number) => number,
): (acc: T | undefined, v: T) => T {
  if (field === undefined) {
    return (acc, v) => {
      if (typeof v !== "number")
        throw new TypeError(`expected a number, got ${typeof v}: use sum/min/max(field) on objects`);
      return (acc === undefined ? v : op(acc as number, v)) as T;
    };
  }
  return (acc, v) => {
    const x = (v as Record<PropertyKey, unknown>)[field];
    if (typeof x !== "number") throw new TypeError(`field '${String(field)}' is ${typeof x}, not a number`);
    if (acc === undefined) return v;
    return { ...acc, [field]: op((acc as Record<PropertyKey, number>)[field] as number, x) };
  };
}

export function rolling<T>(fold: (acc: T | undefined, value: T) => T): NodeOp {
  const fn: KeyedProcessFunction<T, Key, { acc: ReturnType<typeof valueState<T>> }, T> = {
    state: { acc: valueState<T>() },
    processElement(value, ctx) {
      const next = fold(ctx.state.acc.value(), value);
      ctx.state.acc.update(next);
      ctx.emit(next);
    },
  };
  return { kind: "process", fn: fn as unknown as KeyedProcessFunction<unknown, Key, StateSpec, unknown> };
}
