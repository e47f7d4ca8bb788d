/**
 * The window extreme join: a physical choice for one shape of inner join, as the band join
 * (join-band.ts) is for another. A stream joined with its own tumbling-window `MAX` (or `MIN`)
 * on that value, within the window's time, is the rows that hold their window's extreme:
 * Nexmark q7's "the bids at each period's highest price",
 *
 * ```sql
 * SELECT B.* FROM bid B JOIN (
 *   SELECT MAX(price) AS maxprice, window_end AS t FROM TABLE(TUMBLE(TABLE bid, …)) GROUP BY window_start, window_end
 * ) B1 ON B.price = B1.maxprice WHERE B.dateTime BETWEEN B1.t - INTERVAL '10' SECOND AND B1.t
 * ```
 *
 * As the WinMagic rewrite (Zuzarte et al., SIGMOD 2003) replaces a join of a table with an
 * aggregate of itself by one pass over the table, this runs both in one operator keyed by
 * window (extreme-join-fn.ts): per window, the running extreme and the rows at it. A row below
 * the running maximum can never equal the window's maximum, so it is dropped on arrival, where
 * the interval join keeps every row of the band until its bucket expires.
 *
 * It applies when the plan proves the two inputs read the same rows: the aggregate's input is
 * the join's other side under the same filter over the same sub-plan, its value and time
 * columns are the join key and band time of that side, and the join's band lies within the
 * window (`[window_end - size, window_end]`; a row at exactly `window_end`, the next window's
 * first instant, is also offered to the window before). The whole join condition is still
 * evaluated on each pair.
 */

import { encodeKey, type Key } from "../keys.ts";
import { type BoundExpr, rewriteInputs, showExpr } from "./expr.ts";
import { bandOf } from "./join-band.ts";
import type { AggCall, Rel, WindowSpec } from "./logical.ts";
import { calcReadsClock } from "./proctime.ts";
import { remoteCalls } from "./remote-udf.ts";

type Join = Extract<Rel, { kind: "join" }>;
type Calc = Extract<Rel, { kind: "calc" }>;
type Aggregate = Extract<Rel, { kind: "aggregate" }>;

/** A join that runs as the window extreme join: what the operator needs of the plan. */
export interface Extreme {
  readonly fn: "MAX" | "MIN";
  /** The join key over a left row: the value the window's extreme is taken of. */
  readonly value: BoundExpr;
  /** The left side's event-time column (the window table function's time attribute). */
  readonly time: number;
  readonly window: WindowSpec;
  /** True when a row at a window's end (the next window's start) may join that window too. */
  readonly edge: boolean;
  /** The aggregate's row is its window's start and end at these positions, its extreme at 2. */
  readonly startAt: number;
  /** The right side's columns, as the aggregate row's (a calc that renames or reorders only). */
  readonly right: readonly number[];
}

/** The extreme join `j` runs as, if it has the shape (see the module comment). */
export function extremeOf(j: Join): Extreme | undefined {
  if (j.outer || j.temporal || j.leftKeys.length !== 1) return undefined;
  const found = extremeAggregate(j.right);
  if (!found?.agg.window || found.agg.groupKeys !== 2) return undefined;
  const { agg, right, call } = found;
  const window = found.agg.window;
  const pre = agg.input;
  if (pre.kind !== "calc" || pre.filter || pre.input.kind !== "window-tvf") return undefined;
  const tvf = pre.input;
  if (tvf.window.fn !== "TUMBLE" || tvf.window.proctime) return undefined;
  const n = tvf.input.fields.length;
  const ref = (k: number) => {
    const p = pre.projects[k];
    return p?.kind === "input" ? p.index : undefined;
  };
  const arg = call.arg === undefined ? undefined : ref(call.arg);
  if (ref(window.start) !== n || ref(window.end) !== n + 1 || arg === undefined || arg >= n) return undefined;
  const left = base(j.left);
  const fed = base(tvf.input);
  if (!left || !fed || shape(left.input) !== shape(fed.input) || shape(left.filter) !== shape(fed.filter))
    return undefined;
  const key = j.leftKeys[0] as BoundExpr;
  const rightKey = j.rightKeys[0];
  if (rightKey?.kind !== "input" || right[rightKey.index] !== 2) return undefined;
  if (shape(over(key, left.projects)) !== shape(fed.projects[arg])) return undefined;
  const band = bandOf(j);
  if (band?.stored !== "left") return undefined;
  if (shape(left.projects[band.time]) !== shape(fed.projects[tvf.time])) return undefined;
  // The band relative to window_end: `end + lo <= t <= end + hi` must lie within [end - size, end].
  const boundary = right[band.copiedTime];
  const size = tvf.window.sizeMs;
  const shift = boundary === window.end ? 0 : boundary === window.start ? -size : undefined;
  if (shift === undefined || band.lo + shift < -size || band.hi + shift > 0) return undefined;
  return {
    fn: call.fn,
    value: key,
    time: band.time,
    window: tvf.window,
    edge: band.hi + shift === 0,
    startAt: window.start,
    right,
  };
}

/**
 * The aggregate below a join's right side `rel` when it has one call, a MAX or MIN of a column
 * (no DISTINCT, no FILTER), under at most a calc that renames or reorders its columns: the
 * aggregate, the call, and the right side's columns as the aggregate row's.
 */
export function extremeAggregate(
  rel: Rel,
): { agg: Aggregate; call: AggCall & { fn: "MAX" | "MIN" }; right: readonly number[] } | undefined {
  const r = rel.kind === "calc" ? rel : undefined;
  const agg = r ? r.input : rel;
  if (agg.kind !== "aggregate" || agg.session || agg.aggs.length !== 1) return undefined;
  if (r && (r.filter || !r.projects.every((p) => p.kind === "input"))) return undefined;
  const call = agg.aggs[0];
  if (!call || (call.fn !== "MAX" && call.fn !== "MIN") || call.distinct || call.filter !== undefined) return undefined;
  const right = r ? r.projects.map((p) => (p as { index: number }).index) : agg.fields.map((_f, i) => i);
  return { agg, call: call as AggCall & { fn: "MAX" | "MIN" }, right };
}

/** True when two values of a join key are equal, as the join compares them (an object by its encoding). */
export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && a !== null && b !== null && encodeKey(a as Key) === encodeKey(b as Key));
}

/** A side as a filter and projections over a sub-plan (none for a side that is no calc); undefined when it reads a clock or calls a remote function. */
export function base(rel: Rel): { input: Rel; filter?: BoundExpr; projects: readonly BoundExpr[] } | undefined {
  if (rel.kind !== "calc")
    return { input: rel, projects: rel.fields.map((f, index): BoundExpr => ({ kind: "input", index, type: f.type })) };
  const c: Calc = rel;
  const exprs = c.filter ? [...c.projects, c.filter] : c.projects;
  if (calcReadsClock(c) || remoteCalls(exprs).length > 0) return undefined;
  return { input: c.input, projects: c.projects, ...(c.filter ? { filter: c.filter } : {}) };
}

/** `e` over the columns `projects` computes, as an expression over their input. */
export const over = (e: BoundExpr, projects: readonly BoundExpr[]): BoundExpr =>
  rewriteInputs(e, (i) => projects[i] as BoundExpr);

/** A plan's or expression's structure as text: equal for equal ones (a function by its name). */
export function shape(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, x: unknown) =>
    typeof x === "bigint" ? `${x}n` : typeof x === "function" ? `fn:${x.name}` : x,
  );
}

/** The EXPLAIN line of extreme join `j` (`keys` and `where` as the other joins show them). */
export function describeExtreme(j: Join, extreme: Extreme, keys: string, where: string): string {
  const names = j.left.fields.map((f) => f.name);
  const { fn, window } = extreme;
  const of = `${fn}(${showExpr(extreme.value, names)}) per TUMBLE(${names[extreme.time]}, ${window.sizeMs} ms)`;
  return `WindowExtremeJoin(type=[InnerJoin], keys=[${keys}]${where}, extreme=[${of}]${extreme.edge ? ", edges=[rows at a window's end join it too]" : ""}) → keyBy window + keyed process with event-time timers, computing its right input (the window aggregate) itself`;
}
