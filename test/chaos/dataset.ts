/**
 * The chaos fuzzer's input and its keyed counter, shared by the job fixtures
 * (`test/fixtures/chaos-*.ts`, loaded by the CLI) and the oracle.
 *
 * Every input record has a unique `id`. The counter emits `{key, n, id}` for the
 * n-th record of its key, so the oracle knows which id the n-th row of a key must
 * carry. A poison record is the only record of its own key (`x<id>`): dead-lettering
 * it never reorders another key's records. An end record reports a key's count as
 * `{key, fin, id}` without counting itself.
 */

import { existsSync } from "node:fs";

/** Splits of the embedded generator: a key's records all come from one split, in order. */
export const SPLITS = 4;
/** Normal keys per split. */
export const KEYS_PER_SPLIT = 3;

/** One input record. */
export interface ChaosRecord {
  readonly key: string;
  readonly id: number;
  /** Throws in the counter until the marker file exists. */
  readonly poison?: boolean;
  /** Reports the key's count instead of counting. */
  readonly end?: boolean;
}

/** One output row: a count (`n`) or a key's final count (`fin`). */
export interface ChaosRow {
  readonly key: string;
  readonly id: number;
  readonly n?: number;
  readonly fin?: number;
}

/** Whether generator index `i` is a poison record (about one in 60). */
export function isPoisonIndex(i: number): boolean {
  return (Math.imul(i, 2654435761) >>> 0) % 61 === 17;
}

/** The key of base index `i` of the embedded generator. */
export function baseKey(i: number): string {
  return isPoisonIndex(i) ? `x${i}` : `k${i % SPLITS}.${Math.floor(i / SPLITS) % KEYS_PER_SPLIT}`;
}

/** The embedded generator's layout for `base` counted records (a multiple of {@link SPLITS}). */
export interface GeneratorLayout {
  readonly base: number;
  /** Keys of each split, in the order of their end records. */
  readonly splitKeys: readonly string[][];
  /** Total records: base records, then per split one end record per key (and no-ops). */
  readonly count: number;
}

/** The generator layout for `base` records. */
export function generatorLayout(base: number): GeneratorLayout {
  const b = Math.ceil(base / SPLITS) * SPLITS;
  const splitKeys: string[][] = Array.from({ length: SPLITS }, (_, s) =>
    Array.from({ length: KEYS_PER_SPLIT }, (_, j) => `k${s}.${j}`),
  );
  for (let i = 0; i < b; i++) if (isPoisonIndex(i)) splitKeys[i % SPLITS]?.push(`x${i}`);
  const tail = Math.max(...splitKeys.map((k) => k.length));
  return { base: b, splitKeys, count: b + tail * SPLITS };
}

/** Record `i` of the embedded generator. */
export function generatorRecord(layout: GeneratorLayout, i: number): ChaosRecord {
  if (i < layout.base) return { key: baseKey(i), id: i, ...(isPoisonIndex(i) ? { poison: true } : {}) };
  const t = Math.floor((i - layout.base) / SPLITS);
  const key = layout.splitKeys[i % SPLITS]?.[t];
  return key === undefined ? { key: "noop", id: i, end: true } : { key, id: i, end: true };
}

/** Per key, the ids of its counted records in order (end records excluded). */
export function generatorExpected(layout: GeneratorLayout): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const keys of layout.splitKeys) for (const k of keys) out.set(k, []);
  for (let i = 0; i < layout.base; i++) out.get(baseKey(i))?.push(i);
  return out;
}

/** Options of {@link countRecord}. */
export interface CounterEnv {
  /** The poison is fixed once this file exists. */
  readonly marker: string | undefined;
  /** Sleep 1 ms after this many records (0: never), to give an operator time to act. */
  readonly pace: number;
}

let seen = 0;
const cell = new Int32Array(new SharedArrayBuffer(4));

/**
 * The keyed counter's step: the row to emit for `r` given the key's count so far
 * (`undefined` for a no-op), and the new count. Throws for an unfixed poison record.
 */
export function countRecord(r: ChaosRecord, count: number, env: CounterEnv): { row?: ChaosRow; count: number } {
  if (env.pace > 0 && ++seen % env.pace === 0) Atomics.wait(cell, 0, 0, 1);
  if (r.key === "noop") return { count };
  if (r.end) return { row: { key: r.key, id: r.id, fin: count }, count };
  if (r.poison && !(env.marker && existsSync(env.marker))) throw new Error(`poison record ${r.id}`);
  return { row: { key: r.key, id: r.id, n: count + 1 }, count: count + 1 };
}

/** The counter's settings from the environment of the CLI process. */
export function counterEnv(): CounterEnv {
  return { marker: process.env.CHAOS_MARKER, pace: Number(process.env.CHAOS_PACE ?? 0) || 0 };
}
