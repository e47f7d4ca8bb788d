/**
 * The group aggregate: per grouping key, accumulators in keyed state (exactly once like every
 * keyed riffle operator), fed by a changelog (+I/+U add, -U/-D retract) and emitting one: +I for
 * a new group, -U/+U when its result changes, -D when its last row is retracted.
 */
import type { KeyedContext, KeyedProcessFunction } from "../api/functions.ts";
import { type MapState, mapState, valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { addDistinct, distinctViews } from "./distinct-view.ts";
import type { Row } from "./expr.ts";
import type { AggCall, RowKind } from "./logical.ts";
import { isInteger } from "./types.ts";

/** One change of a changelog stream. */
export interface Change {
  readonly kind: RowKind;
  readonly row: Row;
}

/** Per group: the number of rows, and one accumulator per aggregate call (see `accumulators`). */
export interface Acc {
  n: number;
  a: unknown[];
}

/** A value's count per value key (its JSON). */
export type Counts = Record<string, number>;

/**
 * Where the value counts of COUNT(DISTINCT …) (and of MIN/MAX over a retracting input) live: a
 * keyed map state, one entry per aggregate and value, so that a row costs one entry's read and
 * write however many distinct values a group holds. Without one, counts are held in the
 * accumulator itself (copied on each change), which only session windows, which merge, need.
 */
export type CountStore = Pick<MapState<number>, "get" | "put" | "remove" | "entries">;

/** MIN and MAX over an input that retracts keep every value's count; otherwise just the best value. */
const keepsCounts = (agg: AggCall, retracting: boolean) =>
  agg.distinct || ((agg.fn === "MIN" || agg.fn === "MAX") && retracting);

function initial(agg: AggCall, retracting: boolean, store: boolean): unknown {
  if (keepsCounts(agg, retracting)) return store ? 0 : {};
  if (agg.fn === "MIN" || agg.fn === "MAX") return null;
  return agg.fn === "COUNT" ? 0 : [0, 0];
}

function bump(counts: Counts, value: unknown, by: number) {
  const k = JSON.stringify(value);
  const n = (counts[k] ?? 0) + by;
  if (n === 0) delete counts[k];
  else counts[k] = n;
}

/** The store's key of aggregate `i`'s value `v`. */
const countKey = (i: number, v: unknown) => `${i}:${JSON.stringify(v)}`;

/** Counts `v` of aggregate `i` in the store; the accumulator is the number of distinct values. */
function storeCount(store: CountStore, i: number, acc: number, v: unknown, sign: 1 | -1): number {
  const k = countKey(i, v);
  const before = store.get(k) ?? 0;
  const n = before + sign;
  if (n === 0) store.remove(k);
  else store.put(k, n);
  return acc + (before === 0 && n > 0 ? 1 : before > 0 && n === 0 ? -1 : 0);
}

/**
 * How an aggregate call folds a row's value `v` (not NULL, its FILTER passed) into its
 * accumulator: the new accumulator. A SUM or AVG accumulator (a `[sum, count]` pair) is changed in
 * place, so it must be the caller's own ({@link accumulators}' `own`); every other accumulator is
 * replaced. `counts`: the group's store of value counts, if any.
 */
type Adder = (acc: unknown, v: unknown, sign: 1 | -1, counts: CountStore | undefined) => unknown;

/** The {@link Adder} of call `i`, `agg`: chosen once per call, not per row. */
function adderOf(agg: AggCall, retracting: boolean, i: number): Adder {
  if (keepsCounts(agg, retracting))
    return (acc, v, sign, counts) => {
      if (counts) return storeCount(counts, i, acc as number, v, sign);
      const copy = { ...(acc as Counts) };
      bump(copy, v, sign);
      return copy;
    };
  if (agg.fn === "MIN") return (best, v) => (best === null || (v as number) < (best as number) ? v : best);
  if (agg.fn === "MAX") return (best, v) => (best === null || (v as number) > (best as number) ? v : best);
  if (agg.fn === "COUNT") return (acc, _v, sign) => (acc as number) + sign;
  return (acc, v, sign) => {
    const pair = acc as [number, number];
    pair[0] += sign * (v as number);
    pair[1] += sign;
    return pair;
  };
}

/** An aggregate call that keeps its own accumulator: where, its FILTER and argument columns, and its {@link Adder}. */
interface Folding {
  readonly i: number;
  readonly filter: number | undefined;
  readonly arg: number | undefined;
  readonly add: Adder;
}

/** How an aggregate call's result is read from its accumulator (and the group's store, if any). */
type Result = (acc: unknown, counts: CountStore | undefined) => unknown;

/** The {@link Result} of call `i`, `agg`: chosen once per call, not per output row. */
function resultOf(agg: AggCall, retracting: boolean, i: number): Result {
  if (agg.distinct) return (acc, counts) => (counts ? acc : Object.keys(acc as Counts).length);
  if (keepsCounts(agg, retracting))
    return (acc, counts) => {
      let best: unknown = null;
      const prefix = counts ? `${i}:` : "";
      const keys = counts
        ? counts.entries().flatMap(([k]) => (k.startsWith(prefix) ? [k.slice(prefix.length)] : []))
        : Object.keys(acc as Counts);
      for (const k of keys) {
        const v = JSON.parse(k) as number;
        if (best === null || (agg.fn === "MIN" ? v < (best as number) : v > (best as number))) best = v;
      }
      return best;
    };
  if (agg.fn === "COUNT" || agg.fn === "MIN" || agg.fn === "MAX") return (acc) => acc;
  if (agg.fn === "SUM") return (acc) => ((acc as [number, number])[1] === 0 ? null : (acc as [number, number])[0]);
  const integer = isInteger(agg.type);
  return (acc) => {
    const [sum, count] = acc as [number, number];
    if (count === 0) return null;
    return integer ? (sum - (sum % count)) / count : sum / count;
  };
}

/**
 * The accumulators of a list of aggregate calls: one implementation for group, window and session
 * aggregates. `retracting`: whether the input may retract rows; `counts`: the group's
 * {@link CountStore}, if it has one (over an insert-only input, its COUNT(DISTINCT …) calls then
 * share entries: `distinct-view.ts`). `fold` changes an accumulator in place, so it only ever
 * gets one that `empty`, `own` or `add` made: a state value is never changed once written.
 */
export function accumulators(
  groupKeys: number,
  aggs: readonly AggCall[],
  retracting: boolean,
  counts?: () => CountStore,
) {
  // Over an insert-only input with a store, COUNT(DISTINCT …) calls share one entry per value of their column.
  const views = counts && !retracting ? distinctViews(aggs) : [];
  const shared = new Set(views.flatMap((v) => v.calls));
  const unshared: Folding[] = aggs.flatMap((agg, i) =>
    shared.has(i) ? [] : [{ i, filter: agg.filter, arg: agg.arg, add: adderOf(agg, retracting, i) }],
  );
  const results = aggs.map((agg, i) => resultOf(agg, retracting, i));
  /** Adds (sign 1) or retracts (sign -1) `row` into `acc` itself (which must be a copy of its own). */
  const fold = (acc: Acc, row: Row, sign: 1 | -1): void => {
    acc.n += sign;
    const store = counts?.();
    const a = acc.a;
    for (const { i, filter, arg, add } of unshared) {
      if (filter !== undefined && row[filter] !== true) continue;
      const v = arg === undefined ? 1 : row[arg];
      if (v !== null) a[i] = add(a[i], v, sign, store);
    }
    if (views.length > 0) addDistinct(views, store as CountStore, a, row);
  };
  /** A copy of `acc` that {@link fold} may change: its array and its `[sum, count]` pairs are new. */
  const own = (acc: Acc): Acc => {
    const a = acc.a.slice();
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (Array.isArray(x)) a[i] = [x[0], x[1]];
    }
    return { n: acc.n, a };
  };
  return {
    /** A group with no rows. */
    empty: (): Acc => ({ n: 0, a: aggs.map((g) => initial(g, retracting, counts !== undefined)) }),
    /** `acc` after adding (sign 1) or retracting (sign -1) `row` (`acc` itself is left as it was). */
    add: (acc: Acc, row: Row, sign: 1 | -1): Acc => {
      const out = own(acc);
      fold(out, row, sign);
      return out;
    },
    /**
     * A copy of `acc` that {@link fold} may change: a batch of rows costs one copy, not one per
     * row (`acc`, which state or a snapshot may hold, stays as it was).
     */
    own,
    fold,
    /** The output row: the group key (from `row`), then each aggregate's result. */
    output: (row: Row, acc: Acc): Row => {
      const out = new Array<unknown>(groupKeys + results.length);
      for (let i = 0; i < groupKeys; i++) out[i] = row[i];
      const store = counts?.();
      for (let i = 0; i < results.length; i++) out[groupKeys + i] = (results[i] as Result)(acc.a[i], store);
      return out;
    },
  };
}

/**
 * The version of the layout of COUNT(DISTINCT …) values in an aggregate's map state over an
 * insert-only input: `a2`, shared views (`distinct-view.ts`) instead of one entry per call and
 * value. It ends such an aggregate's uid, so that a savepoint of the earlier layout is refused
 * naming the uid instead of being misread.
 */
export const DISTINCT_LAYOUT = "a2";

/** `uid`, with {@link DISTINCT_LAYOUT} when the aggregate keeps shared distinct views. */
export function aggregateUid(uid: string, aggs: readonly AggCall[], retracting: boolean): string {
  return !retracting && distinctViews(aggs).length > 0 ? `${uid}-${DISTINCT_LAYOUT}` : uid;
}

/** True when `a` and `b` hold the same accumulators, whatever their row counts (by identity: a `[sum, count]` copy differs). */
function sameAccumulators(a: Acc, b: Acc): boolean {
  for (let i = 0; i < a.a.length; i++) if (a.a[i] !== b.a[i]) return false;
  return true;
}

/** True when two rows hold the same values (JSON-equal). */
function sameRow(a: Row, b: Row): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && (typeof x !== "object" || JSON.stringify(x) !== JSON.stringify(y))) return false;
  }
  return true;
}

/** A group aggregate's state: the accumulators, and the COUNT(DISTINCT …) values (see {@link CountStore}). */
export type AggState = { acc: ReturnType<typeof valueState<Acc>>; counts: ReturnType<typeof mapState<number>> };

/**
 * The keyed process function of a group aggregate over `groupKeys` leading columns. Its input is
 * a changelog when `retracting`, and otherwise the rows themselves (each an insertion: no change
 * object around it). With `miniBatch` (Flink's `table.exec.mini-batch.enabled`), it takes the
 * records of one slice per key at once (`processBundle`) and emits one change per key for
 * them all, instead of a -U/+U pair per row; the changelog folds to the same result either way.
 */
export function groupAggregate(
  groupKeys: number,
  aggs: readonly AggCall[],
  retracting: boolean,
  miniBatch = false,
): KeyedProcessFunction<Change | Row, Key, AggState, Change> {
  let store: CountStore | undefined;
  const accs = accumulators(groupKeys, aggs, retracting, () => store as CountStore);
  const rowOf = retracting ? (c: Change | Row) => (c as Change).row : (c: Change | Row) => c as Row;
  const signOf = (c: Change | Row): 1 | -1 => {
    if (!retracting) return 1;
    const kind = (c as Change).kind;
    return kind === "+I" || kind === "+U" ? 1 : -1;
  };
  /** Folds `records` (all of the current key) into its accumulators and emits what changed. */
  const apply = (records: readonly (Change | Row)[], ctx: KeyedContext<Key, AggState, Change>) => {
    store = ctx.state.counts;
    const before = ctx.state.acc.value();
    const keyRow = rowOf(records[0] as Change | Row);
    let acc = before ? accs.own(before) : accs.empty();
    for (const c of records) {
      accs.fold(acc, rowOf(c), signOf(c));
      // A group whose last row is retracted starts again from nothing, as a new group.
      if (acc.n <= 0) acc = accs.empty();
    }
    // Over inserts the row count only tells that the group exists: accumulators that kept their
    // values (a MAX the rows did not beat) leave the state and the output as they were.
    if (!retracting && before && sameAccumulators(before, acc)) return;
    const old = before ? accs.output(keyRow, before) : undefined;
    if (acc.n === 0) {
      if (before) ctx.state.acc.clear();
      if (old) ctx.emit({ kind: "-D", row: old });
      return;
    }
    ctx.state.acc.update(acc);
    const row = accs.output(keyRow, acc);
    if (!old) ctx.emit({ kind: "+I", row });
    else if (!sameRow(old, row)) {
      ctx.emit({ kind: "-U", row: old });
      ctx.emit({ kind: "+U", row });
    }
  };
  return {
    state: { acc: valueState<Acc>(), counts: mapState<number>({ hashed: true }) },
    processElement: (record, ctx) => apply([record], ctx),
    ...(miniBatch ? { processBundle: apply } : {}),
  };
}
