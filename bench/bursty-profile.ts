/**
 * The bursty day: a 24-hour traffic profile with idle hours, a short peak at 50×
 * the mean, and a mean of 50 events/s (4.32M events a day). Pure: the profile,
 * its totals, the events due by a point of the day, and the same day at another
 * mean rate (every rate scaled, so the shape stays).
 *
 * ```text
 *  events/s
 *   2500 |                         █ (12:00–12:06)
 *     75 |                         ████████████
 *     60 |              ████████████
 *   54.4 |                                     ████████
 *     25 |        ██████
 *      0 |████████                                     ████
 *        0       6     8           12          18      22  24 h
 * ```
 */

/** A stretch of the day at one rate. */
export interface Segment {
  /** Start and end, in hours of the day. */
  readonly from: number;
  readonly to: number;
  /** Events per second. */
  readonly rate: number;
}

/** The day: idle 0–6 h and 22–24 h, a 6-minute peak at 12:00, mean 50 events/s. */
export const BURSTY_DAY: readonly Segment[] = [
  { from: 0, to: 6, rate: 0 },
  { from: 6, to: 8, rate: 25 },
  { from: 8, to: 12, rate: 60 },
  { from: 12, to: 12.1, rate: 2500 },
  { from: 12.1, to: 18, rate: 75 },
  { from: 18, to: 22, rate: 54.375 },
  { from: 22, to: 24, rate: 0 },
];

/** Events of a segment. */
export const segmentEvents = (s: Segment): number => s.rate * (s.to - s.from) * 3600;

/** Events of the whole day. */
export function dayEvents(day: readonly Segment[] = BURSTY_DAY): number {
  return day.reduce((n, s) => n + segmentEvents(s), 0);
}

/** Mean events/s over 24 hours. */
export function meanRate(day: readonly Segment[] = BURSTY_DAY): number {
  return dayEvents(day) / 86_400;
}

/** The highest rate of the day, events/s. */
export function peakRate(day: readonly Segment[] = BURSTY_DAY): number {
  return Math.max(...day.map((s) => s.rate));
}

/** Hours of the day without events. */
export function idleHours(day: readonly Segment[] = BURSTY_DAY): number {
  return day.filter((s) => s.rate === 0).reduce((h, s) => h + (s.to - s.from), 0);
}

/** The same day with every rate scaled so that the mean is `mean` events/s. */
export function scaledDay(mean: number, day: readonly Segment[] = BURSTY_DAY): Segment[] {
  const k = mean / meanRate(day);
  return day.map((s) => ({ ...s, rate: s.rate * k }));
}

/** Events due from the start of the day up to hour `h` (fractional). */
export function eventsDue(h: number, day: readonly Segment[] = BURSTY_DAY): number {
  let n = 0;
  for (const s of day) {
    if (h <= s.from) break;
    n += s.rate * (Math.min(h, s.to) - s.from) * 3600;
  }
  return n;
}
