/**
 * Two-input streams: `stream.connect(other)` for a keyed co-process function, and
 * `stream.connect(broadcastStream)` for the broadcast state pattern. This module
 * adds `connect` to {@link DataStream} and {@link KeyedStream} (see the note in
 * `datastream.ts`).
 */

import { JobDefinitionError } from "../errors.ts";
import type { InputEdge } from "../graph/graph.ts";
import type { Key } from "../keys.ts";
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction, MapStateDescriptor } from "./broadcast.ts";
import { BroadcastStream, checkNotBroadcast } from "./broadcast-stream.ts";
import { DataStream, KeyedStream } from "./datastream.ts";
import { impliedTimersOf, syncFn } from "./function-checks.ts";
import type { KeyedCoProcessFunction, KeySelector } from "./functions.ts";
import type { GraphBuilder } from "./graph-builder.ts";
import type { StateSpec } from "./state.ts";

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
    impliedTimersOf("process", fn as never);
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

declare module "./datastream.ts" {
  interface DataStream<T> {
    /**
     * Connects two streams for a two-input operator that shares keyed state across both;
     * or, with a {@link BroadcastStream}, for a {@link BroadcastProcessFunction}.
     */
    connect<B>(other: BroadcastStream<B>): BroadcastConnectedStreams<T, B>;
    connect<B>(other: DataStream<B>): ConnectedStreams<T, B>;
  }
  interface KeyedStream<T, K extends Key> {
    /** Connects a broadcast stream (see {@link DataStream.connect}); the result's process is keyed. */
    connect<B>(other: BroadcastStream<B>): KeyedBroadcastConnectedStreams<T, B, K>;
    connect<B>(other: DataStream<B>): ConnectedStreams<T, B>;
  }
}

function sameJob(a: { builder: GraphBuilder }, b: { builder: GraphBuilder }): void {
  if (a.builder !== b.builder) throw new JobDefinitionError("connect: streams belong to different jobs");
}

function connect(this: DataStream<unknown>, other: DataStream<unknown> | BroadcastStream<unknown>) {
  sameJob(this, other);
  if (other instanceof BroadcastStream) return new BroadcastConnectedStreams(this, other);
  return new ConnectedStreams(this, other);
}

function connectKeyed(this: KeyedStream<unknown, Key>, other: DataStream<unknown> | BroadcastStream<unknown>) {
  if (!(other instanceof BroadcastStream)) return connect.call(this, other);
  sameJob(this, other);
  return new KeyedBroadcastConnectedStreams(this, other);
}

DataStream.prototype.connect = connect as DataStream<unknown>["connect"];
KeyedStream.prototype.connect = connectKeyed as KeyedStream<unknown, Key>["connect"];
