/**
 * The send of a batch ("Send" in "One batch, end to end", DESIGN.md): the
 * outboxes of a partition's committed segments not yet confirmed sent go to the
 * queue, then the acks of the epochs they end and of end-of-input go to the
 * checkpoint store, each epoch's ack with the bytes the store wrote for it.
 */

import type { PartitionView } from "../log/view.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Queue } from "../ports/queue.ts";
import type { Segment } from "../ports/state-store.ts";
import type { PartitionReport } from "./partition-stats.ts";

/** The partition a sender sends for, and where to. */
export interface SenderTarget {
  readonly job: string;
  readonly task: string;
  readonly partition: number;
  readonly generation: number;
  readonly queue: Queue;
  /** Where acks of epochs and of end-of-input go. Without it, none are written. */
  readonly checkpoints?: CheckpointStore;
  /** The partition's report as of `at`, carried by an epoch's ack. */
  readonly report: (at: number) => PartitionReport | undefined;
}

/** Sends one partition's committed segments and writes their acks. */
export class SegmentSender {
  private readonly target: SenderTarget;
  /** Bytes the store wrote for this partition since its last epoch ended (best effort: memory only). */
  private epochBytes = 0;
  /** Bytes of each epoch-ending segment not yet acked. */
  private readonly bytesByEpoch = new Map<number, number>();

  constructor(target: SenderTarget) {
    this.target = target;
  }

  /** Counts `bytes` the store wrote for a segment of the current epoch. */
  wrote(bytes: number): void {
    this.epochBytes += bytes;
  }

  /** After the commit of `segment`: an epoch-ending segment takes the epoch's bytes. */
  committed(segment: Segment): void {
    if (segment.endsEpoch !== undefined) {
      this.bytesByEpoch.set(segment.n, this.epochBytes);
      this.epochBytes = 0;
    }
  }

  /** Sends the outboxes of committed segments not yet confirmed sent, then writes their acks. */
  async flush(view: PartitionView): Promise<void> {
    const segs = view.unsent;
    if (segs.length === 0) return;
    const entries = segs.length === 1 ? (segs[0] as Segment).outbox : segs.flatMap((s) => s.outbox);
    const { job, task, partition, generation, queue, checkpoints: cp } = this.target;
    if (entries.length > 0) await queue.send(entries);
    if (cp) {
      for (const seg of segs) {
        if (seg.endsEpoch !== undefined) {
          await cp.ack(job, {
            checkpoint: seg.endsEpoch,
            task,
            partition,
            segment: seg.n,
            alignmentMs: seg.alignmentMs ?? 0,
            bytes: this.bytesByEpoch.get(seg.n) ?? 0,
            time: seg.time,
            ...withReport(this.target.report(seg.time)),
          });
        }
        if (seg.finished) await cp.finished(job, { task, partition, segment: seg.n, generation });
      }
    }
    view.sentThrough = (segs[segs.length - 1] as Segment).n;
    view.unsent = [];
    this.bytesByEpoch.clear();
  }
}

/** The ack's `report` field, when there is one. */
function withReport(report: PartitionReport | undefined): { report?: PartitionReport } {
  return report ? { report } : {};
}
