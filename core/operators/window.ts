/**
 * Keyed windows, built on keyed state and timers: each key keeps its open windows
 * in a map state (window → accumulator), and a timer at each window's max
 * timestamp fires it. Allowed lateness keeps a window (and re-fires it per late
 * record) until the watermark passes `end - 1 + lateness`; later records go to the
 * late-data side output or are dropped. Session windows merge as they grow.
 */

import type { KeyedContext, KeyedProcessFunction, TimerContext } from "../api/functions.ts";
import type { OutputTag } from "../api/output-tag.ts";
import { type MapState, mapState, type StateSpec } from "../api/state.ts";
import type { AggregateFunction, TimeWindow, WindowAssigner } from "../api/windows.ts";
import { JobDefinitionError } from "../errors.ts";
import type { Key } from "../keys.ts";

/** How a window folds its records. */
export type WindowFold =
  | { readonly kind: "reduce"; readonly fn: (a: unknown, b: unknown) => unknown }
  | { readonly kind: "aggregate"; readonly agg: AggregateFunction<unknown, unknown, unknown> }
  | { readonly kind: "list" };

/** Everything a window operator needs. */
export interface WindowSpec {
  readonly assigner: WindowAssigner;
  readonly lateness: number;
  /** Side-output tag of late records; `undefined` drops them. */
  readonly lateTag: OutputTag<unknown> | undefined;
  readonly fold: WindowFold;
  /** Turns a fired window's folded value into output records. */
  readonly emit: (key: Key, window: TimeWindow, folded: unknown, out: (o: unknown) => void) => void;
}

interface Slot {
  readonly start: number;
  readonly end: number;
  readonly acc: unknown;
}

type S = { w: ReturnType<typeof mapState<Slot>> };

/** How a fold adds a record (`fresh`: to a new accumulator), merges two accumulators, and gives its result. */
export function foldOps(fold: WindowFold) {
  const add = (acc: unknown, v: unknown, fresh: boolean): unknown => {
    switch (fold.kind) {
      case "reduce":
        return fresh ? v : fold.fn(acc, v);
      case "aggregate":
        return fold.agg.add(v, fresh ? fold.agg.createAccumulator() : acc);
      case "list":
        return fresh ? [v] : [...(acc as unknown[]), v];
    }
  };
  const merge = (a: unknown, b: unknown): unknown => {
    switch (fold.kind) {
      case "reduce":
        return fold.fn(a, b);
      case "aggregate":
        return (fold.agg.merge as NonNullable<typeof fold.agg.merge>)(a, b); // checked when the window was built
      case "list":
        return [...(a as unknown[]), ...(b as unknown[])];
    }
  };
  const result = (acc: unknown) => (fold.kind === "aggregate" ? fold.agg.getResult(acc) : acc);
  return { add, merge, result };
}

/** The keyed process function that implements a window. */
export function windowFunction(spec: WindowSpec): KeyedProcessFunction<unknown, Key, StateSpec, unknown> {
  const { assigner, lateness, fold } = spec;
  if (assigner.kind === "session" && fold.kind === "aggregate" && !fold.agg.merge) {
    throw new JobDefinitionError(
      "a session window's aggregate function needs merge(accA, accB): sessions merge as records bridge them",
    );
  }
  const proc = assigner.time === "processing";
  const { add, merge, result } = foldOps(fold);
  const timer = (ctx: KeyedContext<Key, S, unknown>, t: number) =>
    proc ? ctx.timers.registerProcessingTimeTimer(t) : ctx.timers.registerEventTimeTimer(t);
  const unTimer = (ctx: KeyedContext<Key, S, unknown>, t: number) =>
    proc ? ctx.timers.deleteProcessingTimeTimer(t) : ctx.timers.deleteEventTimeTimer(t);
  const fire = (ctx: KeyedContext<Key, S, unknown>, slot: Slot) => {
    const mutable = ctx as { timestamp: number | undefined };
    const saved = mutable.timestamp;
    mutable.timestamp = slot.end - 1;
    spec.emit(ctx.key, { start: slot.start, end: slot.end }, result(slot.acc), (o) => ctx.emit(o));
    mutable.timestamp = saved;
  };
  /** Timers for a window: its firing (unless the watermark already passed it) and its cleanup. */
  const schedule = (ctx: KeyedContext<Key, S, unknown>, w: TimeWindow, wm: number) => {
    if (w.end - 1 > wm) timer(ctx, w.end - 1);
    if (lateness > 0) timer(ctx, w.end - 1 + lateness);
  };

  const fn: KeyedProcessFunction<unknown, Key, S, unknown> = {
    state: { w: mapState<Slot>() },
    processElement(v, ctx) {
      const ts = proc ? ctx.timers.currentProcessingTime() : ctx.timestamp;
      if (ts === undefined) {
        throw new TypeError("an event-time window needs event times: call assignTimestampsAndWatermarks() upstream");
      }
      const wm = proc ? Number.NEGATIVE_INFINITY : ctx.timers.currentWatermark();
      const map: MapState<Slot> = ctx.state.w;
      let alive = false;
      for (const w0 of assigner.assign(ts)) {
        let w = w0;
        let acc: unknown;
        let fresh = true;
        if (assigner.kind === "session") {
          // Merge every window that intersects (or touches) the new one, as Flink does.
          for (const [id, slot] of map.entries()) {
            if (slot.start <= w.end && slot.end >= w.start) {
              w = { start: Math.min(w.start, slot.start), end: Math.max(w.end, slot.end) };
              acc = fresh ? slot.acc : merge(acc, slot.acc);
              fresh = false;
              map.remove(id);
              unTimer(ctx, slot.end - 1);
              if (lateness > 0) unTimer(ctx, slot.end - 1 + lateness);
            }
          }
        } else {
          const cur = map.get(`${w.start}:${w.end}`);
          if (cur) {
            acc = cur.acc;
            fresh = false;
          }
        }
        if (!proc && w.end - 1 + lateness <= wm) continue; // too late for this window
        alive = true;
        const slot: Slot = { start: w.start, end: w.end, acc: add(acc, v, fresh) };
        map.put(`${w.start}:${w.end}`, slot);
        schedule(ctx, w, wm);
        if (!proc && w.end - 1 <= wm) fire(ctx, slot); // a late record re-fires its window
      }
      if (!alive && spec.lateTag !== undefined) ctx.output(spec.lateTag, v);
    },
    onTimer(t, ctx: TimerContext<Key, S, unknown>) {
      const map = ctx.state.w;
      for (const [id, slot] of map.entries()) {
        if (slot.end - 1 === t) fire(ctx, slot);
        if (slot.end - 1 + lateness <= t) map.remove(id);
      }
    },
  };
  return fn as unknown as KeyedProcessFunction<unknown, Key, StateSpec, unknown>;
}
