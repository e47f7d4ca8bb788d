/**
 * Debloating of ingest wake-ups (Flink's FLIP-183, here): each append wakes the
 * source partition that reads it with a start signal, and at a few records per
 * request every wake-up costs a source invocation, a segment, an envelope and a
 * downstream invocation. Lambda's SQS mapping cannot batch a FIFO queue in time (no
 * batching window on FIFO), so the API does it:
 *
 * - An append that follows this instance's previous append to the same partition by
 *   less than the window (the rate is above one append per window) sends a
 *   *windowed* start, `until` = the end of the current window. Its queue
 *   deduplication id is the partition, generation and `until`, so the queue delivers
 *   ONE start per partition and window, however many appends the window holds.
 * - A partition that got a windowed start polls again at or after `until` +
 *   {@link WAKE_MARGIN_MS} (its processing-time wake-up, which the coordinator's
 *   ticks deliver), so the records of the dropped starts are read then, in one batch.
 * - Slower appends send a start of their own (a unique id), read at once: at low
 *   rates latency stays as it was; at high rates a partition wakes about once a
 *   window and its batches grow with the rate.
 *
 * Starts are hints: positions live in the log, so which start is delivered, or how
 * often, never changes the output, only when it is read.
 */

/** Slack after a window's end before a lingering partition polls (clocks of the API and the task may differ a little). */
export const WAKE_MARGIN_MS = 100;

/** The window of each partition's last wake-up, per API instance. */
export class WakeWindow {
  private readonly windowMs: number;
  private readonly last = new Map<string, number>();

  /** `windowMs`: the job's `ingestWindowMs` (undefined: every append wakes at once). */
  constructor(windowMs: number | undefined) {
    this.windowMs = windowMs ?? 0;
  }

  /**
   * The `until` of the start for an append to partition `key` at `now` (ms), or
   * undefined for a start of its own. Appends slower than one per window get their own.
   */
  until(key: string, now: number): number | undefined {
    const w = this.windowMs;
    if (!(w > 0)) return undefined;
    const prev = this.last.get(key);
    this.last.set(key, now);
    if (prev === undefined || now - prev >= w) return undefined;
    return (Math.floor(now / w) + 1) * w;
  }
}

/** When a partition that got windowed starts up to `until` polls again at the latest. */
export function lingerUntil(until: number): number {
  return until + WAKE_MARGIN_MS;
}
