/**
 * The DataStream API, close to Flink's: build a graph of transformations from
 * sources to sinks. Nothing runs here; a runtime plans and executes the graph.
 */

import { JobDefinitionError } from "../errors.ts";
import type { GraphNode, InputEdge, NodeOp, PartitionSpec } from "../graph/graph.ts";
import type { Key } from "../keys.ts";
import { SIDE_OUTPUT, type WindowFold, windowFunction } from "../operators/window.ts";
import type { KeyedCoProcessFunction, KeyedProcessFunction, KeySelector } from "./functions.ts";
import type { GraphBuilder } from "./graph-builder.ts";
import type { StateSpec } from "./state.ts";
import { valueState } from "./state.ts";
import type { WatermarkStrategy } from "./watermarks.ts";
import type { AggregateFunction, OutputTag, TimeWindow, WindowAssigner } from "./windows.ts";

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

  /** Transforms every record. */
  map<O>(fn: (value: T) => O): DataStream<O> {
    return this.add({ kind: "map", fn: fn as (v: unknown) => unknown }, "map");
  }

  /** Keeps the records for which `fn` returns true. */
  filter(fn: (value: T) => boolean): DataStream<T> {
    return this.add({ kind: "filter", fn: fn as (v: unknown) => boolean }, "filter");
  }

  /** Turns every record into zero or more records. */
  flatMap<O>(fn: (value: T) => Iterable<O>): DataStream<O> {
    return this.add({ kind: "flatMap", fn: fn as (v: unknown) => Iterable<unknown> }, "flatMap");
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

  /** Connects two streams for a two-input operator that shares keyed state across both. */
  connect<B>(other: DataStream<B>): ConnectedStreams<T, B> {
    if (other.builder !== this.builder) throw new JobDefinitionError("connect: streams belong to different jobs");
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

  /** Sends every record to every partition of the next operator. */
  broadcast(): DataStream<T> {
    return new DataStream<T>(this.builder, this.repartition({ kind: "broadcast" }));
  }

  /** Keeps records in the same partition index (parallelism must match). */
  forward(): DataStream<T> {
    return new DataStream<T>(this.builder, this.repartition({ kind: "forward" }));
  }

  private repartition(partition: PartitionSpec): InputEdge[] {
    checkNotBroadcast(this.edges, partition.kind);
    return this.edges.map((e) => ({ node: e.node, partition }));
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

type NumericKeys<T> = { [P in keyof T]: T[P] extends number ? P : never }[keyof T];

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
      this.edges.map((e) => ({ node: e.node, partition: undefined })),
    );
  }

  /** Processes each record with keyed state and timers. */
  process<O, S extends StateSpec = Record<never, never>>(fn: KeyedProcessFunction<T, K, S, O>): DataStream<O> {
    return this.add(
      { kind: "process", fn: fn as unknown as KeyedProcessFunction<unknown, Key, StateSpec, unknown> },
      "process",
    );
  }

  /** Groups the keyed stream into windows. */
  window(assigner: WindowAssigner): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this.builder, this.edges, assigner);
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

function fieldFold<T>(
  field: PropertyKey | undefined,
  op: (a: number, b: number) => number,
): (acc: T | undefined, v: T) => T {
  if (field === undefined) {
    return (acc, v) => {
      if (typeof v !== "number")
        throw new TypeError(`expected a number, got ${typeof v}: use sum/min/max(field) on objects`);
      return (acc === undefined ? v : op(acc as number, v)) as T;
    };
  }
  return (acc, v) => {
    const x = (v as Record<PropertyKey, unknown>)[field];
    if (typeof x !== "number") throw new TypeError(`field '${String(field)}' is ${typeof x}, not a number`);
    if (acc === undefined) return v;
    return { ...acc, [field]: op((acc as Record<PropertyKey, number>)[field] as number, x) };
  };
}

function rolling<T>(fold: (acc: T | undefined, value: T) => T): NodeOp {
  const fn: KeyedProcessFunction<T, Key, { acc: ReturnType<typeof valueState<T>> }, T> = {
    state: { acc: valueState<T>() },
    processElement(value, ctx) {
      const next = fold(ctx.state.acc.value(), value);
      ctx.state.acc.update(next);
      ctx.emit(next);
    },
  };
  return { kind: "process", fn: fn as unknown as KeyedProcessFunction<unknown, Key, StateSpec, unknown> };
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
        node: e.node,
        partition: { kind: "hash" as const, key: keyA as KeySelector<unknown, Key> },
        side: 0 as const,
      })),
      ...this.second.edges.map((e) => ({
        node: e.node,
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

/** A keyed stream grouped into windows; finish it with reduce, aggregate or process. */
export class WindowedStream<T, K extends Key> {
  private readonly builder: GraphBuilder;
  private readonly edges: readonly InputEdge[];
  private readonly assigner: WindowAssigner;
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined;

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

  /** Sends records too late for every window to the side output `tag` instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag;
    return this;
  }

  /** Reduces each window; `windowFn` may turn the result into output with the key and window. */
  reduce<O = T>(fn: (a: T, b: T) => T, windowFn?: (key: K, window: TimeWindow, value: T) => O): WindowResultStream<O> {
    return this.build({ kind: "reduce", fn: fn as (a: unknown, b: unknown) => unknown }, windowFn, "window.reduce");
  }

  /** Aggregates each window incrementally; `windowFn` may add the key and window. */
  aggregate<ACC, R, O = R>(
    agg: AggregateFunction<T, ACC, R>,
    windowFn?: (key: K, window: TimeWindow, result: R) => O,
  ): WindowResultStream<O> {
    return this.build(
      { kind: "aggregate", agg: agg as unknown as AggregateFunction<unknown, unknown, unknown> },
      windowFn,
      "window.aggregate",
    );
  }

  /** Processes all records of a window at once (they are buffered in state). */
  process<O>(
    fn: (key: K, window: TimeWindow, elements: readonly T[], out: (o: O) => void) => void,
  ): WindowResultStream<O> {
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
  ): WindowResultStream<O> {
    const fn = windowFunction({
      assigner: this.assigner,
      lateness: this.lateness,
      lateTag: this.lateTag?.id,
      fold,
      emit,
    });
    const eventTime = this.assigner.time === "event" ? { eventTime: true as const } : {};
    const id = this.builder.add({ kind: "process", fn, ...eventTime }, name, this.edges);
    const windowEdges: InputEdge[] = [{ node: id, partition: undefined }];
    if (!this.lateTag) return new WindowResultStream<O>(this.builder, windowEdges, id, undefined);
    const main = this.builder.add(
      { kind: "filter", fn: (v) => !(typeof v === "object" && v !== null && SIDE_OUTPUT in v) },
      "window.main",
      windowEdges,
    );
    return new WindowResultStream<O>(this.builder, [{ node: main, partition: undefined }], id, main);
  }
}

/** The output of a window; `getSideOutput` reaches records routed to a side output. */
export class WindowResultStream<O> extends DataStream<O> {
  private readonly windowNode: number;
  private readonly mainNode: number | undefined;
  /** @internal */
  constructor(builder: GraphBuilder, edges: readonly InputEdge[], windowNode: number, mainNode: number | undefined) {
    super(builder, edges);
    this.windowNode = windowNode;
    this.mainNode = mainNode;
  }

  /** Names the window operator (its state is stored under this uid). */
  override uid(uid: string): this {
    new DataStream(this.builder, [{ node: this.windowNode, partition: undefined }]).uid(uid);
    if (this.mainNode !== undefined)
      new DataStream(this.builder, [{ node: this.mainNode, partition: undefined }]).uid(`${uid}.main`);
    return this;
  }

  /** Sets the window operator's parallelism. */
  override setParallelism(parallelism: number): this {
    new DataStream(this.builder, [{ node: this.windowNode, partition: undefined }]).setParallelism(parallelism);
    if (this.mainNode !== undefined) {
      new DataStream(this.builder, [{ node: this.mainNode, partition: undefined }]).setParallelism(parallelism);
    }
    return this;
  }

  /** The records sent to side output `tag` (e.g. late data). */
  getSideOutput<T>(tag: OutputTag<T>): DataStream<T> {
    const side = this.builder.add(
      {
        kind: "flatMap",
        fn: (v) =>
          typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIDE_OUTPUT] === tag.id
            ? [(v as { value: unknown }).value]
            : [],
      },
      `side(${tag.id})`,
      [{ node: this.windowNode, partition: undefined }],
    );
    return new DataStream<T>(this.builder, [{ node: side, partition: undefined }]);
  }
}
