/**
 * TopN and deduplication (`ROW_NUMBER() OVER (PARTITION BY … ORDER BY …)` filtered by
 * `rn <= N`), as Flink's Rank and Deduplicate operators: per partition key, the first N rows in
 * keyed state (exactly once like every keyed riffle operator), emitting the changes of the top N
 * as rows arrive or are retracted.
 *
 * One deliberate difference from Flink: rows equal on the ORDER BY keys are ordered by their
 * whole row (ascending, column by column), not by arrival. Arrival order between parallel
 * sources is not a property of the input, so Flink's result on ties can differ run to run;
 * riffle's result is a function of the input rows alone.
 */
import type { DataStream } from "../api/datastream.ts";
import type { KeyedContext, KeyedProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import type { Row } from "./expr.ts";
import { isDeduplicate, type Rel, type SortKey } from "./logical.ts";

/** An order of rows: negative when `a` comes first. */
export type RowOrder = (a: Row, b: Row) => number;

/** SQL's order of two values: NULL last, numbers and strings as such, anything else by its JSON. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === typeof b && (typeof a === "number" || typeof a === "string" || typeof a === "boolean"))
    return a < b ? -1 : a > b ? 1 : 0;
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The total order of a rank: its ORDER BY keys, then the whole row, ascending. */
export function rankOrder(orderBy: readonly SortKey[]): RowOrder {
  return (a, b) => {
    for (const { column, desc } of orderBy) {
      const c = compareValues(a[column], b[column]);
      if (c !== 0) return desc ? -c : c;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return 0;
  };
}

type TopState = { rows: ReturnType<typeof valueState<Row[]>> };

/** Where `row` goes in `sorted`: after every row that does not come after it. */
function insertionPoint(sorted: readonly Row[], row: Row, order: RowOrder): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (order(sorted[mid] as Row, row) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether two rows hold equal values (primitives by value, ROW values by their JSON). */
function same(a: Row | undefined, b: Row | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && (typeof x !== "object" || JSON.stringify(x) !== JSON.stringify(y))) return false;
  }
  return true;
}

/**
 * The changes from top `before` to top `after`. With row numbers, per rank: -U/+U when its row
 * changed, +I when it is newly filled, -D when it emptied (as Flink's rank with the row number
 * in its output). Without: -D for each row that left, +I for each that entered.
 */
function emitDiff(before: readonly Row[], after: readonly Row[], rowNumber: boolean, emit: (c: Change) => void) {
  if (rowNumber) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const o = before[i];
      const n = after[i];
      if (same(o, n)) continue;
      if (o && n) {
        emit({ kind: "-U", row: [...o, i + 1] });
        emit({ kind: "+U", row: [...n, i + 1] });
      } else if (n) emit({ kind: "+I", row: [...n, i + 1] });
      else if (o) emit({ kind: "-D", row: [...o, i + 1] });
    }
    return;
  }
  // Rows compared by value (`same`), not by their JSON: no string per row and diff.
  const entered = [...after];
  for (const o of before) {
    const k = entered.findIndex((n) => same(n, o));
    if (k >= 0) entered.splice(k, 1);
    else emit({ kind: "-D", row: o });
  }
  for (const n of entered) emit({ kind: "+I", row: n });
}

/**
 * The keyed process function of a TopN: keeps the partition's rows sorted by `order` (the first
 * `limit` of them over an insert-only input, where a row once out of the top N never returns;
 * all of them over a retracting input) and emits how the top `limit` changed: per change, or,
 * with `miniBatch`, once per key for a slice's changes (`processBundle`).
 */
export function topN(
  limit: number,
  order: RowOrder,
  rowNumber: boolean,
  retracting: boolean,
  miniBatch = false,
): KeyedProcessFunction<Change, Key, TopState, Change> {
  return topNOf<Change>(limit, order, rowNumber, retracting, miniBatch, {
    row: (c) => c.row,
    adds: (c) => c.kind === "+I" || c.kind === "+U",
  });
}

/**
 * {@link topN} over an insert-only input taken as rows (Flink's AppendFastStrategy): no change
 * object per row on the way in.
 */
export function appendTopN(
  limit: number,
  order: RowOrder,
  rowNumber: boolean,
  miniBatch = false,
): KeyedProcessFunction<Row, Key, TopState, Change> {
  return topNOf<Row>(limit, order, rowNumber, false, miniBatch, { row: (r) => r, adds: () => true });
}

/** A TopN over inputs of type `I`: each an added or a retracted row. */
function topNOf<I>(
  limit: number,
  order: RowOrder,
  rowNumber: boolean,
  retracting: boolean,
  miniBatch: boolean,
  input: { readonly row: (i: I) => Row; readonly adds: (i: I) => boolean },
): KeyedProcessFunction<I, Key, TopState, Change> {
  /** `rows` after `item` (`rows` itself when the item leaves them as they are). */
  const step = (rows: Row[], item: I): Row[] => {
    const row = input.row(item);
    if (input.adds(item)) {
      const at = insertionPoint(rows, row, order);
      if (!retracting && at >= limit) return rows;
      const after = [...rows.slice(0, at), row, ...rows.slice(at)];
      if (!retracting) after.length = Math.min(after.length, limit);
      return after;
    }
    const k = JSON.stringify(row);
    const at = rows.findIndex((r) => JSON.stringify(r) === k);
    return at < 0 ? rows : [...rows.slice(0, at), ...rows.slice(at + 1)];
  };
  const apply = (items: readonly I[], ctx: KeyedContext<Key, TopState, Change>) => {
    const before = ctx.state.rows.value() ?? [];
    let after = before;
    for (const i of items) after = step(after, i);
    if (after === before) return;
    store(ctx, after);
    emitDiff(before.slice(0, limit), after.slice(0, limit), rowNumber, (c) => ctx.emit(c));
  };
  return {
    state: { rows: valueState<Row[]>() },
    processElement: (item, ctx) => apply([item], ctx),
    ...(miniBatch ? { processBundle: apply } : {}),
  };
}

function store(ctx: KeyedContext<Key, TopState, Change>, rows: Row[]) {
  if (rows.length === 0) ctx.state.rows.clear();
  else ctx.state.rows.update(rows);
}

type DedupState = { row: ReturnType<typeof valueState<Row>> };

/**
 * The keyed process function of a deduplication over an insert-only input: the key's first row
 * by `order` (the earliest time for keep-first, the latest for keep-last), +I when the key is
 * new and -U/+U when a row that comes first replaces it: per row, or, with `miniBatch`, once per
 * key for a slice's rows.
 */
export function deduplicate(order: RowOrder, miniBatch = false): KeyedProcessFunction<Row, Key, DedupState, Change> {
  const apply = (rows: readonly Row[], ctx: KeyedContext<Key, DedupState, Change>) => {
    const kept = ctx.state.row.value();
    let first = kept;
    for (const row of rows) if (first === undefined || order(row, first) < 0) first = row;
    if (first === kept || first === undefined) return;
    ctx.state.row.update(first);
    if (kept === undefined) ctx.emit({ kind: "+I", row: first });
    else {
      ctx.emit({ kind: "-U", row: kept });
      ctx.emit({ kind: "+U", row: first });
    }
  };
  return {
    state: { row: valueState<Row>() },
    processElement: (row, ctx) => apply([row], ctx),
    ...(miniBatch ? { processBundle: apply } : {}),
  };
}

/**
 * The keyed process function of a window TopN (the key holds the window's end, at column
 * `end`): the window's first `limit` rows, emitted once, insert-only, when the watermark passes
 * the window's end; then its state is dropped. Rows of a window already emitted are late, and dropped.
 */
export function windowTopN(
  limit: number,
  order: RowOrder,
  rowNumber: boolean,
  end: number,
  endKey?: number,
): KeyedProcessFunction<Row, Key, TopState, Row> {
  return {
    state: { rows: valueState<Row[]>() },
    // A key holding the window's end (at `endKey`) holds its rows until then: the timer is implied, not stored.
    ...(endKey === undefined
      ? {}
      : { impliedTimers: { state: "rows", at: (key: Key) => ((key as Row)[endKey] as number) - 1 } }),
    processElement(row, ctx) {
      const fireAt = (row[end] as number) - 1;
      if (fireAt <= ctx.timers.currentWatermark()) return;
      const before = ctx.state.rows.value() ?? [];
      if (before.length === 0) ctx.timers.registerEventTimeTimer(fireAt);
      const at = insertionPoint(before, row, order);
      if (at >= limit) return;
      ctx.state.rows.update([...before.slice(0, at), row, ...before.slice(at, limit - 1)]);
    },
    onTimer(_time, ctx) {
      const rows = ctx.state.rows.value() ?? [];
      rows.forEach((r, i) => {
        ctx.emit(rowNumber ? [...r, i + 1] : r);
      });
      ctx.state.rows.clear();
    },
  };
}

type Rank = Extract<Rel, { kind: "rank" }>;

/** The position of column `end` in a key of `keys` columns, if it is one of them. */
function endKeyOf(keys: readonly number[], end: number): number | undefined {
  const at = keys.indexOf(end);
  return at < 0 ? undefined : at;
}

/**
 * Builds a rank over `input` (rows when `retracting` is false, changes otherwise): a stream of
 * changes, or of rows for a window TopN. `miniBatch`: TopN and deduplication take an input
 * envelope's rows per key at once (see `SQL_OPTIONS` in `session.ts`).
 */
export function translateRank(
  rel: Rank,
  input: DataStream<unknown>,
  retracting: boolean,
  nextUid: () => string,
  miniBatch = false,
): DataStream<unknown> {
  // A rank whose rows lost columns (rank-prune.ts) stores narrower rows: its own uid, so a savepoint of the wider ones is refused.
  const uid = () => `${nextUid()}${rel.narrowed ? "-n" : ""}`;
  const keys = rel.partitionKeys;
  const keyOfRow = (r: Row): Key => (keys.length === 0 ? 0 : (keys.map((k) => r[k]) as Key));
  const order = rankOrder(rel.orderBy);
  if (rel.windowEnd !== undefined)
    return (input as DataStream<Row>)
      .keyBy(keyOfRow)
      .process(windowTopN(rel.limit, order, rel.rowNumber, rel.windowEnd, endKeyOf(keys, rel.windowEnd)))
      .uid(uid()) as DataStream<unknown>;
  if (isDeduplicate(rel) && !retracting)
    return (input as DataStream<Row>)
      .keyBy(keyOfRow)
      .process(deduplicate(order, miniBatch))
      .uid(uid()) as DataStream<unknown>;
  if (!retracting) {
    // The uid this plan gave a map of rows to changes before the TopN took rows: later operators keep theirs (and their savepoints).
    nextUid();
    return (input as DataStream<Row>)
      .keyBy(keyOfRow)
      .process(appendTopN(rel.limit, order, rel.rowNumber, miniBatch))
      .uid(uid()) as DataStream<unknown>;
  }
  return (input as DataStream<Change>)
    .keyBy((c) => keyOfRow(c.row))
    .process(topN(rel.limit, order, rel.rowNumber, retracting, miniBatch))
    .uid(uid()) as DataStream<unknown>;
}

/** The rank's physical operator for EXPLAIN, with Flink's names; `runs`: what runs a plain TopN. */
export function describeRank(rel: Rank, retracting: boolean, runs = "keyBy + keyed process"): string {
  const names = rel.input.fields.map((f) => f.name);
  const partition = rel.partitionKeys.map((k) => names[k]).join(", ");
  if (isDeduplicate(rel) && !retracting) {
    const key = rel.orderBy[0] as SortKey;
    return `Deduplicate(keep=[${key.desc ? "LastRow" : "FirstRow"}], key=[${partition}], order=[${names[key.column]}]) → keyBy + keyed process`;
  }
  const orderBy = rel.orderBy.map((k) => `${names[k.column]} ${k.desc ? "DESC" : "ASC"}`).join(", ");
  if (rel.windowEnd !== undefined)
    return `WindowRank(window=[${names[rel.windowEnd]}], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=${rel.limit}], partitionBy=[${partition}], orderBy=[${orderBy}], select=[${rel.fields.map((f) => f.name).join(", ")}]) → keyBy + keyed process with event-time timers`;
  return `Rank(strategy=[${retracting ? "RetractStrategy" : "AppendFastStrategy"}], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=${rel.limit}], partitionBy=[${partition}], orderBy=[${orderBy}], select=[${rel.fields.map((f) => f.name).join(", ")}]) → ${runs}`;
}
