/**
 * Ingest sources: unbounded sources fed over HTTP (`POST /jobs/{job}/sources/{name}/events`).
 * Accepted records are appended to the runtime's {@link IngestLog}, a durable and
 * replayable log, and the source's partitions read them back by sequence number.
 * A partition with nothing to read parks and is woken by the next append, so an
 * idle job costs nothing.
 */

import { JobDefinitionError } from "../errors.ts";
import type { StandardSchemaV1 } from "./schema.ts";
import type { Source, SourceContext, SplitReader } from "./source.ts";

/** Options of {@link ingestSource}. */
export interface IngestOptions<T> {
  /**
   * Validates every record before it is accepted (a Standard Schema validator such
   * as a zod schema). A record that fails is refused with 422 and nothing of its
   * request is stored. Without one, any JSON value is accepted.
   */
  readonly schema?: StandardSchemaV1<unknown, T>;
  /**
   * Log partitions (default 4): the most source partitions that can read in
   * parallel. Records of one request keep their order; requests with the same
   * `key` go to the same partition.
   */
  readonly partitions?: number;
}

/** The ingest part of a source created by {@link ingestSource}. */
export interface IngestDescriptor {
  readonly name: string;
  readonly partitions: number;
  readonly schema?: StandardSchemaV1;
}

/** A {@link Source} that reads an ingest log. */
export interface IngestSource<T> extends Source<T> {
  readonly ingest: IngestDescriptor;
}

/** True when `source` is an ingest source. */
export function isIngestSource(source: Source<unknown>): source is IngestSource<unknown> {
  return typeof (source as Partial<IngestSource<unknown>>).ingest?.name === "string";
}

/** Name rule for ingest sources: it appears in URLs and storage keys. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** An unbounded source fed by the HTTP API; see the module comment. */
export function ingestSource<T>(name: string, options: IngestOptions<T> = {}): IngestSource<T> {
  if (!NAME.test(name)) {
    throw new JobDefinitionError(`ingest source name '${name}' must be 1-64 characters of A-Z a-z 0-9 _ -`);
  }
  const partitions = options.partitions ?? 4;
  if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 1024) {
    throw new JobDefinitionError(
      `ingest source '${name}': partitions must be an integer in 1..1024, got ${partitions}`,
    );
  }
  const ingest: IngestDescriptor = { name, partitions, ...(options.schema ? { schema: options.schema } : {}) };
  return {
    name: `ingest:${name}`,
    bounded: false,
    ingest,
    splits: () => Array.from({ length: partitions }, (_, p) => ({ id: String(p), partition: p })),
    reader: (split, position, context) => ingestReader<T>(name, split.partition as number, position, context),
  };
}

function ingestReader<T>(name: string, partition: number, position: unknown, context?: SourceContext): SplitReader<T> {
  const log = context?.ingest;
  if (!log || !context) {
    throw new JobDefinitionError(
      `ingest source '${name}' needs a runtime with an ingest log: run it with 'riffle dev' or on AWS`,
    );
  }
  let after = typeof position === "number" ? position : 0;
  return {
    async read(max) {
      const got = await log.read(context.job, name, partition, after, max);
      if (got.length === 0) return { records: [], position: after, done: false, idle: true };
      after = (got[got.length - 1] as { seq: number }).seq;
      // A short read reached the log's end: the partition parks after these records
      // instead of polling once more for nothing (the next append wakes it).
      return { records: got.map((r) => r.value as T), position: after, done: false, idle: got.length < max };
    },
  };
}

/** The source partition that reads log partition `partition` of an ingest source at `parallelism`. */
export function ingestReaderPartition(partition: number, parallelism: number): number {
  return partition % parallelism;
}
