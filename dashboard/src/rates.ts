/**
 * Records per second, differentiated in the page from the counters every snapshot
 * carries: per task (`status.records`) and per partition (`status.partitions`).
 * A rate is taken over the last {@link RATE_WINDOW_MS} of snapshots rather than
 * between two, because on AWS a partition's counters move once per checkpoint (they
 * come with its acks), so two snapshots a second apart often show the same count.
 * A counter that went down (a restore or a rescale started it again) counts from there.
 */

import type { Snapshot } from "./api.ts";

/** How far back a rate looks, in ms. */
export const RATE_WINDOW_MS = 10_000;

/** Records per second in and out. */
export interface Rate {
  readonly in: number;
  readonly out: number;
}

/** Rates per task id, or per `task#partition`. */
export type Rates = Readonly<Record<string, Rate>>;

type Counts = Readonly<Record<string, { readonly in: number; readonly out: number }>>;

const ZERO = { in: 0, out: 0 };

interface Sample {
  readonly at: number;
  readonly tasks: Counts;
  readonly partitions: Counts;
}

function sample(s: Snapshot): Sample {
  const partitions: Record<string, { in: number; out: number }> = {};
  for (const p of s.status.partitions ?? []) {
    partitions[`${p.task}#${p.partition}`] = { in: p.recordsIn, out: p.recordsOut };
  }
  return { at: s.at, tasks: s.status.records ?? {}, partitions };
}

function between(samples: readonly Sample[], pick: (s: Sample) => Counts): Rates {
  const cur = samples[samples.length - 1];
  if (!cur) return {};
  const out: Record<string, Rate> = {};
  for (const [key, now] of Object.entries(pick(cur))) {
    // The oldest sample in the window, after the counter last went down. One without the
    // key counts as zero: the task or partition had not reported yet (a new job, a rescale).
    let from: Sample | undefined;
    for (let i = samples.length - 2; i >= 0; i--) {
      const c = pick(samples[i] as Sample)[key] ?? ZERO;
      if (c.in > now.in || c.out > now.out) break;
      from = samples[i];
    }
    const was = from ? (pick(from)[key] ?? ZERO) : undefined;
    const dt = from ? (cur.at - from.at) / 1000 : 0;
    if (was && dt > 0) out[key] = { in: (now.in - was.in) / dt, out: (now.out - was.out) / dt };
  }
  return out;
}

/** A rate as the page writes it: one decimal below 10/s. */
export function perSecond(r: number): string {
  return `${r < 10 ? r.toFixed(1) : Math.round(r)}/s`;
}

/** Follows snapshots and gives the rates over the window that ends at the newest. */
export class RateTracker {
  private samples: Sample[] = [];

  /** Adds a snapshot; returns the rates per task and per partition. */
  add(s: Snapshot): { tasks: Rates; partitions: Rates } {
    this.samples.push(sample(s));
    // Keep one sample at or before the window's start, so the window is full.
    while (this.samples.length > 2 && (this.samples[1] as Sample).at <= s.at - RATE_WINDOW_MS) this.samples.shift();
    return { tasks: between(this.samples, (x) => x.tasks), partitions: between(this.samples, (x) => x.partitions) };
  }
}
