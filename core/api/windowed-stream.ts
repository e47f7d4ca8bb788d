/**
 * Windows of a keyed stream: `keyed.window(assigner)` and `keyed.countWindow(n)`,
 * finished with reduce, aggregate or process. This module adds `window` and
 * `countWindow` to {@link KeyedStream} (see the note in `datastream.ts`).
 */

import { JobDefinitionError } from "../errors.ts";
import type { InputEdge } from "../graph/graph.ts";
import type { Key } from "../keys.ts";
import type { WindowFold } from "../operators/window.ts";
import { DataStream, KeyedStream } from "./datastream.ts";
import type { GraphBuilder } from "./graph-builder.ts";
import type { OutputTag } from "./output-tag.ts";
import { CountEvictor, CountTrigger, type Evictor, GlobalWindows, PurgingTrigger, type Trigger } from "./triggers.ts";
import { windowProcessFunction } from "./window-function.ts";
import type { AggregateFunction, TimeWindow, WindowAssigner } from "./windows.ts";

/** A keyed stream grouped into windows; finish it with reduce, aggregate or process. */
export class WindowedStream<T, K extends Key> {
  private readonly builder: GraphBuilder;
  private readonly edges: readonly InputEdge[];
  private readonly assigner: WindowAssigner;
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined;
  private customTrigger: Trigger<T> | undefined;
  private customEvictor: Evictor<T> | undefined;

  /** @internal */
  constructor(builder: GraphBuilder, edges: readonly InputEdge[], assigner: WindowAssigner) {
    this.builder = builder;
    this.edges = edges;
    this.assigner = assigner;
  }

  /** Keeps windows open for `ms` after the watermark passes them; late records re-fire them. */
  allowedLateness(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw new JobDefinitionError(`allowedLateness must be ≥ 0 ms, got ${ms}`);
    this.lateness = ms;
    return this;
  }

  /** Replaces the window's default trigger (fire at the window's end; never, for global windows). */
  trigger(trigger: Trigger<T>): this {
    this.customTrigger = trigger;
    return this;
  }

  /** Evicts elements before or after the window fires; the window then keeps its elements. */
  evictor(evictor: Evictor<T>): this {
    this.customEvictor = evictor;
    return this;
  }

  /** Sends records too late for every window to the side output `tag` instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag;
    return this;
  }

  /** Reduces each window; `windowFn` may turn the result into output with the key and window. */
  reduce<O = T>(fn: (a: T, b: T) => T, windowFn?: (key: K, window: TimeWindow, value: T) => O): DataStream<O> {
    return this.build({ kind: "reduce", fn: fn as (a: unknown, b: unknown) => unknown }, windowFn, "window.reduce");
  }

  /** Aggregates each window incrementally; `windowFn` may add the key and window. */
  aggregate<ACC, R, O = R>(
    agg: AggregateFunction<T, ACC, R>,
    windowFn?: (key: K, window: TimeWindow, result: R) => O,
  ): DataStream<O> {
    return this.build(
      { kind: "aggregate", agg: agg as unknown as AggregateFunction<unknown, unknown, unknown> },
      windowFn,
      "window.aggregate",
    );
  }

  /** Processes all records of a window at once (they are buffered in state). */
  process<O>(fn: (key: K, window: TimeWindow, elements: readonly T[], out: (o: O) => void) => void): DataStream<O> {
    return this.finish(
      { kind: "list" },
      (key, window, folded, out) => fn(key as K, window, folded as T[], out as (o: O) => void),
      "window.process",
    );
  }

  private build<O>(
    fold: WindowFold,
    windowFn: ((key: K, window: TimeWindow, v: never) => O) | undefined,
    name: string,
  ) {
    return this.finish<O>(
      fold,
      windowFn
        ? (key, window, folded, out) => out(windowFn(key as K, window, folded as never))
        : (_k, _w, folded, out) => out(folded),
      name,
    );
  }

  private finish<O>(
    fold: WindowFold,
    emit: (key: Key, window: TimeWindow, folded: unknown, out: (o: unknown) => void) => void,
    name: string,
  ): DataStream<O> {
    const fn = windowProcessFunction({
      assigner: this.assigner,
      lateness: this.lateness,
      lateTag: this.lateTag as OutputTag<unknown> | undefined,
      fold,
      emit,
      trigger: this.customTrigger as Trigger<unknown> | undefined,
      evictor: this.customEvictor as Evictor<unknown> | undefined,
    });
    const eventTime = this.assigner.time === "event" ? { eventTime: true as const } : {};
    const id = this.builder.add({ kind: "process", fn, ...eventTime }, name, this.edges);
    return new DataStream<O>(this.builder, [{ node: id, partition: undefined }]);
  }
}

/** @deprecated The output of a window is a plain {@link DataStream}; `getSideOutput` is on every stream. */
export type WindowResultStream<O> = DataStream<O>;

declare module "./datastream.ts" {
  interface KeyedStream<T, K extends Key> {
    /** Groups the keyed stream into windows. */
    window(assigner: WindowAssigner): WindowedStream<T, K>;
    /**
     * Count windows: with one argument, tumbling windows of `size` elements per key
     * (fired and purged every `size`); with `slide`, the last `size` elements, fired
     * every `slide` elements.
     */
    countWindow(size: number, slide?: number): WindowedStream<T, K>;
  }
}

KeyedStream.prototype.window = function window<T, K extends Key>(this: KeyedStream<T, K>, assigner: WindowAssigner) {
  return new WindowedStream<T, K>(this.builder, this.edges, assigner);
};

KeyedStream.prototype.countWindow = function countWindow<T, K extends Key>(
  this: KeyedStream<T, K>,
  size: number,
  slide?: number,
) {
  const w = this.window(GlobalWindows.create());
  if (slide === undefined) return w.trigger(PurgingTrigger.of(CountTrigger.of(size)));
  return w.evictor(CountEvictor.of(size)).trigger(CountTrigger.of(slide));
};
