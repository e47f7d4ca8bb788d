/**
 * Window assigners (tumbling, sliding, session; event or processing time) and the
 * functions windows run: reduce, incremental aggregate, and process-window.
 * Windows follow Flink: a window is `[start, end)`, its max timestamp `end - 1`;
 * sliding windows start at multiples of the slide, `[k·slide, k·slide + size)`.
 */

/** A time window `[start, end)`. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Assigns records to windows. */
export interface WindowAssigner {
  readonly kind: "tumbling" | "sliding" | "session" | "global";
  /** Event time (watermark-driven) or processing time (clock-driven). */
  readonly time: "event" | "processing";
  /** Windows that contain timestamp `ts`. */
  assign(ts: number): TimeWindow[];
  /** For session windows: the gap that merges windows. */
  readonly gap?: number;
}

const floorMod = (a: number, b: number) => ((a % b) + b) % b;

function tumbling(size: number, offset: number, time: "event" | "processing"): WindowAssigner {
  checkSize("size", size);
  return {
    kind: "tumbling",
    time,
    assign: (ts) => {
      const start = ts - floorMod(ts - offset, size);
      return [{ start, end: start + size }];
    },
  };
}

function sliding(size: number, slide: number, offset: number, time: "event" | "processing"): WindowAssigner {
  checkSize("size", size);
  checkSize("slide", slide);
  return {
    kind: "sliding",
    time,
    assign: (ts) => {
      const out: TimeWindow[] = [];
      const last = ts - floorMod(ts - offset, slide);
      for (let start = last; start > ts - size; start -= slide) out.push({ start, end: start + size });
      return out;
    },
  };
}

function session(gap: number, time: "event" | "processing"): WindowAssigner {
  checkSize("gap", gap);
  return { kind: "session", time, gap, assign: (ts) => [{ start: ts, end: ts + gap }] };
}

function checkSize(what: string, ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0)
    throw new RangeError(`window ${what} must be a positive number of ms, got ${ms}`);
}

/** Tumbling event-time windows of `size` ms. */
export const TumblingEventTimeWindows = { of: (size: number, offset = 0) => tumbling(size, offset, "event") };
/** Sliding event-time windows of `size` ms every `slide` ms. */
export const SlidingEventTimeWindows = {
  of: (size: number, slide: number, offset = 0) => sliding(size, slide, offset, "event"),
};
/** Event-time session windows that close after `gap` ms without records. */
export const EventTimeSessionWindows = { withGap: (gap: number) => session(gap, "event") };
/** Tumbling processing-time windows of `size` ms. */
export const TumblingProcessingTimeWindows = { of: (size: number, offset = 0) => tumbling(size, offset, "processing") };
/** Sliding processing-time windows. */
export const SlidingProcessingTimeWindows = {
  of: (size: number, slide: number, offset = 0) => sliding(size, slide, offset, "processing"),
};
/** Processing-time session windows. */
export const ProcessingTimeSessionWindows = { withGap: (gap: number) => session(gap, "processing") };

/** An incremental aggregation, like Flink's `AggregateFunction`. */
export interface AggregateFunction<T, ACC, R> {
  createAccumulator(): ACC;
  add(value: T, accumulator: ACC): ACC;
  getResult(accumulator: ACC): R;
  /** Needed by session windows, which merge. */
  merge?(a: ACC, b: ACC): ACC;
}

export { OutputTag } from "./output-tag.ts";
