/**
 * The dead-letter file of a job: `riffle run` appends the records it set aside,
 * `riffle dlq list` shows them.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskDeadLetter } from "../core/runtime/embedded.ts";

/** One line of the dead-letter file. */
export interface DeadLetterLine extends TaskDeadLetter {
  /** Which `riffle run` wrote it (ISO time of the run's start). */
  readonly run: string;
}

/** Path of the dead-letter file of job `job` under `workDir` (runs without a state dir). */
export function dlqPath(workDir: string, job: string): string {
  return join(workDir, job, "dlq.jsonl");
}

/** Reads every dead letter in the file at `path`. */
export function readDeadLetters(path: string): DeadLetterLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as DeadLetterLine);
}
