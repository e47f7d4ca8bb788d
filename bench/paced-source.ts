/**
 * An unbounded source that emits `fn(i)` at a fixed rate: each split releases the
 * records that are due since its reader opened (rate / splits per second each), one
 * read every `intervalMs` at most (a read waits out the rest of the interval), so
 * the source neither floods the job with small envelopes nor spins. Position = the
 * split's next index.
 */

import type { Source, SourceSplit } from "../core/api/source.ts";

/** Options of {@link pacedSource}. */
export interface PacedOptions {
  /** Records per second over all splits. */
  readonly rate: number;
  /** Number of splits (default 1). */
  readonly splits?: number;
  /** Least time between two reads of a split, ms (default 100). */
  readonly intervalMs?: number;
}

/** The paced source; see the module comment. */
export function pacedSource<T>(fn: (index: number) => T, o: PacedOptions): Source<T> {
  const splits = o.splits ?? 1;
  if (!(o.rate > 0) || !Number.isSafeInteger(splits) || splits < 1) {
    throw new RangeError(`pacedSource: rate must be > 0 and splits a positive integer, got ${o.rate}, ${splits}`);
  }
  const perSplit = o.rate / splits;
  return {
    name: "paced",
    bounded: false,
    splits: () => Array.from({ length: splits }, (_, p) => ({ id: String(p), first: p })),
    reader: (split: SourceSplit, position: unknown) => {
      const first = split.first as number;
      let next = typeof position === "number" ? position : first;
      const opened = performance.now();
      const interval = o.intervalMs ?? 100;
      let last = opened - interval;
      const base = next;
      const due = () => base + Math.floor(((performance.now() - opened) / 1000) * perSplit) * splits;
      return {
        async read(max) {
          const wait = last + interval - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          last = performance.now();
          const records: T[] = [];
          const until = due();
          while (next < until && records.length < max) {
            records.push(fn(next));
            next += splits;
          }
          return { records, position: next, done: false };
        },
      };
    },
  };
}
