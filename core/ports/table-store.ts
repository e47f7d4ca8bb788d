/**
 * The `TableStore` port: where a job's dynamic tables live. A dynamic table is the
 * committed changelog of one of the job's sinks; each publication of a completed
 * checkpoint n writes the versions its segments produce, tagged n, and then seals n.
 * A sealed checkpoint is a consistent cut through every table of the job: the table
 * side at n is, per key, the newest version tagged at most n; the stream side from n
 * is the versions tagged above n. The fold rule (which change makes which version) is
 * one function, `core/tables/fold.ts`; a store only keeps versions.
 * Implementations: in memory, SQLite (the state dir).
 */

/** Column list, primary key and kind of a dynamic table. */
export interface TableSpec {
  readonly name: string;
  /** Columns as in a `CREATE TABLE`, e.g. `"user VARCHAR, total BIGINT"`. */
  readonly columns: string;
  /** Primary key columns: an upsert table. Absent: an append table. */
  readonly primaryKey?: readonly string[];
}

/** One version of one row: its key and the row, or `null` when the key was deleted. */
export interface TableVersion {
  /** The primary key's canonical encoding (upsert), or the change's place in the log (append). */
  readonly key: string;
  readonly row: Record<string, unknown> | null;
}

/** A version and the checkpoint that wrote it. */
export interface TaggedVersion extends TableVersion {
  readonly checkpoint: number;
}

/** A sealed checkpoint: readable at once in every table it names. */
export interface SealedCheckpoint {
  readonly checkpoint: number;
  /** When it was sealed (ms since the epoch). */
  readonly time: number;
  readonly tables: readonly TableSpec[];
}

/** Dynamic tables of jobs. */
export interface TableStore {
  /**
   * Writes versions of `table` tagged `checkpoint`. Writing a version again (same
   * key and checkpoint) replaces it with the same value, so a publication run again
   * changes nothing.
   */
  write(job: string, table: string, checkpoint: number, versions: readonly TableVersion[]): Promise<void>;
  /** Seals `checkpoint`: from now on it is readable. Sealing again changes nothing. */
  seal(job: string, sealed: SealedCheckpoint): Promise<void>;
  /** The sealed checkpoints, oldest first. */
  sealed(job: string): Promise<SealedCheckpoint[]>;
  /** The newest version of `key` tagged at most `at` (`undefined`: none). */
  get(job: string, table: string, key: string, at: number): Promise<TaggedVersion | undefined>;
  /** Per key, the newest version tagged at most `at`, deletions included; ordered by key. */
  scan(job: string, table: string, at: number): Promise<TaggedVersion[]>;
  /** Every version tagged in `(after, through]`, ordered by checkpoint, then key. */
  changes(job: string, table: string, after: number, through: number): Promise<TaggedVersion[]>;
  /**
   * Retention: drops the versions no read at a kept checkpoint needs, and the seals
   * not in `keep`. A version stays when it is the newest at some kept checkpoint or
   * newer than all of them.
   */
  retain(job: string, keep: readonly number[]): Promise<void>;
}
