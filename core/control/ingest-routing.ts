/**
 * Where ingested records go: an ingest source's log partitions and the source task
 * partition that reads each. Shared by every {@link JobControl} implementation.
 */

import { type IngestDescriptor, ingestReaderPartition, isIngestSource } from "../api/ingest.ts";
import { type OutboxEntry, START_CHANNEL } from "../envelope.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { murmur3 } from "../keys.ts";

/** An ingest source and the task that reads it. */
export interface IngestRoute extends IngestDescriptor {
  /** Id of the source's task. */
  readonly task: string;
  /** Parallelism of that task. */
  readonly parallelism: number;
}

/** Every ingest source of a planned job, by name. */
export function ingestRoutes(graph: JobGraph, plan: Plan): Map<string, IngestRoute> {
  const routes = new Map<string, IngestRoute>();
  for (const task of plan.tasks) {
    const head = task.operators[0];
    const node = head ? graph.nodes[head.node] : undefined;
    if (node?.op.kind !== "source" || !isIngestSource(node.op.source)) continue;
    const d = node.op.source.ingest;
    routes.set(d.name, { ...d, task: task.id, parallelism: task.parallelism });
  }
  return routes;
}

let spread = 0;

/** The log partition for a request: by `key` when given, else round robin. */
export function ingestPartition(route: IngestRoute, key: string | undefined): number {
  if (key !== undefined) return murmur3(key) % route.partitions;
  spread = (spread + 1) % route.partitions;
  return spread;
}

/** The signal that wakes the source partition reading log partition `partition`. */
export function wakeEntry(route: IngestRoute, partition: number, generation: number): OutboxEntry {
  return {
    to: { task: route.task, partition: ingestReaderPartition(partition, route.parallelism) },
    envelope: { gen: generation, from: START_CHANNEL, seq: 0, records: [], signal: { kind: "start" } },
  };
}
