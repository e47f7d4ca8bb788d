/**
 * A checkpoint in flight: which partitions must ack, which did, and when it is
 * complete. Expected outcomes are values, not exceptions.
 */

import type { CheckpointAck, JobRecord, PendingEntry } from "../ports/checkpoint-store.ts";

/** Result of feeding one ack to a pending checkpoint. */
export const AckResult = {
  /** First ack of this partition for this checkpoint. */
  Success: "success",
  /** This partition already acked. */
  Duplicate: "duplicate",
  /** No such partition in this checkpoint (or no such checkpoint). */
  Unknown: "unknown",
  /** The checkpoint was already aborted. */
  Discarded: "discarded",
} as const;
/** Result of feeding one ack to a pending checkpoint. */
export type AckResult = (typeof AckResult)[keyof typeof AckResult];

/** Tracks the acks of one checkpoint. */
export class PendingCheckpoint {
  readonly id: number;
  readonly triggeredAt: number;
  /** `task#partition` of every partition that must ack. */
  private readonly expected: ReadonlySet<string>;
  private readonly acked = new Map<string, { segment: number; alignmentMs: number; bytes: number }>();
  private aborted = false;

  constructor(id: number, triggeredAt: number, expected: Iterable<string>) {
    this.id = id;
    this.triggeredAt = triggeredAt;
    this.expected = new Set(expected);
  }

  /** Records an ack. */
  acknowledge(
    ack: Pick<CheckpointAck, "checkpoint" | "task" | "partition" | "segment" | "alignmentMs" | "bytes">,
  ): AckResult {
    if (ack.checkpoint !== this.id) return AckResult.Unknown;
    if (this.aborted) return AckResult.Discarded;
    const key = `${ack.task}#${ack.partition}`;
    if (!this.expected.has(key)) return AckResult.Unknown;
    if (this.acked.has(key)) return AckResult.Duplicate;
    this.acked.set(key, { segment: ack.segment, alignmentMs: ack.alignmentMs, bytes: ack.bytes });
    return AckResult.Success;
  }

  /** Marks it aborted; later acks are discarded. */
  abort(): void {
    this.aborted = true;
  }

  /** True once every expected partition acked. */
  get complete(): boolean {
    return !this.aborted && this.acked.size === this.expected.size;
  }

  /** Partitions still missing. */
  missing(): string[] {
    return [...this.expected].filter((k) => !this.acked.has(k));
  }

  /** The cut: partition → segment where the epoch ends. */
  cut(): Record<string, number> {
    return Object.fromEntries([...this.acked].map(([k, a]) => [k, a.segment]));
  }

  /** Longest alignment and total bytes over all acks. */
  totals(): { alignmentMs: number; bytes: number } {
    let alignmentMs = 0;
    let bytes = 0;
    for (const a of this.acked.values()) {
      alignmentMs = Math.max(alignmentMs, a.alignmentMs);
      bytes += a.bytes;
    }
    return { alignmentMs, bytes };
  }
}

/** A job-record change a completion left for the next write; see `CoordinatorOptions.deferred` (`coordinator.ts`). */
export class DeferredRecord {
  change: ((r: JobRecord) => JobRecord) | undefined;

  /** `r` with the change applied. */
  apply(r: JobRecord): JobRecord {
    return this.change ? this.change(r) : r;
  }

  /** Adds `change` after what is already deferred. */
  add(change: (r: JobRecord) => JobRecord): void {
    const before = this.change;
    this.change = before ? (r) => change(before(r)) : change;
  }
}

/** The record's checkpoints in flight that still count: of its generation, past its last completed one. */
export function livePending(job: JobRecord): PendingEntry[] {
  return (job.pending ?? []).filter(
    (e) => e.generation === job.generation && e.id > job.lastCompleted && e.id < job.nextCheckpoint,
  );
}

/**
 * A cut never moves back within a generation: each partition's segment is at least
 * the previous completed cut's. (A finished partition reports its last data segment,
 * yet may have committed barrier segments after it that an earlier cut covers and
 * compaction may already have folded.)
 */
export function monotonicCut(
  cut: Readonly<Record<string, number>>,
  previous: Readonly<Record<string, number>> | undefined,
): Record<string, number> {
  const out: Record<string, number> = { ...cut };
  for (const [k, n] of Object.entries(previous ?? {})) if (k in out) out[k] = Math.max(out[k] ?? 0, n);
  return out;
}

/** A finished partition acks every checkpoint with its last segment. */
export function ackFinished(
  p: PendingCheckpoint,
  finished: readonly { task: string; partition: number; segment: number }[],
): void {
  for (const f of finished) {
    p.acknowledge({
      checkpoint: p.id,
      task: f.task,
      partition: f.partition,
      segment: f.segment,
      alignmentMs: 0,
      bytes: 0,
    });
  }
}
