/**
 * Merging accumulators (`aggregate.ts`) of one key: sessions that merge, and the panes that make
 * up a window (Flink's slices).
 */
import type { Acc, Counts } from "./aggregate.ts";
import type { AggCall } from "./logical.ts";

/**
 * The accumulators of `a`'s rows and `b`'s together (both of one key, over an input that does not
 * retract, and without a {@link CountStore}): for sessions that merge and window panes that make
 * up a window. Neither `a` nor `b` is changed; the result's `[sum, count]` pairs and distinct counts
 * are its own, so {@link mergeInto} may add more to it.
 */
export function mergeAccs(aggs: readonly AggCall[], a: Acc, b: Acc): Acc {
  const out = new Array<unknown>(aggs.length);
  for (let i = 0; i < aggs.length; i++) {
    const agg = aggs[i] as AggCall;
    const x = a.a[i];
    const y = b.a[i];
    if (agg.distinct) out[i] = addCounts({ ...(x as Counts) }, y as Counts);
    else if (agg.fn === "COUNT" || agg.fn === "MIN" || agg.fn === "MAX") out[i] = mergeScalar(agg, x, y);
    else
      out[i] = [
        (x as [number, number])[0] + (y as [number, number])[0],
        (x as [number, number])[1] + (y as [number, number])[1],
      ];
  }
  return { n: a.n + b.n, a: out };
}

/** Adds `b`'s rows into `into`, an accumulator that {@link mergeAccs} made (a window of many panes costs one copy). */
export function mergeInto(aggs: readonly AggCall[], into: Acc, b: Acc): void {
  into.n += b.n;
  for (let i = 0; i < aggs.length; i++) {
    const agg = aggs[i] as AggCall;
    const x = into.a[i];
    const y = b.a[i];
    if (agg.distinct) addCounts(x as Counts, y as Counts);
    else if (agg.fn === "COUNT" || agg.fn === "MIN" || agg.fn === "MAX") into.a[i] = mergeScalar(agg, x, y);
    else {
      (x as [number, number])[0] += (y as [number, number])[0];
      (x as [number, number])[1] += (y as [number, number])[1];
    }
  }
}

/** `into` with `from`'s counts added (changed in place). */
function addCounts(into: Counts, from: Counts): Counts {
  for (const k in from) if (Object.hasOwn(from, k)) into[k] = (into[k] ?? 0) + (from[k] as number);
  return into;
}

/** COUNT, MIN or MAX over the rows of two accumulators (a `null` MIN or MAX has no rows). */
function mergeScalar(agg: AggCall, x: unknown, y: unknown): unknown {
  if (agg.fn === "COUNT") return (x as number) + (y as number);
  if (x === null) return y;
  if (y === null) return x;
  const yBetter = agg.fn === "MIN" ? (y as number) < (x as number) : (y as number) > (x as number);
  return yBetter ? y : x;
}
