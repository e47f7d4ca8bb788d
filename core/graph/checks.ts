/**
 * Plan-time checks of mistakes the graph shows before anything runs. Each throws a
 * one-line {@link JobDefinitionError}, which the CLI prints as a usage error.
 */

import { isIngestSource } from "../api/ingest.ts";
import { JobDefinitionError, UsageError } from "../errors.ts";
import type { GraphNode, JobGraph } from "./graph.ts";

/**
 * Every operator that needs event time (an event-time window, an interval join) must have an
 * `assignTimestampsAndWatermarks()` on every path from a source to it: without
 * one its records have no event time and no watermark ever closes its windows.
 */
export function checkEventTime(graph: JobGraph, uidOf: (n: GraphNode) => string): void {
  const { nodes } = graph;
  /** The source reachable from `id` without passing a timestamps operator, if any. */
  const untimed = new Map<number, GraphNode | undefined>();
  const sourceWithoutTimes = (id: number): GraphNode | undefined => {
    if (untimed.has(id)) return untimed.get(id);
    untimed.set(id, undefined); // graphs are acyclic; this only guards the recursion
    const n = nodes[id] as GraphNode;
    let found: GraphNode | undefined;
    if (n.op.kind === "source") found = n.op.source.eventTime ? undefined : n;
    else if (n.op.kind !== "timestamps") {
      for (const e of n.inputs) {
        found = sourceWithoutTimes(e.node);
        if (found) break;
      }
    }
    untimed.set(id, found);
    return found;
  };
  for (const n of nodes) {
    if (!((n.op.kind === "process" || n.op.kind === "coProcess") && n.op.eventTime)) continue;
    for (const e of n.inputs) {
      const src = sourceWithoutTimes(e.node);
      if (src) {
        throw new JobDefinitionError(
          `event-time operator '${uidOf(n)}' (${n.name}) gets records from source '${uidOf(src)}' without event times: ` +
            `call assignTimestampsAndWatermarks() upstream of it${n.op.kind === "process" ? ", or use a processing-time window" : ""}`,
        );
      }
    }
  }
}

/**
 * Refuses a job with an ingest source where no ingest log feeds it (`riffle run`, an
 * embedded runtime without `ingest`): its source could never receive a record.
 *
 * @throws UsageError naming the job and the source.
 */
export function checkIngestFed(graph: JobGraph): void {
  for (const n of graph.nodes) {
    if (n.op.kind === "source" && isIngestSource(n.op.source)) {
      throw new UsageError(
        `job '${graph.name}' reads the ingest source '${n.op.source.ingest.name}', which only the HTTP API feeds: ` +
          "run it with `riffle dev`",
      );
    }
  }
}
