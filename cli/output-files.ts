/**
 * File primitives of the output store: appends that write every byte or fail, a
 * progress marker read with errors that name the file, and cutting a file back to
 * a committed length (never padding it).
 */

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { RiffleError } from "../core/errors.ts";
import type { ReplayMark } from "../core/ports/output-store.ts";

/** What the progress marker records. */
export interface Progress {
  /** `task#partition` → the last segment whose output is in the files. */
  readonly cut: Record<string, number>;
  readonly outBytes: number;
  readonly dlqBytes: number;
  /**
   * Where the output of the last savepoint restore begins in the out file (bytes):
   * what comes before it, also what the restoring run published first (the
   * committed output of the run before), is the output of the job before the restore.
   */
  readonly restoredAt?: number;
}

/** The progress marker or the files it describes are damaged. */
export class ProgressFileError extends RiffleError {
  constructor(message: string, cause?: unknown) {
    super("state-dir", message, cause === undefined ? undefined : { cause });
  }
}

/** Reads the progress marker at `path` (undefined when there is none). */
export function readProgress(path: string): Progress | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ProgressFileError(`cannot read the output progress marker ${path}: ${(e as Error).message}`, e);
  }
  let p: Partial<Progress>;
  try {
    p = JSON.parse(text) as Partial<Progress>;
  } catch (e) {
    throw new ProgressFileError(`the output progress marker ${path} is not valid JSON: ${(e as Error).message}`, e);
  }
  const ok =
    typeof p === "object" &&
    p !== null &&
    typeof p.cut === "object" &&
    Number.isSafeInteger(p.outBytes) &&
    Number.isSafeInteger(p.dlqBytes) &&
    (p.restoredAt === undefined || Number.isSafeInteger(p.restoredAt));
  if (!ok) throw new ProgressFileError(`the output progress marker ${path} is malformed: ${text.slice(0, 200)}`);
  return p as Progress;
}

/**
 * Cuts `path` back to `length` bytes and returns it. A file shorter than that was
 * truncated or replaced behind riffle's back: refused (never padded with zeros).
 */
export function truncateTo(path: string, length: number, marker: string | undefined): number {
  if (statSync(path).size > checkCommittedLength(path, length, marker)) truncateSync(path, length);
  return length;
}

/**
 * Checks that `path` (absent counts as empty) holds at least the `length` bytes that
 * `marker` says were committed, and returns `length`; changes nothing.
 */
export function checkCommittedLength(path: string, length: number, marker: string | undefined): number {
  const size = existsSync(path) ? statSync(path).size : 0;
  if (size < length) {
    throw new ProgressFileError(
      `${path} has ${size} bytes, but ${marker ?? "the last commit"} says ${length} were committed: the file was truncated or replaced`,
    );
  }
  return length;
}

/**
 * Appends all of `text` to `path` (whose committed length is `length`) and fsyncs;
 * returns the new length. A short write is retried for the rest; an error (a full
 * disk) throws, and the caller cuts the file back.
 */
export function appendAll(path: string, text: string, length: number, flags = "a"): number {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, flags);
  try {
    const bytes = Buffer.from(text, "utf8");
    let off = 0;
    while (off < bytes.length) {
      const n = writeSync(fd, bytes, off, bytes.length - off);
      if (n <= 0) throw new RiffleError("output-write", `wrote 0 bytes to ${path}`);
      off += n;
    }
    fsyncSync(fd);
    return length + bytes.length;
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `text` atomically and durably (temp file, fsync, rename, fsync the dir). */
export function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  appendAll(tmp, text, 0, "w");
  renameSync(tmp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** A dead letter's replayed mark: when, and the envelope that carried it (when recorded). */
export interface ReplayedMark {
  readonly at: number;
  readonly replay?: ReplayMark;
}

/**
 * The replayed marks of dead letters at `path` (id → replay time, or `{at, replay}`
 * with the replay's envelope); none when there is no file.
 */
export function readReplayedMarks(path: string): Map<string, ReplayedMark> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new ProgressFileError(`cannot read the replayed marks ${path}: ${(e as Error).message}`, e);
  }
  try {
    const marks = JSON.parse(text) as Record<string, unknown>;
    if (typeof marks === "object" && marks !== null) {
      const out = new Map<string, ReplayedMark>();
      for (const [id, v] of Object.entries(marks)) {
        if (Number.isSafeInteger(v)) out.set(id, { at: v as number });
        else if (isMarkWithReplay(v)) out.set(id, v);
        else return malformed(path, text);
      }
      return out;
    }
  } catch {
    // reported below
  }
  return malformed(path, text);
}

/** The marks as `readReplayedMarks` reads them. */
export function replayedMarksJson(marks: ReadonlyMap<string, ReplayedMark>): string {
  return JSON.stringify(Object.fromEntries([...marks].map(([id, m]) => [id, m.replay ? m : m.at])));
}

function isMarkWithReplay(v: unknown): v is ReplayedMark {
  const m = v as ReplayedMark | null;
  return typeof m === "object" && m !== null && Number.isSafeInteger(m.at) && typeof m.replay?.seq === "number";
}

function malformed(path: string, text: string): never {
  throw new ProgressFileError(`the replayed marks ${path} are malformed: ${text.slice(0, 200)}`);
}
