/**
 * The `IngestLog` port: the durable, replayable input of ingest sources. The HTTP
 * API appends records to one partition of a source; the source's partitions read
 * them back by sequence number. Because the log keeps what it accepted, a restore
 * re-reads from the cut position, just as a file or Kafka source would.
 * Implementations: in memory, DynamoDB.
 */

/** One record of the log. */
export interface IngestedRecord {
  /** 1-based, gapless per (job, source, partition). */
  readonly seq: number;
  readonly value: unknown;
}

/** Seqs an append was given. */
export interface AppendedRange {
  readonly first: number;
  readonly last: number;
}

/** Durable input of a job's ingest sources. */
export interface IngestLog {
  /**
   * Appends `values` (in order) to a partition of a source. All or nothing: the
   * values get consecutive seqs after the partition's last one, and are durable
   * when the promise resolves. Concurrent appends to a partition are serialized.
   */
  append(job: string, source: string, partition: number, values: readonly unknown[]): Promise<AppendedRange>;
  /** Up to `max` records with seq above `after`, ascending. */
  read(job: string, source: string, partition: number, after: number, max: number): Promise<IngestedRecord[]>;
  /** The last seq appended to a partition (0: none). */
  head(job: string, source: string, partition: number): Promise<number>;
}
