/**
 * Where ingested records go: an ingest source's log partitions and the source task
 * partition that reads each. Shared by every {@link JobControl} implementation.
 */

import { type IngestDescriptor, ingestReaderPartition, isIngestSource } from "../api/ingest.ts";
import { type OutboxEntry, START_CHANNEL } from "../envelope.ts";
import { RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { murmur3 } from "../keys.ts";
import type { IngestLog } from "../ports/ingest-log.ts";
import type { IngestSourceInfo } from "./job-control.ts";
import { WakeWindow } from "./wake-window.ts";

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

/** The signal that wakes the source partition reading log partition `partition` (windowed up to `until`, if given). */
export function wakeEntry(route: IngestRoute, partition: number, generation: number, until?: number): OutboxEntry {
  const signal = until === undefined ? { kind: "start" as const } : { kind: "start" as const, until };
  return {
    to: { task: route.task, partition: ingestReaderPartition(partition, route.parallelism) },
    envelope: { gen: generation, from: START_CHANNEL, seq: 0, records: [], signal },
  };
}

/** No such ingest source. */
export class UnknownSourceError extends RiffleError {
  constructor(job: string, source: string, known: readonly string[]) {
    super(
      "unknown-source",
      `job '${job}' has no ingest source '${source}'` +
        (known.length ? ` (it has: ${known.join(", ")})` : " (it has none)"),
    );
  }
}

/** The ingest sources of one job: what they accept, and appends to their logs. */
export class IngestRouter {
  private readonly job: string;
  private readonly routes: Map<string, IngestRoute>;
  private readonly window: WakeWindow;

  constructor(graph: JobGraph, plan: Plan) {
    this.job = plan.job;
    this.routes = ingestRoutes(graph, plan);
    this.window = new WakeWindow(graph.config.ingestWindowMs);
  }

  /** The sources, as the HTTP API sees them. */
  sources(): IngestSourceInfo[] {
    return [...this.routes.values()].map((r) => ({
      name: r.name,
      partitions: r.partitions,
      ...(r.schema ? { schema: r.schema } : {}),
    }));
  }

  /**
   * Appends `records` to a log partition of `source`; returns where, and the entry that
   * wakes its reader at `generation` (at `now`, ms: windowed when appends come faster
   * than the job's `ingestWindowMs`; without `now`, a start of its own).
   */
  async append(log: IngestLog, source: string, records: readonly unknown[], key: string | undefined) {
    const route = this.routes.get(source);
    if (!route) throw new UnknownSourceError(this.job, source, [...this.routes.keys()]);
    const partition = ingestPartition(route, key);
    const range = await log.append(this.job, source, partition, records);
    const wake = (generation: number, now?: number) =>
      wakeEntry(
        route,
        partition,
        generation,
        now === undefined ? undefined : this.window.until(`${source}#${partition}`, now),
      );
    return { partition, ...range, wake };
  }
}
