/**
 * Prefetching keyed functions (remote functions): before a slice is processed, the
 * keyed operator hands such a function the slice's records with their keys and the
 * keys' state, so it can work out every answer at once (`keyed-process.ts`).
 */

import type { Key } from "../keys.ts";

/** One record of a slice, for a prefetching function: its key and event time. */
export interface PrefetchItem {
  readonly key: Key;
  readonly enc: string;
  readonly value: unknown;
  readonly time: number | undefined;
}

/** The records of a slice (by envelope, `undefined` where the key could not be read) and their keys' state. */
export interface KeyedPrefetch {
  /** Names the partition and the slice's inputs: the same slice always gets the same site. */
  readonly site: string;
  readonly envelopes: readonly {
    readonly records: readonly unknown[];
    readonly items: readonly (PrefetchItem | undefined)[];
  }[];
  /** The current value of the function's `remote` value state under `item`'s key. */
  stateOf(item: PrefetchItem): unknown;
}

/**
 * A keyed function that works out its answers for a whole slice before the slice
 * is processed (a remote function): `prefetch` runs first, and `select` names the
 * record before each `processElement`.
 */
export interface PrefetchingFunction {
  prefetch(p: KeyedPrefetch): Promise<void>;
  select(records: readonly unknown[], index: number): void;
}

/** Whether `fn` prefetches (has `prefetch` and `select`). */
export function prefetching(fn: object): PrefetchingFunction | undefined {
  const f = fn as Partial<PrefetchingFunction>;
  return typeof f.prefetch === "function" && typeof f.select === "function" ? (f as PrefetchingFunction) : undefined;
}

/** The envelopes' records with their keys and event times (`undefined` where the key cannot be read). */
export function prefetchItems(
  envelopes: readonly { records: readonly unknown[]; times?: readonly number[] }[],
  keyOf: (value: unknown) => { key: Key; enc: string } | undefined,
): KeyedPrefetch["envelopes"] {
  return envelopes.map((e) => ({
    records: e.records,
    items: e.records.map((value, i) => {
      try {
        const k = keyOf(value);
        const t = e.times?.[i];
        return k && { ...k, value, time: typeof t === "number" && !Number.isNaN(t) ? t : undefined };
      } catch {
        return undefined; // fails as an operator error when processed
      }
    }),
  }));
}
