/**
 * A window aggregate fused with its window table function: instead of a `flatMap` that copies each
 * row once per window (five times for a HOP of 10 s sliding by 2 s) and a keyed operator per
 * (key, window), rows are keyed by the grouping key without the window, and one value state per
 * key holds the accumulators of its open panes (Flink's slices, `window-panes.ts`): a row is
 * folded into its one pane, and a window, when the watermark passes its end, is emitted once with
 * the merged accumulators of its panes, as the unfused aggregate emits it. Used when nothing but
 * the window's `window_start`/`window_end` keys reads the window columns and no aggregate keeps
 * value counts (DISTINCT); otherwise the plan stays unfused. Over processing time (a `PROCTIME()`
 * column), the runtime's clock stands for the watermark and windows fire on processing-time
 * timers, as in the unfused aggregate.
 */
import type { DataStream } from "../api/datastream.ts";
import type { KeyedContext, KeyedProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { type Acc, accumulators } from "./aggregate.ts";
import { generate, generateRow } from "./codegen.ts";
import { type BoundExpr, inputsOf, type Row } from "./expr.ts";
import type { Field, Rel } from "./logical.ts";
import { mergeAccs, mergeInto } from "./merge-accs.ts";
import { type ReuseContext, rowsOf } from "./reuse.ts";
import { panesOf } from "./window-panes.ts";

type Aggregate = Extract<Rel, { kind: "aggregate" }>;
/** A key's open panes, in the order they opened: start and accumulators. */
type Pane = readonly [start: number, acc: Acc];
/**
 * A key's open panes, and `f`: over event time its windows ending at or before `f` are done
 * (fired, or past the watermark when a pane opened); over processing time the clock's timers
 * fire after a slice's records, so a window up to `f` may still have its timer to come.
 */
interface Open {
  readonly f: number;
  readonly p: readonly Pane[];
}
type State = { panes: ReturnType<typeof valueState<Open>> };

/**
 * The version of the fused operator's state layout, in its uid: panes (`w2`) replaced windows,
 * and the windows done beside them (`w3`) let the state imply its timer; a savepoint of an
 * earlier layout is refused naming the uid instead of being misread.
 */
export const WINDOW_LAYOUT = "w3";

/** A time before every window: what `f` is while no watermark has come (a finite number, as JSON keeps it). */
const BEFORE_ALL = -8.64e15;

/**
 * The parts of window aggregate `rel` when it runs fused with its table function (see the module
 * comment): the calc and table function below it, and its window columns; undefined otherwise.
 */
export function fusableWindow(rel: Aggregate) {
  const pre = rel.input;
  if (!rel.window || pre.kind !== "calc" || pre.input.kind !== "window-tvf") return undefined;
  const tvf = pre.input;
  if (rel.aggs.some((a) => a.distinct)) return undefined;
  const n = tvf.input.fields.length;
  const { start, end } = rel.window;
  const readsWindow = (e: BoundExpr) => [...inputsOf(e)].some((i) => i >= n);
  const others = pre.projects.filter((_, i) => i !== start && i !== end);
  if (others.some(readsWindow) || (pre.filter && readsWindow(pre.filter))) return undefined;
  return { pre, tvf, start, end };
}

/** The fused window aggregate of `rel` over `input` (the window TVF's input), or undefined. */
export function fusedWindowAggregate(
  rel: Aggregate,
  ctx: ReuseContext,
  input: (r: Rel) => DataStream<unknown>,
): DataStream<unknown> | undefined {
  const parts = fusableWindow(rel);
  if (!parts) return undefined;
  const { uid } = ctx;
  const { pre, tvf, start, end } = parts;
  // Generated code, as every other calc runs: the projected row (the window's columns left null,
  // the aggregate reads them from its panes), and its time after the projection's columns. A
  // Nexmark view below the table function is read through (reuse.ts's `rowsOf`).
  const below = rowsOf(tvf.input, ctx, input);
  const { read, column } = below;
  const time = tvf.time;
  const at = pre.projects.length;
  const timeType = (tvf.input.fields[time] as Field).type;
  const tests = [below.filter, pre.filter && read(pre.filter)].flatMap((f) => (f ? [generate(f, column)] : []));
  const project = generateRow(
    [
      ...pre.projects.map(
        (p, i): BoundExpr => (i === start || i === end ? { kind: "literal", value: null, type: p.type } : read(p)),
      ),
      read({ kind: "input", index: time, type: timeType }),
    ],
    column,
  );
  const keyAt = Array.from({ length: rel.groupKeys }, (_, i) => i).filter((i) => i !== start && i !== end);
  const [first, second] = tests;
  const keep =
    first === undefined
      ? () => true
      : second === undefined
        ? (row: Row) => first(row) === true
        : (row: Row) => first(row) === true && second(row) === true;
  const rows = (below.stream as DataStream<Row>).flatMap((row): Row[] => (keep(row) ? [project(row)] : [])).uid(uid());
  const one = keyAt[0] as number;
  const keyOf =
    keyAt.length === 0
      ? () => 0
      : keyAt.length === 1
        ? (r: Row) => r[one] as Key
        : (r: Row) => keyAt.map((i) => r[i]) as Key;
  const fn = paneAggregate(rel, tvf.window, keyAt, at);
  // Unfused, as processing-time windows were until they were fused too, the plan drew three uids
  // (the window TVF, its calc, the aggregate): a fused one draws as many, so that the operators
  // after it keep their uids and a savepoint's state stays with its operator.
  if (tvf.window.proctime === true) uid();
  return rows.keyBy(keyOf).process(fn).uid(`${uid()}-${WINDOW_LAYOUT}`) as DataStream<unknown>;
}

/**
 * The keyed process function of a fused window aggregate over rows whose column `at` is the time:
 * per key, the accumulators of its open panes in one value state. A row is folded into its pane
 * (the bundle's own copy of it) unless every window of the pane has fired; a window fires when
 * the watermark (or, over processing time, the clock) passes its end, with its panes merged, and
 * a pane is dropped after its last window. Its one timer, at the next window end an open pane
 * reaches past the windows done, follows from the state: over event time the state implies it
 * (`impliedTimers`), so nothing is written for it.
 */
function paneAggregate(
  rel: Aggregate,
  window: Extract<Rel, { kind: "window-tvf" }>["window"],
  keyAt: readonly number[],
  at: number,
): KeyedProcessFunction<Row, Key, State, Row> {
  const accs = accumulators(rel.groupKeys, rel.aggs, false);
  const panes = panesOf(window);
  const { step } = panes;
  const proctime = window.proctime === true;
  const now = (ctx: KeyedContext<Key, State, Row>) =>
    proctime ? ctx.timers.currentProcessingTime() : ctx.timers.currentWatermark();
  /** The end of the next window of `open` to fire: the first an open pane reaches past the windows done. */
  const next = (open: Open): number => {
    let end = Number.POSITIVE_INFINITY;
    for (const [p] of open.p) end = Math.min(end, Math.max(open.f + step, p + step));
    return end;
  };
  const arm = (ctx: KeyedContext<Key, State, Row>, windowEnd: number) =>
    proctime ? ctx.timers.registerProcessingTimeTimer(windowEnd - 1) : ctx.timers.registerEventTimeTimer(windowEnd - 1);
  /** Adds rows of the current key to their panes. */
  const add = (rows: readonly Row[], ctx: KeyedContext<Key, State, Row>) => {
    const wm = now(ctx);
    const before = ctx.state.panes.value();
    const open = [...(before?.p ?? [])];
    /** Per pane of `open`: whether this call made or copied it (and so may change it in place). */
    const owned: boolean[] = [];
    let changed = false;
    for (const row of rows) {
      const p = panes.of(row[at] as number);
      if (panes.lastEnd(p) - 1 <= wm) continue; // every window of its pane has fired
      let j = 0;
      while (j < open.length && (open[j] as Pane)[0] !== p) j++;
      if (j === open.length) {
        open.push([p, accs.empty()]);
        owned[j] = true;
      } else if (!owned[j]) {
        open[j] = [p, accs.own((open[j] as Pane)[1])];
        owned[j] = true;
      }
      accs.fold((open[j] as Pane)[1], row, 1);
      changed = true;
    }
    if (!changed) return;
    // The windows the watermark passed are done: those of the open panes fired (event-time
    // timers fire before later records), and a new pane's are late.
    const done = wm < BEFORE_ALL ? BEFORE_ALL : panes.of(wm + 1);
    const after: Open = { f: Math.max(before?.f ?? BEFORE_ALL, done), p: open };
    ctx.state.panes.update(after);
    const end = next(after);
    if (before === undefined || end !== next(before)) arm(ctx, end);
  };
  return {
    state: { panes: valueState<Open>() },
    processElement: (row, ctx) => add([row], ctx),
    // One copy of the key's open panes per envelope, not per row (output only comes from timers).
    processBundle: add,
    ...(proctime
      ? {}
      : { impliedTimers: { state: "panes" as const, at: (_key: Key, open: unknown) => next(open as Open) - 1 } }),
    onTimer(time, ctx) {
      const state = ctx.state.panes.value();
      if (!state) return;
      // Over processing time a window's stored timer may fire after rows of a later time moved
      // `f` past it (the clock's timers fire after a slice's records): it still emits, and `f` goes
      // back to its end, so the windows after it are armed in turn, as they were before.
      const windowEnd = time + 1;
      const open = state.p;
      const windowStart = panes.startOf(windowEnd);
      // The first pane as it is; a second makes a copy (mergeAccs) that the rest are added into.
      let acc: Acc | undefined;
      let merged = false;
      for (let i = 0; i < open.length; i++) {
        const [p, a] = open[i] as Pane;
        if (p < windowStart || p >= windowEnd) continue;
        if (acc === undefined) acc = a;
        else if (merged) mergeInto(rel.aggs, acc, a);
        else {
          acc = mergeAccs(rel.aggs, acc, a);
          merged = true;
        }
      }
      if (acc) {
        const key = keyAt.length === 0 ? [] : keyAt.length === 1 ? [ctx.key] : (ctx.key as Row);
        const keyRow: unknown[] = [];
        for (let i = 0, k = 0; i < rel.groupKeys; i++)
          keyRow.push(i === rel.window?.start ? windowStart : i === rel.window?.end ? windowEnd : key[k++]);
        ctx.emit(accs.output(keyRow, acc));
      }
      const rest = open.filter(([p]) => panes.lastEnd(p) > windowEnd);
      if (rest.length === 0) {
        ctx.state.panes.clear();
        return;
      }
      const after: Open = { f: windowEnd, p: rest };
      ctx.state.panes.update(after);
      arm(ctx, next(after));
    },
  };
}
