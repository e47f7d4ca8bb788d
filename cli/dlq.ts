/**
 * The dead-letter file of a job: `riffle run` appends the records it set aside,
 * `riffle dlq list` shows them.
 */

import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskDeadLetter } from "../core/runtime/embedded.ts";

/** One line of the dead-letter file. */
export interface DeadLetterLine extends TaskDeadLetter {
  /** Which `riffle run` wrote it (ISO time of the run's start). */
  readonly run: string;
}

/** Path of the dead-letter file of job `job` under `workDir`. */
export function dlqPath(workDir: string, job: string): string {
  return join(workDir, job, "dlq.jsonl");
}

/** Appends dead letters. */
export function appendDeadLetters(workDir: string, job: string, run: string, letters: readonly TaskDeadLetter[]): void {
  if (letters.length === 0) return;
  mkdirSync(join(workDir, job), { recursive: true });
  appendFileSync(dlqPath(workDir, job), letters.map((l) => `${JSON.stringify({ run, ...l })}\n`).join(""));
}

/** Reads every dead letter of `job`. */
export function readDeadLetters(workDir: string, job: string): DeadLetterLine[] {
  const path = dlqPath(workDir, job);
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as DeadLetterLine);
}
