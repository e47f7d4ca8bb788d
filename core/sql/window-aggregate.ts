/**
 * A window aggregate fused with its window table function: instead of a `flatMap` that copies each
 * row once per window (five times for a HOP of 10 s sliding by 2 s) and a keyed operator per
 * (key, window), rows are keyed by the grouping key without the window, and one value state per
 * key holds the accumulators of its open windows (by window end). A row adds itself to every
 * window of its time that the watermark has not passed; a window is emitted once, when the
 * watermark passes its end, as the unfused aggregate does. Used when nothing but the window's
 * `window_start`/`window_end` keys reads the window columns and no aggregate keeps value counts
 * (DISTINCT); otherwise the plan stays unfused. Over processing time (a `PROCTIME()` column), the
 * runtime's clock stands for the watermark and windows fire on processing-time timers, as in the
 * unfused aggregate.
 */
import type { DataStream } from "../api/datastream.ts";
import type { KeyedContext, KeyedProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import { type Acc, accumulators } from "./aggregate.ts";
import { type BoundExpr, compile, inputsOf, projector, type Row } from "./expr.ts";
import type { Rel } from "./logical.ts";
import { windowsOf } from "./windows.ts";

type Aggregate = Extract<Rel, { kind: "aggregate" }>;
/** A key's open windows, in the order they opened: start, end and accumulators. */
type Window = readonly [start: number, end: number, acc: Acc];
type Windows = readonly Window[];
type State = { windows: ReturnType<typeof valueState<Windows>> };

/** The parts of a fusable window aggregate, or undefined when it cannot be fused. */
function fusable(rel: Aggregate) {
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
  input: (r: Rel) => DataStream<unknown>,
  uid: () => string,
): DataStream<unknown> | undefined {
  const parts = fusable(rel);
  if (!parts) return undefined;
  const { pre, tvf, start, end } = parts;
  const test = pre.filter ? compile(pre.filter) : undefined;
  const project = projector(pre.projects.map((p, i) => (i === start || i === end ? () => null : compile(p))));
  const keyAt = Array.from({ length: rel.groupKeys }, (_, i) => i).filter((i) => i !== start && i !== end);
  const time = tvf.time;
  const proctime = tvf.window.proctime === true;
  const rows = (input(tvf.input) as DataStream<Row>)
    .flatMap((row): Row[] => (test && test(row) !== true ? [] : [[row[time] as number, ...project(row)]]))
    .uid(uid());
  const keyOf = keyAt.length === 0 ? () => 0 : (r: Row) => keyAt.map((i) => r[i + 1]) as Key;
  const accs = accumulators(rel.groupKeys, rel.aggs, false);
  /** Adds rows of the current key to every open window of their time. */
  const add = (rows: readonly Row[], ctx: KeyedContext<Key, State, Row>) => {
    const t = ctx.timers;
    const wm = proctime ? t.currentProcessingTime() : t.currentWatermark();
    const open = [...(ctx.state.windows.value() ?? [])];
    /** Per window of `open`: whether this call copied its accumulators (and so may change them in place). */
    const owned: boolean[] = [];
    let changed = false;
    for (const timed of rows) {
      const row = timed.slice(1);
      for (const [s, e] of windowsOf(tvf.window, timed[0] as number)) {
        if (e - 1 <= wm) continue;
        let j = 0;
        while (j < open.length && ((open[j] as Window)[0] !== s || (open[j] as Window)[1] !== e)) j++;
        if (j === open.length) {
          if (proctime) t.registerProcessingTimeTimer(e - 1);
          else t.registerEventTimeTimer(e - 1);
          open.push([s, e, accs.empty()]);
          owned[j] = true;
        } else if (!owned[j]) {
          open[j] = [s, e, accs.own((open[j] as Window)[2])];
          owned[j] = true;
        }
        accs.fold((open[j] as Window)[2], row, 1);
        changed = true;
      }
    }
    if (changed) ctx.state.windows.update(open);
  };
  const fn: KeyedProcessFunction<Row, Key, State, Row> = {
    state: { windows: valueState<Windows>() },
    processElement: (timed, ctx) => add([timed], ctx),
    // One copy of the key's open windows per envelope, not per row (output only comes from timers).
    processBundle: add,
    onTimer(at, ctx) {
      const open = ctx.state.windows.value();
      if (!open) return;
      const rest: Window[] = [];
      const key = keyAt.length === 0 ? [] : (ctx.key as Row);
      for (const w of open) {
        const [windowStart, windowEnd, acc] = w;
        if (windowEnd - 1 > at) {
          rest.push(w);
          continue;
        }
        const keyRow: unknown[] = [];
        for (let i = 0, k = 0; i < rel.groupKeys; i++)
          keyRow.push(i === start ? windowStart : i === end ? windowEnd : key[k++]);
        ctx.emit(accs.output(keyRow, acc));
      }
      if (rest.length === 0) ctx.state.windows.clear();
      else ctx.state.windows.update(rest);
    },
  };
  return rows.keyBy(keyOf).process(fn).uid(uid()) as DataStream<unknown>;
}
