/**
 * Publishes committed output to files durably: records of a checkpoint are
 * appended and fsynced, then a small progress record (the cut and each file's
 * length) is replaced atomically. After a crash, `resume` truncates the files to
 * the recorded lengths and tells the runtime where to publish from: every record
 * lands in the file exactly once.
 */

import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import type { OutputPublisher, TaskDeadLetter } from "../core/runtime/embedded.ts";

interface Progress {
  readonly checkpoint: number;
  readonly cut: Record<string, number>;
  readonly outBytes: number;
  readonly dlqBytes: number;
}

/** Files a run publishes to. */
export interface PublisherFiles {
  /** Committed sink records as JSON lines; `undefined` writes them to stdout (not crash-safe). */
  readonly out: string | undefined;
  /** Dead letters as JSON lines. */
  readonly dlq: string;
  /** Where progress is recorded; `undefined` for a run without a state dir (nothing to resume). */
  readonly progress: string | undefined;
  /** Stamped on dead letters (which run wrote them). */
  readonly run: string;
  /** Receives records instead of the out file / stdout (e.g. to print a table). */
  readonly onRecords?: (sink: string, values: readonly unknown[]) => void;
}

/** See the module comment. */
export class FilePublisher implements OutputPublisher {
  private readonly f: PublisherFiles;
  private out = "";
  private dlq = "";
  /** Records published, per sink. */
  readonly counts = new Map<string, number>();

  constructor(files: PublisherFiles) {
    this.f = files;
  }

  async resume(): Promise<Record<string, number> | undefined> {
    const p =
      this.f.progress && existsSync(this.f.progress)
        ? (JSON.parse(readFileSync(this.f.progress, "utf8")) as Progress)
        : undefined;
    if (this.f.out) {
      mkdirSync(dirname(this.f.out), { recursive: true });
      if (existsSync(this.f.out)) truncateSync(this.f.out, p?.outBytes ?? 0);
      else closeSync(openSync(this.f.out, "w"));
    }
    if (p && existsSync(this.f.dlq)) truncateSync(this.f.dlq, p.dlqBytes);
    return p?.cut;
  }

  output(sink: string, values: readonly unknown[]): void {
    this.counts.set(sink, (this.counts.get(sink) ?? 0) + values.length);
    if (this.f.onRecords) {
      this.f.onRecords(sink, values);
      return;
    }
    let chunk = "";
    for (const value of values) chunk += `${JSON.stringify({ sink, value })}\n`;
    if (this.f.out) this.out += chunk;
    else process.stdout.write(chunk);
  }

  deadLetter(letter: TaskDeadLetter): void {
    this.dlq += `${JSON.stringify({ run: this.f.run, ...letter })}\n`;
  }

  async commit(checkpoint: number, cut: Readonly<Record<string, number>>): Promise<void> {
    const outBytes = this.f.out ? append(this.f.out, this.out) : 0;
    const dlqBytes = append(this.f.dlq, this.dlq);
    this.out = "";
    this.dlq = "";
    if (!this.f.progress) return;
    const tmp = `${this.f.progress}.tmp`;
    const fd = openSync(tmp, "w");
    writeSync(fd, JSON.stringify({ checkpoint, cut, outBytes, dlqBytes } satisfies Progress));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.f.progress);
  }
}

/** Appends `text` and fsyncs; returns the file's new length. */
function append(path: string, text: string): number {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "a");
  try {
    if (text) writeSync(fd, text);
    fsyncSync(fd);
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
