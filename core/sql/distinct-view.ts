/**
 * Shared distinct views (Flink's distinct view sharing): the COUNT(DISTINCT x) calls of one
 * aggregate over the same column x, each with its own FILTER or none, share one map-state entry
 * per value of x, holding a bitmask of the calls whose filter has let that value through. A row
 * then costs one entry's read (and a write only when it sets a new bit) however many such calls
 * there are, where one entry per call and value cost one each (q15's twelve aggregates read and
 * wrote eight entries per row).
 *
 * Only over an insert-only input: a bit is never cleared, so a value's count per call cannot be
 * taken back (a retracting input keeps one count per call and value, `aggregate.ts`).
 */
import type { Row } from "./expr.ts";
import type { AggCall } from "./logical.ts";

/** The store of a group's distinct values (the aggregate's map state). */
export interface DistinctStore {
  get(key: string): number | undefined;
  put(key: string, value: number): void;
}

/** The COUNT(DISTINCT …) calls over one column that share its entries. */
export interface DistinctView {
  /** The column whose values are counted. */
  readonly arg: number;
  /** The prefix of its store keys (`d<arg>.<part>:`, apart from the unshared `<call>:` keys). */
  readonly prefix: string;
  /** Per bit: the aggregate call it counts for, and that call's FILTER column (if any). */
  readonly calls: readonly number[];
  readonly filters: readonly (number | undefined)[];
}

/** Calls per view: a bitmask is a 32-bit integer, so more calls over one column take more views. */
const BITS = 30;

/**
 * The shared views of `aggs` over an insert-only input: every COUNT(DISTINCT col) call grouped
 * by `col` (a column with one such call gets a view too: one entry per value either way).
 */
export function distinctViews(aggs: readonly AggCall[]): DistinctView[] {
  const byArg = new Map<number, number[]>();
  aggs.forEach((a, i) => {
    if (a.distinct && a.fn === "COUNT" && a.arg !== undefined) byArg.set(a.arg, [...(byArg.get(a.arg) ?? []), i]);
  });
  const views: DistinctView[] = [];
  for (const [arg, calls] of byArg)
    for (let part = 0; part * BITS < calls.length; part++) {
      const mine = calls.slice(part * BITS, (part + 1) * BITS);
      views.push({
        arg,
        prefix: `d${arg}.${part}:`,
        calls: mine,
        filters: mine.map((i) => (aggs[i] as AggCall).filter),
      });
    }
  return views;
}

/** The store key of `value` in `view` (a number's JSON is its string form). */
const keyOf = (view: DistinctView, value: unknown) =>
  view.prefix + (typeof value === "number" ? `${value}` : JSON.stringify(value));

/**
 * Adds `row` to every view: each call whose filter passes and which had not yet seen the row's
 * value counts one more in `counts` (the accumulators, changed in place).
 */
export function addDistinct(views: readonly DistinctView[], store: DistinctStore, counts: unknown[], row: Row): void {
  for (const view of views) {
    const value = row[view.arg];
    if (value === null || value === undefined) continue;
    const { calls, filters } = view;
    let mask = 0;
    for (let bit = 0; bit < calls.length; bit++) {
      const f = filters[bit];
      if (f === undefined || row[f] === true) mask |= 1 << bit;
    }
    if (mask === 0) continue;
    const key = keyOf(view, value);
    const seen = store.get(key) ?? 0;
    const added = mask & ~seen;
    if (added === 0) continue;
    store.put(key, seen | mask);
    for (let bit = 0; bit < calls.length; bit++)
      if (added & (1 << bit)) {
        const i = calls[bit] as number;
        counts[i] = (counts[i] as number) + 1;
      }
  }
}
