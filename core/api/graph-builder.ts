/**
 * The graph a job's build function accumulates: the environment and every
 * `DataStream` add nodes to one builder, from which `buildGraph` makes the job graph.
 */

import { JobDefinitionError } from "../errors.ts";
import type { GraphNode, InputEdge, NodeOp } from "../graph/graph.ts";

/** @internal Accumulates graph nodes. */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];

  /** Adds a node and returns its id. */
  add(op: NodeOp, name: string, inputs: readonly InputEdge[]): number {
    const id = this.nodes.length;
    this.nodes.push({ id, op, name, uid: undefined, parallelism: undefined, inputs });
    return id;
  }

  /** The node with id `id`; throws {@link JobDefinitionError} when there is none. */
  node(id: number): GraphNode {
    const n = this.nodes[id];
    if (n === undefined) throw new JobDefinitionError(`no node ${id}`);
    return n;
  }
}
