/**
 * Shared vocabulary of the `StateStore` contract parts: segment, change and ref factories.
 */

import type { Envelope } from "../../core/envelope.ts";
import type { Segment, StateChange, StateRef, StateStore } from "../../core/ports/state-store.ts";

/** A fresh, empty store; `close` releases it after the test. */
export type MakeStateStore = () => Promise<{ store: StateStore; close?: () => void }>;

export const S = "op/v";

export function seg(n: number, o: Partial<Segment> = {}): Segment {
  return { n, gen: 1, time: 1000 + n, positions: {}, outSeqs: {}, changes: [], outbox: [], sentThrough: 0, ...o };
}
/** Segment `n` whose commit confirmed every earlier outbox sent. */
export function sent(n: number, changes: StateChange[] = [], o: Partial<Segment> = {}): Segment {
  return seg(n, { changes, sentThrough: n - 1, ...o });
}
export function set(k: string, v: unknown, g = 1, s = S): StateChange {
  return { s, k, g, v };
}
export function del(k: string, g = 1, s = S): StateChange {
  return { s, k, g, d: true };
}
export function ref(k: string, g = 1, s = S): StateRef {
  return { s, k, g };
}
export function env(from: string, seq: number, records: unknown[]): Envelope {
  return { gen: 1, from, seq, records };
}
export function byKey<T extends [string, unknown] | StateChange>(xs: T[]): T[] {
  const key = (x: T) => (Array.isArray(x) ? x[0] : `${x.s}\u0000${x.k}`);
  return [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
/** The numbers of `segments`, in order. */
export const ns = (segments: Segment[]) => segments.map((s) => s.n);
