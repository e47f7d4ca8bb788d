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

  /**
   * Marks node `id` (a keyed process or co-process function) as needing event times
   * and watermarks from upstream, so `checkEventTime` refuses the job at plan time
   * when a path from a source has none (an interval join, built from a co-process).
   */
  requireEventTime(id: number): void {
    const n = this.node(id);
    if (n.op.kind !== "process" && n.op.kind !== "coProcess") {
      throw new JobDefinitionError(`node ${id} (${n.name}) is not a process function`);
    }
    this.nodes[id] = { ...n, op: { ...n.op, eventTime: true } };
  }
}
