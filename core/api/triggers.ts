/**
 * Window triggers and evictors, like Flink's: a {@link Trigger} decides when a
 * window fires and whether its contents are purged; an {@link Evictor} removes
 * elements from a window before or after it fires. Count windows are built from
 * them: `countWindow(n)` is a global window with `PurgingTrigger.of(CountTrigger.of(n))`,
 * `countWindow(n, slide)` one with `CountEvictor.of(n)` and `CountTrigger.of(slide)`.
 */

import type { TimeWindow, WindowAssigner } from "./windows.ts";

/** What a trigger decides. */
export type TriggerResult = "CONTINUE" | "FIRE" | "PURGE" | "FIRE_AND_PURGE";

/** What a trigger may use: clocks, timers, and state of its own per key and window. */
export interface TriggerContext {
  currentWatermark(): number;
  currentProcessingTime(): number;
  /** Calls `onEventTime(time)` for this window once the watermark reaches `time`. */
  registerEventTimeTimer(time: number): void;
  /** Calls `onProcessingTime(time)` for this window once processing time reaches `time`. */
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  /** The trigger's state `name` for the current key and window (JSON). */
  getState<S>(name: string): S | undefined;
  /** Sets (or, with `undefined`, removes) the trigger's state `name` for the current key and window. */
  setState<S>(name: string, value: S | undefined): void;
}

/** Decides when a window fires, like Flink's `Trigger`. */
export interface Trigger<T> {
  /** An element was added to `window`. */
  onElement(element: T, timestamp: number | undefined, window: TimeWindow, ctx: TriggerContext): TriggerResult;
  /** An event-time timer this trigger registered for `window` fired. */
  onEventTime(time: number, window: TimeWindow, ctx: TriggerContext): TriggerResult;
  /** A processing-time timer this trigger registered for `window` fired. */
  onProcessingTime(time: number, window: TimeWindow, ctx: TriggerContext): TriggerResult;
  /** The window is removed: delete timers and state (the trigger's state is removed with the window anyway). */
  clear?(window: TimeWindow, ctx: TriggerContext): void;
}

/** Fires when the watermark passes the window's end (the default of event-time windows). */
export const EventTimeTrigger = {
  create: <T>(): Trigger<T> => ({
    onElement: (_e, _t, w, ctx) => {
      if (w.end - 1 <= ctx.currentWatermark()) return "FIRE";
      ctx.registerEventTimeTimer(w.end - 1);
      return "CONTINUE";
    },
    onEventTime: (time, w) => (time === w.end - 1 ? "FIRE" : "CONTINUE"),
    onProcessingTime: () => "CONTINUE",
    clear: (w, ctx) => ctx.deleteEventTimeTimer(w.end - 1),
  }),
};

/** Fires when processing time passes the window's end (the default of processing-time windows). */
export const ProcessingTimeTrigger = {
  create: <T>(): Trigger<T> => ({
    onElement: (_e, _t, w, ctx) => {
      ctx.registerProcessingTimeTimer(w.end - 1);
      return "CONTINUE";
    },
    onEventTime: () => "CONTINUE",
    onProcessingTime: (time, w) => (time === w.end - 1 ? "FIRE" : "CONTINUE"),
    clear: (w, ctx) => ctx.deleteProcessingTimeTimer(w.end - 1),
  }),
};

/** Fires every `count` elements of a window. */
export const CountTrigger = {
  of: <T>(count: number): Trigger<T> => {
    checkCount("CountTrigger", count);
    return {
      onElement: (_e, _t, _w, ctx) => {
        const n = (ctx.getState<number>("count") ?? 0) + 1;
        ctx.setState("count", n >= count ? undefined : n);
        return n >= count ? "FIRE" : "CONTINUE";
      },
      onEventTime: () => "CONTINUE",
      onProcessingTime: () => "CONTINUE",
    };
  },
};

/** Turns every FIRE of `trigger` into FIRE_AND_PURGE. */
export const PurgingTrigger = {
  of: <T>(trigger: Trigger<T>): Trigger<T> => {
    const purge = (r: TriggerResult): TriggerResult => (r === "FIRE" ? "FIRE_AND_PURGE" : r);
    return {
      onElement: (e, t, w, ctx) => purge(trigger.onElement(e, t, w, ctx)),
      onEventTime: (t, w, ctx) => purge(trigger.onEventTime(t, w, ctx)),
      onProcessingTime: (t, w, ctx) => purge(trigger.onProcessingTime(t, w, ctx)),
      ...(trigger.clear ? { clear: (w: TimeWindow, ctx: TriggerContext) => trigger.clear?.(w, ctx) } : {}),
    };
  },
};

/** A window element with its event time. */
export interface TimestampedValue<T> {
  readonly value: T;
  readonly timestamp: number | undefined;
}

/**
 * Removes elements from a window when it fires, like Flink's `Evictor`: each method
 * returns the elements to keep. A window with an evictor keeps its elements (not an
 * incremental accumulator) and folds the kept ones when it fires.
 */
export interface Evictor<T> {
  /** Before the window function runs. */
  evictBefore?(elements: readonly TimestampedValue<T>[], window: TimeWindow): TimestampedValue<T>[];
  /** After it ran. */
  evictAfter?(elements: readonly TimestampedValue<T>[], window: TimeWindow): TimestampedValue<T>[];
}

/** Keeps the last `count` elements (before the window function, or after it with `doEvictAfter`). */
export const CountEvictor = {
  of: <T>(count: number, doEvictAfter = false): Evictor<T> => {
    checkCount("CountEvictor", count);
    const evict = (es: readonly TimestampedValue<T>[]) => es.slice(Math.max(0, es.length - count));
    return doEvictAfter ? { evictAfter: evict } : { evictBefore: evict };
  },
};

/** Keeps the elements at most `ms` older than the newest one. */
export const TimeEvictor = {
  of: <T>(ms: number, doEvictAfter = false): Evictor<T> => {
    if (!(ms >= 0)) throw new RangeError(`TimeEvictor: ms must be ≥ 0, got ${ms}`);
    const evict = (es: readonly TimestampedValue<T>[]) => {
      const newest = Math.max(...es.map((e) => e.timestamp ?? Number.NEGATIVE_INFINITY));
      return es.filter((e) => e.timestamp === undefined || e.timestamp >= newest - ms);
    };
    return doEvictAfter ? { evictAfter: evict } : { evictBefore: evict };
  },
};

/** One window per key that holds every element; it fires only by a trigger (the default never fires). */
export const GlobalWindows = {
  create: (): WindowAssigner => ({
    kind: "global",
    time: "event",
    assign: () => [{ start: Number.MIN_SAFE_INTEGER, end: Number.MAX_SAFE_INTEGER }],
  }),
};

function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what}: count must be a positive integer, got ${n}`);
}
