/**
 * The in-memory view of one task partition: what its committed segments add up to
 * (channel positions, output seqs, operator state, watermarks, the reorder
 * buffer), plus the live objects built from it (chain, router, keyed cache). A warm
 * runner keeps it between batches; a cold one rebuilds it from the store.
 */

import type { SplitReader } from "../api/source.ts";
import type { Envelope } from "../envelope.ts";
import type { Aligning, PartitionBase, Segment } from "./segment.ts";

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
  /** Barrier alignment in progress. */
  aligning: Aligning | undefined;
  /** Committed segments whose outbox is not yet confirmed sent. */
  unsent: Segment[] = [];
  /** Records two-phase sinks staged in the current epoch's segments, by operator uid. */
  readonly staged = new Map<string, unknown[]>();
  /** Open split readers of a source partition, by split id. */
  readonly readers = new Map<string, SplitReader<unknown>>();

  /** A view that starts from a compacted base. */
  static fromBase(base: PartitionBase | undefined): PartitionView {
    const v = new PartitionView();
    if (!base) return v;
    v.lastSegment = base.through;
    v.sentThrough = base.sentThrough;
    for (const [c, s] of Object.entries(base.positions)) v.positions.set(c, s);
    for (const [c, s] of Object.entries(base.outSeqs)) v.outSeqs.set(c, s);
    for (const [k, x] of Object.entries(base.opState)) v.opState.set(k, x);
    for (const [c, w] of Object.entries(base.watermarks)) v.watermarks.set(c, w);
    for (const c of base.ended) v.ended.add(c);
    v.finished = base.finished;
    v.aligning = base.aligning;
    v.addBuffered(base.buffered);
    return v;
  }

  /** The view as a compacted base (its unsent outboxes must be empty). */
  toBase(): PartitionBase {
    if (this.unsent.length > 0) throw new Error(`cannot compact: segment ${this.unsent[0]?.n} is not confirmed sent`);
    return {
      through: this.lastSegment,
      sentThrough: this.sentThrough,
      positions: Object.fromEntries(this.positions),
      outSeqs: Object.fromEntries(this.outSeqs),
      opState: Object.fromEntries(this.opState),
      watermarks: Object.fromEntries(this.watermarks),
      ended: [...this.ended],
      finished: this.finished,
      buffered: [...this.buffer.values()].flatMap((m) => [...m.values()]),
      ...(this.aligning ? { aligning: this.aligning } : {}),
    };
  }

  private addBuffered(envelopes: readonly Envelope[]): void {
    for (const e of envelopes) {
      let m = this.buffer.get(e.from);
      if (!m) {
        m = new Map();
        this.buffer.set(e.from, m);
      }
      m.set(e.seq, e);
    }
  }

  /** Folds one committed segment into the view. */
  apply(seg: Segment): void {
    this.lastSegment = seg.n;
    if (seg.sentThrough > this.sentThrough) this.sentThrough = seg.sentThrough;
    for (const [c, s] of Object.entries(seg.positions)) this.positions.set(c, s);
    for (const [c, s] of Object.entries(seg.outSeqs)) this.outSeqs.set(c, s);
    if (seg.opState) for (const [k, v] of Object.entries(seg.opState)) this.opState.set(k, v);
    if (seg.watermarks) for (const [c, w] of Object.entries(seg.watermarks)) this.watermarks.set(c, w);
    if (seg.ended) for (const c of seg.ended) this.ended.add(c);
    if (seg.finished) this.finished = true;
    if (seg.aligning !== undefined) this.aligning = seg.aligning ?? undefined;
    if (seg.buffered) this.addBuffered(seg.buffered);
    if (seg.staged) {
      for (const [uid, vs] of Object.entries(seg.staged)) {
        const all = this.staged.get(uid);
        if (all) for (const v of vs) all.push(v);
        else this.staged.set(uid, [...vs]);
      }
    }
    if (seg.endsEpoch !== undefined || seg.finished) this.staged.clear();
    // Drop buffered envelopes that are now consumed.
    for (const c of Object.keys(seg.positions)) {
      const m = this.buffer.get(c);
      if (!m) continue;
      const pos = this.positions.get(c) ?? 0;
      for (const s of m.keys()) if (s <= pos) m.delete(s);
      if (m.size === 0) this.buffer.delete(c);
    }
    this.unsent.push(seg);
    if (this.unsent.length > 1 || seg.n <= this.sentThrough)
      this.unsent = this.unsent.filter((s) => s.n > this.sentThrough);
  }

  /** Forgets buffered envelopes of generations before `generation` (after a restore). */
  dropOlderThan(generation: number): void {
    for (const [c, m] of this.buffer) {
      for (const [s, e] of m) if (e.gen < generation) m.delete(s);
      if (m.size === 0) this.buffer.delete(c);
    }
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
