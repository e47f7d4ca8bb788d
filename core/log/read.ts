/**
 * Reading a partition's log consistently: its base and the segments above it, as
 * one snapshot, and the view they fold to. A compaction elsewhere (another Lambda,
 * the coordinator) may land between the two reads and move the base past the
 * first segment read; the reader then reads both again.
 */

import { RiffleError } from "../errors.ts";
import type { PayloadsWanted, StateStore } from "../ports/state-store.ts";
import type { PartitionBase, Segment } from "./segment.ts";
import { PartitionView } from "./view.ts";

/** A partition's base and uncompacted segments, read as one consistent snapshot. */
export interface PartitionLog {
  readonly base: PartitionBase | undefined;
  /** Segments above `base.through`, ascending and gapless. */
  readonly segments: readonly Segment[];
}

/** Reads that a compaction may race before the reader gives up. */
const RE_READS = 5;

/** A partition's log kept changing under the reader (a compaction loop); retry later. */
export class LogReadRaceError extends RiffleError {
  constructor(task: string, partition: number) {
    super("log-read-race", `${task}[${partition}]: the log was compacted under every read; try again`, {
      retryable: true,
    });
  }
}

/**
 * Reads `task[partition]`'s base and segments consistently (see the module comment),
 * with the segments' payloads as `payloads` says (a partition's view needs `unsent`).
 */
export async function readPartition(
  store: Pick<StateStore, "readBase" | "readSegments">,
  task: string,
  partition: number,
  payloads: PayloadsWanted = "all",
): Promise<PartitionLog> {
  for (let i = 0; i <= RE_READS; i++) {
    const base = await store.readBase(task, partition);
    const segments = await store.readSegments(task, partition, base?.through ?? 0, payloads);
    if (segments.length === 0 || segments[0]?.n === (base?.through ?? 0) + 1) return { base, segments };
  }
  throw new LogReadRaceError(task, partition);
}

/** Folds a log into a view, up to segment `through` (all segments when absent). */
export function foldLog(log: PartitionLog, through = Number.POSITIVE_INFINITY): PartitionView {
  const view = PartitionView.fromBase(log.base);
  for (const seg of log.segments) {
    if (seg.n > through) break;
    view.apply(seg);
  }
  return view;
}

/**
 * The folded view of `task[partition]`, up to segment `through` (all when absent),
 * with the payloads `payloads` says (`none` for a view read only for its positions,
 * operator state or flags: its outboxes are then empty).
 */
export async function foldPartition(
  store: Pick<StateStore, "readBase" | "readSegments">,
  task: string,
  partition: number,
  through?: number,
  payloads: PayloadsWanted = "all",
): Promise<PartitionView> {
  return foldLog(await readPartition(store, task, partition, payloads), through);
}
