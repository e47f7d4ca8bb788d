/**
 * Watermark strategies: how a stream's records get event times and how the
 * watermark (the promise "no earlier records follow") advances.
 *
 * @example
 * ```ts
 * stream.assignTimestampsAndWatermarks(
 *   WatermarkStrategy.forBoundedOutOfOrderness<Bid>(4000).withTimestampAssigner((b) => b.dateTime),
 * );
 * ```
 */

/** A complete strategy. */
export interface WatermarkStrategy<T> {
  /** How far out of order records may arrive, in ms; 0 for monotonous timestamps. */
  readonly outOfOrdernessMs: number;
  /** Extracts a record's event time; without it the record's existing timestamp is used. */
  readonly timestampAssigner: ((value: T, previous: number | undefined) => number) | undefined;
  /** After this long (processing time) without records, the stream declares itself idle. */
  readonly idleTimeoutMs: number | undefined;
  /** Returns a copy with a timestamp assigner. */
  withTimestampAssigner(fn: (value: T, previous: number | undefined) => number): WatermarkStrategy<T>;
  /**
   * Returns a copy that marks the stream idle after `ms` without records, so
   * downstream watermarks no longer wait for it (until it has records again).
   */
  withIdleness(ms: number): WatermarkStrategy<T>;
}

function strategy<T>(
  outOfOrdernessMs: number,
  assigner?: (value: T, previous: number | undefined) => number,
  idleTimeoutMs?: number,
): WatermarkStrategy<T> {
  if (!(outOfOrdernessMs >= 0) || !Number.isFinite(outOfOrdernessMs)) {
    throw new RangeError(`out-of-orderness must be a finite number ≥ 0, got ${outOfOrdernessMs}`);
  }
  return {
    outOfOrdernessMs,
    timestampAssigner: assigner,
    idleTimeoutMs,
    withTimestampAssigner: (fn) => strategy(outOfOrdernessMs, fn, idleTimeoutMs),
    withIdleness: (ms) => {
      if (!(ms > 0) || !Number.isFinite(ms))
        throw new RangeError(`idleness must be a positive number of ms, got ${ms}`);
      return strategy(outOfOrdernessMs, assigner, ms);
    },
  };
}

/** Factories, as in Flink. The watermark is the largest timestamp seen, minus the bound, minus 1 ms. */
export const WatermarkStrategy = {
  /** Records may arrive up to `ms` late relative to the largest timestamp seen. */
  forBoundedOutOfOrderness<T>(ms: number): WatermarkStrategy<T> {
    return strategy<T>(ms);
  },
  /** Timestamps never decrease. */
  forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return strategy<T>(0);
  },
};
