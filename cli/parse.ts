/**
 * Parsers of CLI option values, and the lists the CLI accepts. Kept free of the
 * engine's modules, so that `riffle --help` loads nothing but this and commander.
 */

import { UsageError } from "../core/errors.ts";

/** Parses a `--parallelism` value. */
export function parseParallelism(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 1024) {
    throw new UsageError(`invalid parallelism '${value}': expected an integer from 1 to 1024`);
  }
  return n;
}

/** Parses `--port`. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new UsageError(`invalid port '${value}': expected 0-65535`);
  return n;
}

/** Queries riffle implements (q12 uses processing time and has no oracle). */
export const NEXMARK_QUERIES = [
  "q0",
  "q1",
  "q2",
  "q3",
  "q4",
  "q5",
  "q7",
  "q8",
  "q9",
  "q11",
  "q12",
  "q14",
  "q15",
  "q17",
  "q18",
  "q19",
];
