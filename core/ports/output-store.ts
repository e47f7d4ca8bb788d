/**
 * The `OutputStore` port: the committed output of a job. When a checkpoint
 * completes, the sink records and dead letters of every segment up to its cut are
 * published here (the commit of the two-phase sink), and only then may the log
 * behind the cut be compacted. Publishing is idempotent per segment, so a
 * completion step that crashes and runs again writes nothing twice.
 * Implementations: in memory, DynamoDB, and JSON-lines files (`cli/file-output-store.ts`).
 */

import type { DeadLetter } from "./state-store.ts";

/** What one committed segment contributes to the output. */
export interface PublishedSegment {
  readonly task: string;
  readonly partition: number;
  readonly segment: number;
  /**
   * Generation that wrote the segment. Part of the output's identity: after a
   * savepoint restore the log starts again (past the old one's end), in a newer generation.
   */
  readonly generation: number;
  /** Sink name → records, in order. */
  readonly sink: Readonly<Record<string, readonly unknown[]>>;
  readonly deadLetters: readonly DeadLetter[];
}

/** A dead letter as stored: where it came from and whether it was replayed. */
export interface StoredDeadLetter extends DeadLetter {
  /**
   * Unique per job: `<task>#<partition>#<generation>#<segment>#<index>` (the
   * generation keeps ids unique after a savepoint restore restarts segment numbers).
   */
  readonly id: string;
  readonly task: string;
  readonly partition: number;
  readonly segment: number;
  /** Set once the record was sent back for another try. */
  readonly replayedAt?: number;
  /**
   * The envelope that sent it back, when the replay recorded it: a restore to a
   * state without that envelope's effect clears the mark (`core/checkpoint/replay-undo.ts`).
   */
  readonly replay?: ReplayMark;
}

/** The replay envelope that carried a dead letter back: where it went, and its sequence number. */
export interface ReplayMark {
  /** The generation it was sent at. */
  readonly generation: number;
  readonly task: string;
  readonly partition: number;
  /** The replay channel (`$replay:<channel>`). */
  readonly channel: string;
  readonly seq: number;
}

/** A replay mark to clear: the letter's id and the sequence number its mark must still have. */
export interface ReplayUnmark {
  readonly id: string;
  readonly seq: number;
}

/** One page of a sink's committed records. */
export interface OutputPage {
  readonly values: unknown[];
  /** Pass back to read the next page; absent on the last page. */
  readonly cursor?: string;
}

/** Committed output of jobs. */
export interface OutputStore {
  /** Writes the output of committed segments. Writing a segment again changes nothing. */
  publish(job: string, segments: readonly PublishedSegment[]): Promise<void>;
  /** `task#partition` → the last segment whose output is published (absent: none). */
  publishedThrough(job: string): Promise<Record<string, number>>;
  /** Raises the published marks (a mark never moves back). */
  setPublished(job: string, through: Readonly<Record<string, number>>): Promise<void>;
  /**
   * Forgets every published mark (after a savepoint restore, whose log starts again
   * past the old one's end). Output already published stays.
   */
  resetPublished(job: string): Promise<void>;
  /** Committed records of a sink, ordered by task, partition, generation, segment and position. */
  read(job: string, sink: string, options?: { cursor?: string; limit?: number }): Promise<OutputPage>;
  /** Every dead letter of the job, ordered by id's parts (task, partition, generation, segment, index). */
  deadLetters(job: string): Promise<StoredDeadLetter[]>;
  /**
   * Marks dead letters replayed at `time`, each with its envelope in `marks` when
   * given; unknown ids are ignored.
   */
  markReplayed(
    job: string,
    ids: readonly string[],
    time: number,
    marks?: Readonly<Record<string, ReplayMark>>,
  ): Promise<void>;
  /**
   * Clears the replayed mark of each letter whose mark still has the given sequence
   * number (a restore undid that replay; a newer replay's mark stays). Unknown ids
   * and letters marked otherwise are ignored; clearing twice changes nothing.
   */
  unmarkReplayed(job: string, letters: readonly ReplayUnmark[]): Promise<void>;
}
