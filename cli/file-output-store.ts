/**
 * The {@link OutputStore} of `riffle run`: committed output as JSON lines in files.
 * `publish` stages a checkpoint's records; `setPublished` appends them (every byte
 * written, or the file cut back to where it was), fsyncs, and then atomically
 * replaces a small progress marker (the published marks and each file's length).
 * On open, the files are cut back to the lengths the marker records, and the
 * runtime publishes the rest again from the log: every record lands exactly once.
 */

import { existsSync, readFileSync, statSync } from "node:fs";
import { RiffleError } from "../core/errors.ts";
import type {
  OutputPage,
  OutputStore,
  PublishedSegment,
  ReplayMark,
  ReplayUnmark,
  StoredDeadLetter,
} from "../core/ports/output-store.ts";
import {
  appendAll,
  checkCommittedLength,
  type Progress,
  ProgressFileError,
  type ReplayedMark,
  readProgress,
  readReplayedMarks,
  replayedMarksJson,
  truncateTo,
  writeAtomically,
} from "./output-files.ts";

/** Files a run publishes to. */
export interface OutputFiles {
  /** Committed sink records as JSON lines; `undefined` writes them to stdout (not crash-safe). */
  readonly out: string | undefined;
  /** Dead letters as JSON lines. */
  readonly dlq: string;
  /** Where progress is recorded; `undefined` for a run without a state dir (nothing to resume). */
  readonly progress: string | undefined;
  /** Where the replayed marks of dead letters are kept (`undefined`: in memory only). */
  readonly replayed?: string;
  /** Stamped on dead letters (which run wrote them). */
  readonly run: string;
  /** Receives records instead of the out file / stdout (e.g. to print a table). */
  readonly onRecords?: (sink: string, values: readonly unknown[]) => void;
}

/** Writing committed output failed (a full disk…): nothing of the checkpoint was committed. */
export class OutputWriteError extends RiffleError {
  constructor(message: string, cause: unknown) {
    super("output-write", message, { cause, retryable: true });
  }
}

export { ProgressFileError };

/** See the module comment. */
export class FileOutputStore implements OutputStore {
  private readonly files: OutputFiles;
  private marks: Record<string, number> = {};
  private outBytes = 0;
  private dlqBytes = 0;
  /** See {@link Progress.restoredAt}. */
  private restoredAt: number | undefined;
  /** Whether bytes past the committed lengths have been cut (see {@link open}). */
  private cut = false;
  private stagedOut = "";
  private stagedDlq = "";
  private readonly stagedCounts = new Map<string, number>();
  private readonly stagedRecords: [string, readonly unknown[]][] = [];
  private readonly replayed: Map<string, ReplayedMark>;
  /** Records committed, per sink. */
  readonly counts = new Map<string, number>();

  constructor(files: OutputFiles) {
    this.files = files;
    this.replayed = files.replayed ? readReplayedMarks(files.replayed) : new Map();
    this.open();
  }

  /**
   * Reads the progress marker and checks the files against it. Bytes past the
   * marker (uncommitted) are cut only at the first commit, so a run refused before
   * it commits anything (a plan or parallelism check) leaves the files as they were.
   */
  private open(): void {
    const p = this.files.progress ? readProgress(this.files.progress) : undefined;
    this.marks = { ...(p?.cut ?? {}) };
    this.restoredAt = p?.restoredAt;
    if (this.files.out) this.outBytes = checkCommittedLength(this.files.out, p?.outBytes ?? 0, this.files.progress);
    if (p && existsSync(this.files.dlq))
      this.dlqBytes = checkCommittedLength(this.files.dlq, p.dlqBytes, this.files.progress);
    else this.dlqBytes = existsSync(this.files.dlq) ? statSync(this.files.dlq).size : 0;
  }

  /** Cuts the files back to the committed lengths, once, before the first append. */
  private cutUncommitted(): void {
    if (this.cut) return;
    const { out, dlq } = this.files;
    if (out && existsSync(out)) truncateTo(out, this.outBytes, undefined);
    if (existsSync(dlq)) truncateTo(dlq, this.dlqBytes, undefined);
    this.cut = true;
  }

  async publish(_job: string, segments: readonly PublishedSegment[]): Promise<void> {
    for (const seg of segments) {
      if (seg.segment <= (this.marks[`${seg.task}#${seg.partition}`] ?? 0)) continue;
      for (const [sink, values] of Object.entries(seg.sink)) {
        this.stagedCounts.set(sink, (this.stagedCounts.get(sink) ?? 0) + values.length);
        if (this.files.onRecords) this.stagedRecords.push([sink, values]);
        else for (const value of values) this.stagedOut += `${JSON.stringify({ sink, value })}\n`;
      }
      seg.deadLetters.forEach((d, i) => {
        const id = `${seg.task}#${seg.partition}#${seg.generation}#${seg.segment}#${i}`;
        const letter = { ...d, task: seg.task, partition: seg.partition, segment: seg.segment, id };
        this.stagedDlq += `${JSON.stringify({ run: this.files.run, ...letter })}\n`;
      });
    }
  }

  async publishedThrough(_job: string): Promise<Record<string, number>> {
    return { ...this.marks };
  }

  async setPublished(_job: string, through: Readonly<Record<string, number>>): Promise<void> {
    const marks = { ...this.marks };
    for (const [k, n] of Object.entries(through)) marks[k] = Math.max(marks[k] ?? 0, n);
    await this.commit(marks);
  }

  /** A savepoint restore: the marks start again, and the marker records where its output begins. */
  async resetPublished(_job: string): Promise<void> {
    await this.commit({}, true);
  }

  /**
   * Appends what is staged, fsyncs, then records `marks` and the lengths (and, for a
   * `restore`, that the restored output begins there); on failure nothing is committed.
   */
  private async commit(marks: Record<string, number>, restore = false): Promise<void> {
    const { out, dlq, progress } = this.files;
    const [text, letters] = [this.stagedOut, this.stagedDlq];
    this.stagedOut = "";
    this.stagedDlq = "";
    try {
      this.cutUncommitted();
      const outBytes = out ? appendAll(out, text, this.outBytes) : 0;
      if (!out && text) process.stdout.write(text);
      const dlqBytes = appendAll(dlq, letters, this.dlqBytes);
      const restoredAt = restore && out ? outBytes : this.restoredAt;
      const marker: Progress = { cut: marks, outBytes, dlqBytes, ...(restoredAt === undefined ? {} : { restoredAt }) };
      if (progress) writeAtomically(progress, JSON.stringify(marker));
      [this.outBytes, this.dlqBytes, this.marks, this.restoredAt] = [outBytes, dlqBytes, marks, restoredAt];
    } catch (e) {
      // Cut the files back to the last commit: the next attempt writes the same lines again.
      if (out && existsSync(out)) truncateTo(out, this.outBytes, undefined);
      if (existsSync(dlq)) truncateTo(dlq, this.dlqBytes, undefined);
      this.stagedCounts.clear();
      this.stagedRecords.length = 0;
      throw new OutputWriteError(`could not commit output to ${out ?? "stdout"}: ${(e as Error).message}`, e);
    }
    for (const [sink, n] of this.stagedCounts) this.counts.set(sink, (this.counts.get(sink) ?? 0) + n);
    for (const [sink, values] of this.stagedRecords) this.files.onRecords?.(sink, values);
    this.stagedCounts.clear();
    this.stagedRecords.length = 0;
  }

  async read(_job: string, sink: string, options: { cursor?: string; limit?: number } = {}): Promise<OutputPage> {
    const lines = this.files.out && existsSync(this.files.out) ? readLines(this.files.out, this.outBytes) : [];
    const values = lines.map((l) => JSON.parse(l) as { sink: string; value: unknown }).filter((r) => r.sink === sink);
    const from = options.cursor ? Number(options.cursor) : 0;
    const limit = options.limit ?? 1000;
    const page = values.slice(from, from + limit).map((r) => r.value);
    return from + limit < values.length ? { values: page, cursor: String(from + limit) } : { values: page };
  }

  async deadLetters(_job: string): Promise<StoredDeadLetter[]> {
    if (!existsSync(this.files.dlq)) return [];
    return readLines(this.files.dlq, this.dlqBytes).map((l) => {
      const { run: _r, ...d } = JSON.parse(l) as StoredDeadLetter & { run?: string };
      const mark = this.replayed.get(d.id);
      return mark === undefined ? d : { ...d, replayedAt: mark.at, ...(mark.replay ? { replay: mark.replay } : {}) };
    });
  }

  /** Marks letters replayed, with their envelopes; with a `replayed` file, durably (written and fsynced before it returns). */
  async markReplayed(
    _job: string,
    ids: readonly string[],
    time: number,
    marks?: Readonly<Record<string, ReplayMark>>,
  ): Promise<void> {
    for (const id of ids) {
      const replay = marks?.[id];
      this.replayed.set(id, replay ? { at: time, replay } : { at: time });
    }
    this.saveReplayed();
  }

  async unmarkReplayed(_job: string, letters: readonly ReplayUnmark[]): Promise<void> {
    const undone = letters.filter(({ id, seq }) => this.replayed.get(id)?.replay?.seq === seq);
    for (const { id } of undone) this.replayed.delete(id);
    if (undone.length > 0) this.saveReplayed();
  }

  private saveReplayed(): void {
    if (this.files.replayed) writeAtomically(this.files.replayed, replayedMarksJson(this.replayed));
  }
}

/** Complete lines of the first `length` bytes of `path`. */
function readLines(path: string, length: number): string[] {
  return readFileSync(path).subarray(0, length).toString("utf8").split("\n").filter(Boolean);
}
