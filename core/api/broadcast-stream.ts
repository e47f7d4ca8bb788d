/** The stream half of the broadcast state pattern: what `stream.broadcast(descriptor)` returns. */

import { JobDefinitionError } from "../errors.ts";
import type { InputEdge } from "../graph/graph.ts";
import type { Key } from "../keys.ts";
import type { MapStateDescriptor } from "./broadcast.ts";
import type { GraphBuilder } from "./graph-builder.ts";

/**
 * A stream broadcast with its broadcast state descriptors (`stream.broadcast(desc)`).
 * Its only use is `connect`: `keyed.connect(b)` or `stream.connect(b)`.
 */
export class BroadcastStream<T> {
  /** @internal */
  readonly builder: GraphBuilder;
  /** @internal The upstream node(s), each with a broadcast edge. */
  readonly edges: readonly InputEdge[];
  /** The broadcast state this stream's consumer may write. */
  readonly descriptors: readonly MapStateDescriptor<Key, unknown>[];
  /** @internal Type witness only. */
  declare readonly element?: T;

  /** @internal */
  constructor(
    builder: GraphBuilder,
    edges: readonly InputEdge[],
    descriptors: readonly MapStateDescriptor<Key, unknown>[],
  ) {
    const names = descriptors.map((d) => d.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new JobDefinitionError(`broadcast(): two descriptors are named '${twice}'`);
    this.builder = builder;
    this.edges = edges.map((e) => ({ ...e, partition: { kind: "broadcast" as const }, side: 1 as const }));
    this.descriptors = descriptors;
  }
}
