/**
 * A checkpoint in flight: which partitions must ack, which did, and when it is
 * complete. Expected outcomes are values, not exceptions.
 */

import type { CheckpointAck } from "../ports/checkpoint-store.ts";

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
