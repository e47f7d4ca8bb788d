/**
 * The DataStream API, close to Flink's: build a graph of transformations from
 * sources to sinks. Nothing runs here; a runtime plans and executes the graph.
 *
 * The two-input and window methods (`connect`, `window`, `countWindow`) return
 * classes that return `DataStream`s again, so they are declared next to those
 * classes: `connected-streams.ts` and `windowed-stream.ts` add them to
 * {@link DataStream} and {@link KeyedStream} (a module augmentation).
 * `environment.ts`, where every stream starts, loads both.
 */

import { JobDefinitionError } from "../errors.ts";
import type { GraphNode, InputEdge, NodeOp, PartitionSpec } from "../graph/graph.ts";
import type { Key } from "../keys.ts";
import { checkName } from "../names.ts";
import { emitsSideOutputs } from "../operators/side-output.ts";
import type { MapStateDescriptor } from "./broadcast.ts";
import { BroadcastStream, checkNotBroadcast } from "./broadcast-stream.ts";
import { DataStreamSink } from "./datastream-sink.ts";
import { impliedTimersOf, rich, syncFn } from "./function-checks.ts";
import type {
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
import { checkSink, type TwoPhaseCommitSink } from "./two-phase-sink.ts";
import type { WatermarkStrategy } from "./watermarks.ts";

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
    this.node("uid()").uid = checkName("uid", uid);
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
   * the job (an `AsyncResultError` naming the operator).
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
    checkName("sink name", name);
    return new DataStreamSink(this.add({ kind: "sink", sink: name, print: false }, `sink(${name})`));
  }

  /**
   * Writes the stream to the dynamic table `name`: its committed changelog, readable at
   * every completed checkpoint as a table (`riffle query`, `GET /jobs/{job}/tables/{name}`)
   * and from any checkpoint on as a stream of changes. Records are row objects (inserts)
   * or `{kind, row}` changes (`+I`, `-U`, `+U`, `-D`, as `toChangelogStream` makes them).
   * With `primaryKey` the table keeps one row per key (an upsert table; a key's changes
   * must come from one partition, e.g. key the stream by it); without, every insert is a
   * new row (an append table). `columns` is the column list of a `CREATE TABLE`, e.g.
   * `"user VARCHAR, total BIGINT"`, which queries read the table with.
   */
  toTable(
    name: string,
    options: { readonly columns: string; readonly primaryKey?: readonly string[] },
  ): DataStreamSink {
    checkName("table name", name);
    if (typeof options?.columns !== "string" || options.columns.trim() === "")
      throw new JobDefinitionError(`table '${name}' needs its columns, e.g. { columns: "user VARCHAR, n BIGINT" }`);
    if (options.primaryKey !== undefined && options.primaryKey.length === 0)
      throw new JobDefinitionError(`table '${name}' has an empty primary key (leave it out for an append table)`);
    const table = {
      name,
      columns: options.columns,
      ...(options.primaryKey ? { primaryKey: [...options.primaryKey] } : {}),
    };
    return new DataStreamSink(this.add({ kind: "sink", sink: name, print: false, table }, `table(${name})`));
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

  /** Processes each record with keyed state and timers. */
  override process<O, S extends StateSpec = Record<never, never>>(fn: KeyedProcessFunction<T, K, S, O>): DataStream<O> {
    syncFn("process", fn, fn.processElement);
    impliedTimersOf("process", fn as never);
    return this.add(
      { kind: "process", fn: fn as unknown as KeyedProcessFunction<unknown, Key, StateSpec, unknown> },
      "process",
    );
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
