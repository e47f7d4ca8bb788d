/**
 * The band of an interval join (Flink's `IntervalJoin` shape): when the condition bounds the
 * difference of two event-time columns, one per side, by constants on both sides,
 * `other.u + lo <= stored.t <= other.u + hi`, a pair of rows joins only within a band of
 * event time of width `hi - lo`. Such a join runs as the bucketed interval join
 * (band-join.ts): the stored side's rows go to the bucket of event time their `t` falls in, the
 * other side's rows are copied to every bucket their band overlaps, and a bucket is dropped whole
 * once the watermark has passed it, so that a join whose keys are nearly unique (q7's price)
 * keeps one timer and one state entry per bucket and key group, not per row.
 *
 * Bands wider than {@link MAX_BAND_MS} keep the per-key interval join: their buckets would hold
 * many rows per join key, which the per-key layout stores no worse.
 */

import { joinInequalities, shiftedTime } from "./join-bounds.ts";
import type { Rel } from "./logical.ts";

type Join = Extract<Rel, { kind: "join" }>;

/** The widest band (ms) that runs bucketed. */
export const MAX_BAND_MS = 300_000;
/** The narrowest bucket (ms). */
export const MIN_BUCKET_MS = 500;
/** How many buckets a band spans at most, past the narrowest bucket (a copied row goes to at most one more). */
const BUCKETS_PER_BAND = 16;

/** A join's band: pairs join only where `copied.u + lo <= stored.t <= copied.u + hi`. */
export interface Band {
  /** The side whose rows are stored in the one bucket of their time `time` (a column of that side). */
  readonly stored: "left" | "right";
  readonly time: number;
  /** The other side's event-time column (of its own row); its rows are copied to the buckets they may join. */
  readonly copiedTime: number;
  readonly lo: number;
  readonly hi: number;
  /** The width of a bucket (ms). */
  readonly bucketMs: number;
}

/**
 * The band of `j`, if its condition has one no wider than {@link MAX_BAND_MS} (the narrowest
 * when it has several). The copied side is the right one, unless only the left one is an
 * aggregate (whose rows are few: copying them is cheap).
 */
export function bandOf(j: Join): Band | undefined {
  const n = j.left.fields.length;
  const { pairs, isTime } = joinInequalities(j);
  // Per pair of columns (left, right): the bounds on `left.t - right.u`.
  const diffs = new Map<string, { l: number; r: number; min: number; max: number }>();
  for (const [a, b] of pairs) {
    const lo = shiftedTime(a, isTime);
    const hi = shiftedTime(b, isTime);
    if (!lo || !hi || lo.column < n === hi.column < n) continue;
    // lo.column + lo.shift <= hi.column + hi.shift
    const [l, r] = lo.column < n ? [lo.column, hi.column - n] : [hi.column, lo.column - n];
    const key = `${l},${r}`;
    const d = diffs.get(key) ?? { l, r, min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY };
    if (lo.column < n) d.max = Math.min(d.max, hi.shift - lo.shift);
    else d.min = Math.max(d.min, lo.shift - hi.shift);
    diffs.set(key, d);
  }
  let best: { l: number; r: number; min: number; max: number } | undefined;
  for (const d of diffs.values()) {
    const width = d.max - d.min;
    if (!(width >= 0 && width <= MAX_BAND_MS)) continue;
    if (!best || width < best.max - best.min) best = d;
  }
  if (!best) return undefined;
  const bucketMs = Math.max(MIN_BUCKET_MS, Math.ceil((best.max - best.min) / BUCKETS_PER_BAND));
  // left.t - right.u ∈ [min, max]
  if (isAggregate(j.left) && !isAggregate(j.right))
    return { stored: "right", time: best.r, copiedTime: best.l, lo: -best.max, hi: -best.min, bucketMs };
  return { stored: "left", time: best.l, copiedTime: best.r, lo: best.min, hi: best.max, bucketMs };
}

/** True when `rel` is an aggregate, under calcs. */
function isAggregate(rel: Rel): boolean {
  return rel.kind === "aggregate" || (rel.kind === "calc" && isAggregate(rel.input));
}

/** The buckets (`floor(time / bucketMs)`) that a copied row of time `u` may join rows of. */
export function bucketsOf(band: Band, u: number): number[] {
  const first = Math.floor((u + band.lo) / band.bucketMs);
  const last = Math.floor((u + band.hi) / band.bucketMs);
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(k);
  return out;
}

/**
 * The watermark at which bucket `k` is dropped: no stored row of it can arrive any more (their
 * time is at most its end, and each comes above the watermark), and none of its stored rows can
 * join a copied row still to come (whose `u` is above the watermark, so `t - lo` is passed).
 */
export function bucketExpiry(band: Band, k: number): number {
  return (k + 1) * band.bucketMs - 1 + Math.max(0, -band.lo);
}

/** The EXPLAIN part of a band. */
export function describeBand(band: Band, left: readonly string[], right: readonly string[]): string {
  const [stored, copied] = band.stored === "left" ? [left, right] : [right, left];
  const shift = (c: number) => (c > 0 ? ` + ${c}` : c < 0 ? ` - ${-c}` : "");
  const u = copied[band.copiedTime];
  return `band=[${stored[band.time]} BETWEEN ${u}${shift(band.lo)} AND ${u}${shift(band.hi)}], buckets=[${band.bucketMs} ms, ${band.stored} stored]`;
}
