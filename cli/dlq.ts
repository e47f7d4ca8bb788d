/**
 * The dead-letter file of a job: `riffle run` appends the records it set aside,
 * `riffle dlq list` shows them, with the time each was replayed (`riffle dlq replay`).
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StoredDeadLetter } from "../core/ports/output-store.ts";
import { loadJob } from "./load-job.ts";
import { type ReplayedMark, readReplayedMarks } from "./output-files.ts";

/** One line of the dead-letter file. */
export interface DeadLetterLine extends StoredDeadLetter {
  /** Which `riffle run` wrote it (ISO time of the run's start). */
  readonly run: string;
}

/** Path of the dead-letter file of job `job` under `workDir` (runs without a state dir). */
export function dlqPath(workDir: string, job: string): string {
  return join(workDir, job, "dlq.jsonl");
}

/** The dead-letter file and the replayed marks of the job in state dir `dir`. */
export function stateDirDlq(dir: string): { readonly dlq: string; readonly replayed: string } {
  return { dlq: join(dir, "dlq.jsonl"), replayed: join(dir, "dlq-replayed.json") };
}

/** Reads every dead letter in the file at `path`, with the replayed marks in the file `replayed`. */
export function readDeadLetters(path: string, replayed?: string): DeadLetterLine[] {
  if (!existsSync(path)) return [];
  const marks = replayed ? readReplayedMarks(replayed) : new Map<string, ReplayedMark>();
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const d = JSON.parse(l) as DeadLetterLine;
      const mark = marks.get(d.id);
      return mark === undefined ? d : { ...d, replayedAt: mark.at };
    });
}

/** `riffle dlq list`: prints the dead letters of a job (by name, or of a job module). */
export async function dlqListCommand(
  jobArg: string,
  opts: { readonly json?: boolean; readonly workDir: string; readonly stateDir?: string },
): Promise<void> {
  const name = /\.(ts|js|mts|mjs)$/.test(jobArg) ? (await loadJob(jobArg)).name : jobArg;
  const letters = opts.stateDir
    ? readDeadLetters(stateDirDlq(opts.stateDir).dlq, stateDirDlq(opts.stateDir).replayed)
    : readDeadLetters(dlqPath(opts.workDir, name));
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
      `${l.run}  ${l.id}  ${l.operator}  after ${l.attempts} attempts: ${l.error}${l.replayedAt === undefined ? "" : `  (replayed ${new Date(l.replayedAt).toISOString()})`}\n    value: ${JSON.stringify(l.value)}\n`,
    );
  }
  process.stdout.write(`${letters.length} dead letter(s)\n`);
}
