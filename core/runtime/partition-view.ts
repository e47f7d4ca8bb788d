/**
 * The in-memory view of one task partition: what its committed segments add up to
 * (channel positions, output seqs, operator state, watermarks, the reorder
 * buffer), plus the live objects built from it (chain, router, keyed cache). A warm
 * runner keeps it between batches; a cold one rebuilds it from the store.
 */

import type { SplitReader } from "../api/source.ts";
import type { Envelope } from "../envelope.ts";
import type { Segment } from "../ports/state-store.ts";

/** Committed bookkeeping of a partition, folded from its segments. */
export class PartitionView {
  /** Number of the last committed segment. */
  lastSegment = 0;
  /** Outboxes of segments up to here are confirmed sent. */
  sentThrough = 0;
  /** Input channel → last seq consumed. */
  readonly positions = new Map<string, number>();
  /** Output channel (`task#partition`, or `$poll`) → last seq used. */
  readonly outSeqs = new Map<string, number>();
  /** Partition-scoped operator state (source positions). */
  readonly opState = new Map<string, unknown>();
  /** Input channel → watermark. */
  readonly watermarks = new Map<string, number>();
  /** Input channels that delivered end-of-input. */
  readonly ended = new Set<string>();
  /** True once end-of-input was forwarded. */
  finished = false;
  /** Envelopes that arrived ahead of their turn: channel → seq → envelope. */
  readonly buffer = new Map<string, Map<number, Envelope>>();
  /** Committed segments whose outbox is not yet confirmed sent. */
  unsent: Segment[] = [];
  /** Open split readers of a source partition, by split id. */
  readonly readers = new Map<string, SplitReader<unknown>>();

  /** Folds one committed segment into the view. */
  apply(seg: Segment): void {
    this.lastSegment = seg.n;
    for (const [c, s] of Object.entries(seg.positions)) this.positions.set(c, s);
    for (const [c, s] of Object.entries(seg.outSeqs)) this.outSeqs.set(c, s);
    if (seg.opState) for (const [k, v] of Object.entries(seg.opState)) this.opState.set(k, v);
    if (seg.watermarks) for (const [c, w] of Object.entries(seg.watermarks)) this.watermarks.set(c, w);
    if (seg.ended) for (const c of seg.ended) this.ended.add(c);
    if (seg.finished) this.finished = true;
    if (seg.buffered) {
      for (const e of seg.buffered) {
        let m = this.buffer.get(e.from);
        if (!m) {
          m = new Map();
          this.buffer.set(e.from, m);
        }
        m.set(e.seq, e);
      }
    }
    // Drop buffered envelopes that are now consumed.
    for (const c of Object.keys(seg.positions)) {
      const m = this.buffer.get(c);
      if (!m) continue;
      const pos = this.positions.get(c) ?? 0;
      for (const s of m.keys()) if (s <= pos) m.delete(s);
      if (m.size === 0) this.buffer.delete(c);
    }
    this.unsent.push(seg);
    this.unsent = this.unsent.filter((s) => s.n > seg.sentThrough);
  }

  /** The buffered envelope `seq` of `channel`, if any. */
  buffered(channel: string, seq: number): Envelope | undefined {
    return this.buffer.get(channel)?.get(seq);
  }

  /** Combined watermark over `channels`: ended channels count as +∞. */
  watermarkOver(
    channels: readonly string[],
    pending?: ReadonlyMap<string, number>,
    ended?: ReadonlySet<string>,
  ): number {
    let min = Number.POSITIVE_INFINITY;
    for (const c of channels) {
      if (this.ended.has(c) || ended?.has(c)) continue;
      const w = pending?.get(c) ?? this.watermarks.get(c) ?? Number.NEGATIVE_INFINITY;
      if (w < min) min = w;
    }
    return min;
  }
}
