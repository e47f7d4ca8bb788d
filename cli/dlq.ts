/**
 * The dead-letter file of a job: `riffle run` appends the records it set aside,
 * `riffle dlq list` shows them.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskDeadLetter } from "../core/runtime/embedded.ts";
import { loadJob } from "./load-job.ts";

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

/** `riffle dlq list`: prints the dead letters of a job (by name, or of a job module). */
export async function dlqListCommand(
  jobArg: string,
  opts: { readonly json?: boolean; readonly workDir: string; readonly stateDir?: string },
): Promise<void> {
  const name = /\.(ts|js|mts|mjs)$/.test(jobArg) ? (await loadJob(jobArg)).name : jobArg;
  const letters = readDeadLetters(opts.stateDir ? join(opts.stateDir, "dlq.jsonl") : dlqPath(opts.workDir, name));
  if (opts.json) {
    for (const l of letters) process.stdout.write(`${JSON.stringify(l)}\n`);
    return;
  }
  if (letters.length === 0) {
    process.stdout.write(`no dead letters for job '${name}'\n`);
    return;
  }
  for (const l of letters) {
    process.stdout.write(
      `${l.run}  ${l.task}[${l.partition}]  ${l.operator}  after ${l.attempts} attempts: ${l.error}\n    value: ${JSON.stringify(l.value)}\n`,
    );
  }
  process.stdout.write(`${letters.length} dead letter(s)\n`);
}
