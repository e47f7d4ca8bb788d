/**
 * The stream half of the broadcast state pattern: what `stream.broadcast(descriptor)`
 * returns; and the check that no later partitioning replaces a `.broadcast()`.
 */

import { JobDefinitionError } from "../errors.ts";
import type { InputEdge, PartitionSpec } from "../graph/graph.ts";
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

/**
 * A `.broadcast()` that a later partitioning would silently replace (a keyed
 * operator can take only records of the keys it owns) is a mistake in the job:
 * throws when `edges` hold a broadcast edge and `next` is another partitioning.
 */
export function checkNotBroadcast(edges: readonly InputEdge[], next: PartitionSpec["kind"]): void {
  if (next === "broadcast" || !edges.some((e) => e.partition?.kind === "broadcast")) return;
  const how = next === "hash" ? "keyBy()" : `${next}()`;
  throw new JobDefinitionError(
    `.broadcast() followed by ${how}: the ${how} would replace the broadcast, so drop one of them`,
  );
}
