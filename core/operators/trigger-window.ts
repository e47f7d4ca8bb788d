/**
 * Windows with a custom trigger or an evictor (and global windows, which only a
 * trigger fires): like `window.ts`, per key a map state of open windows and timers,
 * but each window also keeps its trigger's state and the times of the timers its
 * trigger registered, and with an evictor its elements rather than an accumulator.
 * A window is removed when the watermark (processing time) passes its end plus the
 * allowed lateness; a global window never is. Session windows merge and are not
 * supported here (the window builder refuses them at plan time).
 */

import type { KeyedContext, KeyedProcessFunction, TimerContext } from "../api/functions.ts";
import { type MapState, mapState, type StateSpec } from "../api/state.ts";
import type { Evictor, TimestampedValue, Trigger, TriggerContext, TriggerResult } from "../api/triggers.ts";
import type { TimeWindow } from "../api/windows.ts";
import type { Key } from "../keys.ts";
import { foldOps, type WindowSpec } from "./window.ts";

/** A window with a trigger or an evictor. */
export interface TriggerWindowSpec extends WindowSpec {
  readonly trigger: Trigger<unknown>;
  readonly evictor: Evictor<unknown> | undefined;
}

/** One open window of a key. */
interface Slot {
  start: number;
  end: number;
  /** Accumulator (without an evictor), when `has`. */
  acc?: unknown;
  has?: true;
  /** Elements (with an evictor). */
  els?: TimestampedValue<unknown>[];
  /** The trigger's state. */
  st?: Record<string, unknown>;
  /** Event- and processing-time timers the trigger registered. */
  e?: number[];
  p?: number[];
}

type S = { w: ReturnType<typeof mapState<Slot>> };
type Ctx = KeyedContext<Key, S, unknown>;

/** The keyed process function of a window with a trigger or an evictor. */
export function triggerWindowFunction(spec: TriggerWindowSpec): KeyedProcessFunction<unknown, Key, StateSpec, unknown> {
  const { assigner, lateness, fold, trigger, evictor } = spec;
  const proc = assigner.time === "processing";
  const global = assigner.kind === "global";
  const { add, result } = foldOps(fold);

  const triggerContext = (ctx: Ctx, slot: Slot): TriggerContext => ({
    currentWatermark: () => ctx.timers.currentWatermark(),
    currentProcessingTime: () => ctx.timers.currentProcessingTime(),
    registerEventTimeTimer: (t) => {
      ctx.timers.registerEventTimeTimer(t);
      slot.e = [...(slot.e ?? []).filter((x) => x !== t), t];
    },
    registerProcessingTimeTimer: (t) => {
      ctx.timers.registerProcessingTimeTimer(t);
      slot.p = [...(slot.p ?? []).filter((x) => x !== t), t];
    },
    // The key's timer may serve other windows; it fires for this one only while listed here.
    deleteEventTimeTimer: (t) => {
      slot.e = slot.e?.filter((x) => x !== t);
    },
    deleteProcessingTimeTimer: (t) => {
      slot.p = slot.p?.filter((x) => x !== t);
    },
    getState: <X>(name: string) => slot.st?.[name] as X | undefined,
    setState: (name, value) => {
      const { [name]: _, ...rest } = slot.st ?? {};
      slot.st = value === undefined ? rest : { ...rest, [name]: value };
    },
  });

  const fire = (ctx: Ctx, slot: Slot) => {
    const w: TimeWindow = { start: slot.start, end: slot.end };
    let folded: { acc: unknown } | undefined;
    if (evictor) {
      const kept = evictor.evictBefore?.(slot.els ?? [], w) ?? slot.els ?? [];
      let acc: unknown;
      kept.forEach((e, i) => {
        acc = add(acc, e.value, i === 0);
      });
      if (kept.length > 0) folded = { acc };
      slot.els = evictor.evictAfter?.(kept, w) ?? kept;
    } else if (slot.has) folded = { acc: slot.acc };
    if (!folded) return;
    const mutable = ctx as { timestamp: number | undefined };
    const saved = mutable.timestamp;
    mutable.timestamp = slot.end - 1;
    spec.emit(ctx.key, w, result(folded.acc), (o) => ctx.emit(o));
    mutable.timestamp = saved;
  };

  /** Acts on a trigger's decision; false when the window's contents were purged. */
  const act = (ctx: Ctx, slot: Slot, r: TriggerResult) => {
    if (r === "FIRE" || r === "FIRE_AND_PURGE") fire(ctx, slot);
    if (r === "PURGE" || r === "FIRE_AND_PURGE") {
      delete slot.acc;
      delete slot.has;
      delete slot.els;
    }
  };

  /** When a window is removed (`undefined`: never). */
  const cleanupAt = (w: TimeWindow) => (global ? undefined : w.end - 1 + (proc ? 0 : lateness));

  const fn: KeyedProcessFunction<unknown, Key, S, unknown> = {
    state: { w: mapState<Slot>() },
    processElement(v, ctx) {
      const ts = proc ? ctx.timers.currentProcessingTime() : ctx.timestamp;
      if (ts === undefined && !global) {
        throw new TypeError("an event-time window needs event times: call assignTimestampsAndWatermarks() upstream");
      }
      const wm = proc ? Number.NEGATIVE_INFINITY : ctx.timers.currentWatermark();
      const map: MapState<Slot> = ctx.state.w;
      let alive = false;
      for (const w of assigner.assign(ts ?? 0)) {
        const cleanup = cleanupAt(w);
        if (cleanup !== undefined && !proc && cleanup <= wm) continue; // too late for this window
        alive = true;
        const id = `${w.start}:${w.end}`;
        const slot: Slot = { ...(map.get(id) ?? { start: w.start, end: w.end }) };
        if (evictor) slot.els = [...(slot.els ?? []), { value: v, timestamp: ctx.timestamp }];
        else {
          slot.acc = add(slot.acc, v, !slot.has);
          slot.has = true;
        }
        if (cleanup !== undefined) {
          if (proc) ctx.timers.registerProcessingTimeTimer(cleanup);
          else ctx.timers.registerEventTimeTimer(cleanup);
        }
        act(ctx, slot, trigger.onElement(v, ctx.timestamp, w, triggerContext(ctx, slot)));
        map.put(id, slot);
      }
      if (!alive && spec.lateTag !== undefined) ctx.output(spec.lateTag, v);
    },
    onTimer(t, ctx: TimerContext<Key, S, unknown>) {
      const map = ctx.state.w;
      const event = ctx.timeDomain === "event";
      for (const [id, stored] of map.entries()) {
        const slot: Slot = { ...stored };
        const w: TimeWindow = { start: slot.start, end: slot.end };
        const mine = event ? slot.e : slot.p;
        const called = mine?.includes(t) === true;
        if (mine && called) {
          if (event) slot.e = mine.filter((x) => x !== t);
          else slot.p = mine.filter((x) => x !== t);
          const tc = triggerContext(ctx, slot);
          act(ctx, slot, event ? trigger.onEventTime(t, w, tc) : trigger.onProcessingTime(t, w, tc));
        }
        const cleanup = cleanupAt(w);
        if (cleanup !== undefined && cleanup <= t && event !== proc) {
          trigger.clear?.(w, triggerContext(ctx, slot));
          map.remove(id);
        } else if (called) map.put(id, slot);
      }
    },
  };
  return fn as unknown as KeyedProcessFunction<unknown, Key, StateSpec, unknown>;
}
