/**
 * The DataStream API, close to Flink's: build a graph of transformations from
 * sources to sinks. Nothing runs here; a runtime plans and executes the graph.
 */

import { JobDefinitionError } from "../errors.ts";
import type { GraphNode, InputEdge, NodeOp, PartitionSpec } from "../graph/graph.ts";
import type { Key } from "../keys.ts";
import { emitsSideOutputs } from "../operators/side-output.ts";
import type { WindowFold } from "../operators/window.ts";
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction, MapStateDescriptor } from "./broadcast.ts";
import { BroadcastStream } from "./broadcast-stream.ts";
import { rich, syncFn } from "./function-checks.ts";
import type {
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  ProcessFunction,
  RichFilterFunction,
  RichFlatMapFunction,
  RichMapFunction,
} from "./functions.ts";
import type { GraphBuilder } from "./graph-builder.ts";
import type { OutputTag } from "./output-tag.ts";
import { fieldFold, type NumericKeys, rolling } from "./rolling.ts";
import type { StateSpec } from "./state.ts";
import { CountEvictor, CountTrigger, type Evictor, GlobalWindows, PurgingTrigger, type Trigger } from "./triggers.ts";
import { checkSink, type TwoPhaseCommitSink } from "./two-phase-sink.ts";
import type { WatermarkStrategy } from "./watermarks.ts";
import { windowProcessFunction } from "./window-function.ts";
import type { AggregateFunction, TimeWindow, WindowAssigner } from "./windows.ts";

/** A stream of records of type `T`. */
export class DataStream<T> {
  /** @internal */
  readonly builder: GraphBuilder;
  /** @internal The upstream node(s) and the partitioning of the next edge. */
  readonly edges: readonly InputEdge[];

  /** @internal */
  constructor(builder: GraphBuilder, edges: readonly InputEdge[]) {
    this.builder = builder;
    this.edges = edges;
  }

  /** @internal The single node this stream is the output of. */
  protected node(what: string): GraphNode {
    const first = this.edges[0];
    if (this.edges.length !== 1 || first === undefined) {
      throw new JobDefinitionError(
        `${what} applies to one operator's output, not to a union of ${this.edges.length} streams`,
      );
    }
    return this.builder.node(first.node);
  }

  /** @internal */
  protected add<O>(op: NodeOp, name: string): DataStream<O> {
    const id = this.builder.add(op, name, this.edges);
    return new DataStream<O>(this.builder, [{ node: id, partition: undefined }]);
  }

  /** Gives the operator that produced this stream a stable id (its state is stored under it). */
  uid(uid: string): this {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(uid)) {
      throw new JobDefinitionError(`uid '${uid}' must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'`);
    }
    this.node("uid()").uid = uid;
    return this;
  }

  /** Sets the parallelism of the operator that produced this stream. */
  setParallelism(parallelism: number): this {
    if (!Number.isSafeInteger(parallelism) || parallelism < 1) {
      throw new JobDefinitionError(`setParallelism: parallelism must be a positive integer, got ${parallelism}`);
    }
    this.node("setParallelism()").parallelism = parallelism;
    return this;
  }

  /** Sets a display name for the operator that produced this stream. */
  name(name: string): this {
    this.node("name()").name = name;
    return this;
  }

  /**
   * Transforms every record. `fn` is a function or a {@link RichMapFunction} with
   * `open`/`close`. It must return its result, not a Promise: an `async` function is
   * refused here (use `AsyncDataStream`), and a Promise returned at run time fails
   * the record with an error naming the operator.
   */
  map<O>(fn: ((value: T) => O) | RichMapFunction<T, O>): DataStream<O> {
    const f = typeof fn === "function" ? fn : (v: T) => fn.map(v);
    return this.add({ kind: "map", fn: syncFn("map", fn, f) as (v: unknown) => unknown, ...rich(fn) }, "map");
  }

  /** Keeps the records for which `fn` (a function or a {@link RichFilterFunction}) returns true. */
  filter(fn: ((value: T) => boolean) | RichFilterFunction<T>): DataStream<T> {
    const f = typeof fn === "function" ? fn : (v: T) => fn.filter(v);
    return this.add({ kind: "filter", fn: syncFn("filter", fn, f) as (v: unknown) => boolean, ...rich(fn) }, "filter");
  }

  /** Turns every record into zero or more records (`fn`: a function or a {@link RichFlatMapFunction}). */
  flatMap<O>(fn: ((value: T) => Iterable<O>) | RichFlatMapFunction<T, O>): DataStream<O> {
    const f = typeof fn === "function" ? fn : (v: T) => fn.flatMap(v);
    const op = { kind: "flatMap" as const, fn: syncFn("flatMap", fn, f) as (v: unknown) => Iterable<unknown> };
    return this.add({ ...op, ...rich(fn) }, "flatMap");
  }

  /**
   * Processes each record with a {@link ProcessFunction}: emit any number of records,
   * send some to side outputs with `ctx.output(tag, v)`. No keyed state or timers;
   * `keyBy()` first for those.
   */
  process<O>(fn: ProcessFunction<T, O>): DataStream<O> {
    syncFn("process", fn, fn.processElement);
    const keyedOnly = (["state", "onTimer"] as const).filter((k) => k in fn);
    if (keyedOnly.length > 0) {
      throw new JobDefinitionError(
        `process(): keyed state and timers (${keyedOnly.join(", ")}) need a keyed stream; call keyBy() before process()`,
      );
    }
    return this.add({ kind: "streamProcess", fn: fn as unknown as ProcessFunction<unknown, unknown> }, "process");
  }

  /**
   * The records the operator that produced this stream sent to side output `tag`
   * (with `ctx.output(tag, value)`, or late window data). Side outputs nobody reads
   * are dropped.
   */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    const node = this.node("getSideOutput()");
    if (!emitsSideOutputs(node.op.kind)) {
      throw new JobDefinitionError(
        `getSideOutput('${tag.id}'): '${node.name}' has no side outputs (only process functions and windows do)`,
      );
    }
    return new DataStream<X>(this.builder, [{ node: node.id, partition: undefined, output: tag.id }]);
  }

  /**
   * Assigns event times and generates watermarks.
   *
   * @example
   * ```ts
   * bids.assignTimestampsAndWatermarks(
   *   WatermarkStrategy.forBoundedOutOfOrderness<Bid>(4000).withTimestampAssigner((b) => b.dateTime),
   * );
   * ```
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    return this.add({ kind: "timestamps", strategy: strategy as WatermarkStrategy<unknown> }, "timestamps");
  }

  /**
   * Connects two streams for a two-input operator that shares keyed state across both;
   * or, with a {@link BroadcastStream}, for a {@link BroadcastProcessFunction}.
   */
  connect<B>(other: BroadcastStream<B>): BroadcastConnectedStreams<T, B>;
  connect<B>(other: DataStream<B>): ConnectedStreams<T, B>;
  connect<B>(other: DataStream<B> | BroadcastStream<B>): ConnectedStreams<T, B> | BroadcastConnectedStreams<T, B> {
    if (other.builder !== this.builder) throw new JobDefinitionError("connect: streams belong to different jobs");
    if (other instanceof BroadcastStream) return new BroadcastConnectedStreams<T, B>(this, other);
    return new ConnectedStreams<T, B>(this, other);
  }

  /** Merges this stream with others of the same type. */
  union(...others: DataStream<T>[]): DataStream<T> {
    for (const o of others) {
      if (o.builder !== this.builder) throw new JobDefinitionError("union: streams belong to different jobs");
    }
    return new DataStream<T>(this.builder, [...this.edges, ...others.flatMap((o) => o.edges)]);
  }

  /** Partitions the stream by key; keyed operators follow. */
  keyBy<K extends Key>(key: KeySelector<T, K>): KeyedStream<T, K> {
    return new KeyedStream<T, K>(
      this.builder,
      this.repartition({ kind: "hash", key: key as KeySelector<unknown, Key> }),
    );
  }

  /** Distributes records round-robin over the next operator's partitions. */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.builder, this.repartition({ kind: "rebalance" }));
  }

  /**
   * Sends every record to every partition of the next operator. With broadcast
   * state descriptors, returns a {@link BroadcastStream} to `connect` to (the
   * broadcast state pattern, see `core/api/broadcast.ts`).
   */
  broadcast(): DataStream<T>;
  broadcast(
    ...descriptors: [MapStateDescriptor<Key, unknown>, ...MapStateDescriptor<Key, unknown>[]]
  ): BroadcastStream<T>;
  broadcast(...descriptors: MapStateDescriptor<Key, unknown>[]): DataStream<T> | BroadcastStream<T> {
    const edges = this.repartition({ kind: "broadcast" });
    if (descriptors.length > 0) return new BroadcastStream<T>(this.builder, edges, descriptors);
    return new DataStream<T>(this.builder, edges);
  }

  /** Keeps records in the same partition index (parallelism must match). */
  forward(): DataStream<T> {
    return new DataStream<T>(this.builder, this.repartition({ kind: "forward" }));
  }

  private repartition(partition: PartitionSpec): InputEdge[] {
    checkNotBroadcast(this.edges, partition.kind);
    return this.edges.map((e) => ({ ...e, partition }));
  }

  /**
   * Writes the stream to the job's committed output named `name`. Records appear
   * there exactly once, when the checkpoint of their epoch completes.
   */
  sinkTo(name: string): DataStreamSink {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new JobDefinitionError(`sink name '${name}' must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'`);
    }
    return new DataStreamSink(this.add({ kind: "sink", sink: name, print: false }, `sink(${name})`));
  }

  /**
   * Writes the stream to a user's transactional sink, bound to checkpoints: each
   * epoch's records become one transaction per partition, pre-committed at the
   * barrier and committed when the checkpoint completes. See {@link TwoPhaseCommitSink}.
   */
  addSink<TXN>(sink: TwoPhaseCommitSink<T, TXN>): DataStreamSink {
    checkSink(sink);
    const op = { kind: "twoPhaseSink" as const, sink: sink as unknown as TwoPhaseCommitSink<unknown, unknown> };
    return new DataStreamSink(this.add(op, "two-phase-sink"));
  }

  /** Prints committed records to stdout (the sink named `print`). */
  print(): DataStreamSink {
    return new DataStreamSink(this.add({ kind: "sink", sink: "print", print: true }, "print"));
  }
}

/** The end of a stream: a sink. Nothing can read from it; it can be named and sized. */
export class DataStreamSink {
  private readonly stream: DataStream<unknown>;
  /** @internal */
  constructor(stream: DataStream<unknown>) {
    this.stream = stream;
  }
  /** Gives the sink a stable id. */
  uid(uid: string): this {
    this.stream.uid(uid);
    return this;
  }
  /** Sets the sink's parallelism (default: its input's). */
  setParallelism(parallelism: number): this {
    this.stream.setParallelism(parallelism);
    return this;
  }
  /** Sets a display name. */
  name(name: string): this {
    this.stream.name(name);
    return this;
  }
}

/** A stream partitioned by key. Keyed operators keep state per key. */
export class KeyedStream<T, K extends Key> extends DataStream<T> {
  /** The key selector this stream is keyed by. */
  get keySelector(): KeySelector<T, K> {
    const p = this.edges[0]?.partition;
    if (p?.kind !== "hash") throw new JobDefinitionError("keyed stream without a key");
    return p.key as KeySelector<T, K>;
  }

  /** The same records as a plain stream (the key is dropped; the next edge is forward/rebalance again). */
  asStream(): DataStream<T> {
    return new DataStream<T>(
      this.builder,
      this.edges.map((e) => ({ ...e, partition: undefined })),
    );
  }

  /** Connects a broadcast stream (see {@link DataStream.connect}); the result's process is keyed. */
  override connect<B>(other: BroadcastStream<B>): KeyedBroadcastConnectedStreams<T, B, K>;
  override connect<B>(other: DataStream<B>): ConnectedStreams<T, B>;
  override connect<B>(
    other: DataStream<B> | BroadcastStream<B>,
  ): ConnectedStreams<T, B> | KeyedBroadcastConnectedStreams<T, B, K> {
    if (other instanceof BroadcastStream) {
      if (other.builder !== this.builder) throw new JobDefinitionError("connect: streams belong to different jobs");
      return new KeyedBroadcastConnectedStreams<T, B, K>(this, other);
    }
    return super.connect(other);
  }

  /** Processes each record with keyed state and timers. */
  override process<O, S extends StateSpec = Record<never, never>>(fn: KeyedProcessFunction<T, K, S, O>): DataStream<O> {
    syncFn("process", fn, fn.processElement);
    return this.add(
      { kind: "process", fn: fn as unknown as KeyedProcessFunction<unknown, Key, StateSpec, unknown> },
      "process",
    );
  }

  /** Groups the keyed stream into windows. */
  window(assigner: WindowAssigner): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this.builder, this.edges, assigner);
  }

  /**
   * Count windows: with one argument, tumbling windows of `size` elements per key
   * (fired and purged every `size`); with `slide`, the last `size` elements, fired
   * every `slide` elements.
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K> {
    const w = this.window(GlobalWindows.create());
    if (slide === undefined) return w.trigger(PurgingTrigger.of(CountTrigger.of(size)));
    return w.evictor(CountEvictor.of(size)).trigger(CountTrigger.of(slide));
  }

  /** Rolling reduce: emits the running result after every record. */
  reduce(fn: (acc: T, value: T) => T): DataStream<T> {
    return this.add(
      rolling<T>((acc, v) => (acc === undefined ? v : fn(acc, v))),
      "reduce",
    );
  }

  /**
   * Rolling sum. On a stream of numbers, omit `field`; on objects, sums `field` and
   * emits the first record of the key with that field replaced (as Flink does).
   */
  sum(field?: NumericKeys<T>): DataStream<T> {
    return this.add(
      rolling<T>(fieldFold(field, (a, b) => a + b)),
      field === undefined ? "sum" : `sum(${String(field)})`,
    );
  }

  /** Rolling minimum of `field` (or of the value, for numbers). */
  min(field?: NumericKeys<T>): DataStream<T> {
    return this.add(rolling<T>(fieldFold(field, Math.min)), field === undefined ? "min" : `min(${String(field)})`);
  }

  /** Rolling maximum of `field` (or of the value, for numbers). */
  max(field?: NumericKeys<T>): DataStream<T> {
    return this.add(rolling<T>(fieldFold(field, Math.max)), field === undefined ? "max" : `max(${String(field)})`);
  }
}

/**
 * A `.broadcast()` that a later partitioning would silently replace (a keyed
 * operator can take only records of the keys it owns) is a mistake in the job.
 */
function checkNotBroadcast(edges: readonly InputEdge[], next: PartitionSpec["kind"]): void {
  if (next === "broadcast" || !edges.some((e) => e.partition?.kind === "broadcast")) return;
  const how = next === "hash" ? "keyBy()" : `${next}()`;
  throw new JobDefinitionError(
    `.broadcast() followed by ${how}: the ${how} would replace the broadcast, so drop one of them`,
  );
}

/** Two streams connected for a two-input operator. */
export class ConnectedStreams<A, B> {
  private readonly first: DataStream<A>;
  private readonly second: DataStream<B>;
  /** @internal */
  constructor(a: DataStream<A>, b: DataStream<B>) {
    this.first = a;
    this.second = b;
  }

  /** Keys both inputs; records with equal keys meet in the same keyed state. */
  keyBy<K extends Key>(keyA: KeySelector<A, K>, keyB: KeySelector<B, K>): KeyedConnectedStreams<A, B, K> {
    checkNotBroadcast([...this.first.edges, ...this.second.edges], "hash");
    const edges: InputEdge[] = [
      ...this.first.edges.map((e) => ({
        ...e,
        partition: { kind: "hash" as const, key: keyA as KeySelector<unknown, Key> },
        side: 0 as const,
      })),
      ...this.second.edges.map((e) => ({
        ...e,
        partition: { kind: "hash" as const, key: keyB as KeySelector<unknown, Key> },
        side: 1 as const,
      })),
    ];
    return new KeyedConnectedStreams<A, B, K>(this.first.builder, edges);
  }
}

/** Two keyed streams connected for a keyed two-input operator. */
export class KeyedConnectedStreams<A, B, K extends Key> {
  private readonly builder: GraphBuilder;
  private readonly edges: readonly InputEdge[];
  /** @internal */
  constructor(builder: GraphBuilder, edges: readonly InputEdge[]) {
    this.builder = builder;
    this.edges = edges;
  }

  /** Processes both inputs with shared keyed state and timers. */
  process<O, S extends StateSpec = Record<never, never>>(fn: KeyedCoProcessFunction<A, B, K, S, O>): DataStream<O> {
    const id = this.builder.add(
      { kind: "coProcess", fn: fn as unknown as KeyedCoProcessFunction<unknown, unknown, Key, StateSpec, unknown> },
      "coProcess",
      this.edges,
    );
    return new DataStream<O>(this.builder, [{ node: id, partition: undefined }]);
  }
}

/** A stream connected with a {@link BroadcastStream}: finish it with `process`. */
export class BroadcastConnectedStreams<A, B> {
  /** @internal */
  protected readonly builder: GraphBuilder;
  /** @internal Side 0: the main stream's edges; side 1: the broadcast edges. */
  protected readonly edges: readonly InputEdge[];
  /** @internal */
  protected readonly descriptors: readonly MapStateDescriptor<Key, unknown>[];
  /** @internal */
  constructor(main: DataStream<A>, broadcast: BroadcastStream<B>) {
    this.builder = main.builder;
    this.descriptors = broadcast.descriptors;
    this.edges = [...main.edges.map((e) => ({ ...e, side: 0 as const })), ...broadcast.edges];
  }

  /** Processes both inputs with a {@link BroadcastProcessFunction}. */
  process<O>(fn: BroadcastProcessFunction<A, B, O>): DataStream<O> {
    syncFn("process", fn, fn.processElement);
    syncFn("process", fn, fn.processBroadcastElement);
    const op = {
      kind: "broadcastProcess" as const,
      fn: fn as BroadcastProcessFunction<unknown, unknown, unknown>,
      descriptors: this.descriptors,
    };
    return new DataStream<O>(this.builder, [
      { node: this.builder.add(op, "broadcastProcess", this.edges), partition: undefined },
    ]);
  }
}

/** A keyed stream connected with a {@link BroadcastStream}: finish it with `process`. */
export class KeyedBroadcastConnectedStreams<A, B, K extends Key> extends BroadcastConnectedStreams<A, B> {
  /** @internal */
  declare readonly keyType?: K;

  /** Processes both inputs with a {@link KeyedBroadcastProcessFunction}: keyed state and timers on the keyed side. */
  override process<O, S extends StateSpec = Record<never, never>>(
    fn: KeyedBroadcastProcessFunction<A, B, K, S, O>,
  ): DataStream<O> {
    syncFn("process", fn, fn.processElement);
    syncFn("process", fn, fn.processBroadcastElement);
    const op = {
      kind: "keyedBroadcastProcess" as const,
      fn: fn as unknown as KeyedBroadcastProcessFunction<unknown, unknown, Key, StateSpec, unknown>,
      descriptors: this.descriptors,
    };
    const id = this.builder.add(op, "keyedBroadcastProcess", this.edges);
    return new DataStream<O>(this.builder, [{ node: id, partition: undefined }]);
  }
}

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
