/**
 * The dead-letter file of a job: `riffle run` appends the records it set aside,
 * `riffle dlq list` shows them, with the time each was replayed (`riffle dlq replay`).
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StoredDeadLetter } from "../core/ports/output-store.ts";
import { readReplayedMarks } from "./output-files.ts";

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
  const marks = replayed ? readReplayedMarks(replayed) : new Map<string, number>();
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const d = JSON.parse(l) as DeadLetterLine;
      const at = marks.get(d.id);
      return at === undefined ? d : { ...d, replayedAt: at };
    });
}
