/**
 * The keyed process function of the window extreme join (extreme-join.ts), keyed by window
 * start. Per window it keeps the running extreme, the window's rows at it, and the rows at its
 * end (the next window's first instant) not below it. When the watermark passes the window's
 * end the window's aggregate row is made, as the window aggregate would emit it, and each kept
 * row at the extreme is joined with it under the join's whole condition. The extreme stays
 * until the watermark reaches the window's end, for rows at the end still to come; then the
 * state is dropped. A row of a window already emitted is late for the aggregate, as the window
 * aggregate drops it; it still joins if it holds the extreme.
 */
import type { KeyedContext, KeyedProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import { generate } from "./codegen.ts";
import type { Row } from "./expr.ts";
import { type Extreme, sameValue } from "./extreme-join.ts";
import type { JoinCode } from "./join-code.ts";
import { windowsOf } from "./windows.ts";

/** A row at a window's end, offered to that window (keyed by its start). */
export interface Edge {
  readonly edge: Row;
}

/** One window's state. */
interface Top {
  /** The running extreme of the window's own rows (absent: none yet). */
  readonly best?: unknown;
  /** The window's rows at `best`, in arrival order. */
  readonly rows: readonly Row[];
  /** Rows at the window's end not below `best`, in arrival order. */
  readonly edges: readonly Row[];
  /** The window was emitted: only `best` still matters, for rows at its end. */
  readonly fired?: true;
}

type State = { top: ReturnType<typeof valueState<Top>> };
type Ctx<T> = KeyedContext<number, State, T>;

const NONE: readonly Row[] = [];

/** The window start of a row's time (NaN for a row without one). */
export function windowStartOf(extreme: Extreme): (row: Row) => number {
  const { window, time } = extreme;
  return (row) => {
    const t = row[time];
    return typeof t === "number" ? (windowsOf(window, t)[0] as [number, number])[0] : Number.NaN;
  };
}

/** The records of a left row: itself, and when it is at a window's start, an {@link Edge} for the window before. */
export function withEdges(extreme: Extreme): (row: Row) => (Row | Edge)[] {
  const startOf = windowStartOf(extreme);
  return (row) => (startOf(row) === row[extreme.time] ? [row, { edge: row }] : [row]);
}

/** The key of a record: its window's start (an edge's: the window before). */
export function extremeKey(extreme: Extreme): (r: Row | Edge) => number {
  const startOf = windowStartOf(extreme);
  const size = extreme.window.sizeMs;
  return (r) => ("edge" in r ? startOf(r.edge) - size : startOf(r as Row));
}

/** The window extreme join of `extreme` running `code` (its residual: the join's whole condition beyond the key). */
export function extremeJoin<T>(
  extreme: Extreme,
  code: JoinCode<T>,
): KeyedProcessFunction<Row | Edge, number, State, T> {
  const extremeValue = generate(extreme.value);
  const max = extreme.fn === "MAX";
  const size = extreme.window.sizeMs;
  const below = (v: unknown, best: unknown) =>
    max ? (v as number) < (best as number) : (v as number) > (best as number);
  const { residual, concat } = code;
  /** The right side's row of window `start` whose extreme is `best`. */
  const rightRow = (start: number, best: unknown): Row => {
    const agg: unknown[] = [start, start + size, best];
    if (extreme.startAt === 1) [agg[0], agg[1]] = [agg[1], agg[0]];
    return extreme.right.map((i) => agg[i]);
  };
  const emit = (row: Row, right: Row, ctx: Ctx<T>) => {
    if (!residual || residual(row, right) === true) ctx.emit(concat(row, right));
  };
  /** `top` after record `r` of window `start` (or `top` itself when nothing changes). */
  const absorb = (top: Top | undefined, r: Row | Edge, ctx: Ctx<T>): Top | undefined => {
    const edge = "edge" in r;
    const row = edge ? r.edge : (r as Row);
    const v = extremeValue(row);
    if (v === null || v === undefined) return top; // joins nothing, and no extreme counts it
    if (top?.fired) {
      if (sameValue(v, top.best)) emit(row, rightRow(ctx.key, top.best), ctx);
      return top;
    }
    // A row of the window after it was due is late for its extreme (the window aggregate drops it);
    // a row at its end may still come while the window waits to be emitted, if the window has rows.
    if ((!edge || !top) && ctx.key + size - 1 <= ctx.timers.currentWatermark()) return top;
    const t = top ?? start(ctx);
    if (edge) return t.best === undefined || !below(v, t.best) ? { ...t, edges: [...t.edges, row] } : t;
    if (t.best === undefined || below(t.best, v)) {
      return { best: v, rows: [row], edges: t.edges.filter((e) => !below(extremeValue(e), v)) };
    }
    return sameValue(v, t.best) ? { ...t, rows: [...t.rows, row] } : t;
  };
  /** A window's first state, and its timers: emit at its end, drop once no row at its end can come. */
  const start = (ctx: Ctx<T>): Top => {
    const end = ctx.key + size;
    ctx.timers.registerEventTimeTimer(end - 1);
    if (extreme.edge) ctx.timers.registerEventTimeTimer(end);
    return { rows: NONE, edges: NONE };
  };
  const bundle = (values: readonly (Row | Edge)[], ctx: Ctx<T>) => {
    const before = ctx.state.top.value();
    let top = before;
    for (const r of values) top = absorb(top, r, ctx);
    if (top !== before && top !== undefined) ctx.state.top.update(top);
  };
  return {
    state: { top: valueState<Top>() },
    processElement: (value, ctx) => bundle([value], ctx),
    processBundle: bundle,
    onTimer(at, ctx) {
      const top = ctx.state.top.value();
      if (!top) return;
      if (top.fired || !extreme.edge || at >= ctx.key + size) {
        if (!top.fired) fire(top, ctx);
        ctx.state.top.clear();
        return;
      }
      fire(top, ctx);
      ctx.state.top.update({ best: top.best, rows: NONE, edges: NONE, fired: true });
    },
  };
  function fire(top: Top, ctx: Ctx<T>) {
    if (top.best === undefined) return; // no row of its own: the window has no aggregate row
    const right = rightRow(ctx.key, top.best);
    for (const row of top.rows) emit(row, right, ctx);
    for (const row of top.edges) if (sameValue(extremeValue(row), top.best)) emit(row, right, ctx);
  }
}
