/**
 * The source interface: a source divides its input into splits, and a reader
 * reads one split from a position. Positions are JSON values stored in the source
 * partition's committed segments, so a restored source resumes exactly where its
 * cut says. Nexmark, HTTP ingest and CDC sources plug in here.
 */

import type { IngestLog } from "../ports/ingest-log.ts";
import type { TableStore } from "../ports/table-store.ts";

/** One independently readable part of a source's input. JSON-serializable. */
export interface SourceSplit {
  /** Unique within the source; state of the split is stored under this id. */
  readonly id: string;
  readonly [field: string]: unknown;
}

/** What one read returns. */
export interface SourceChunk<T> {
  /** Records read, in order (may be empty). */
  readonly records: T[];
  /** Event times of `records`, index-aligned, if the source assigns them. */
  readonly times?: number[];
  /** Position after the last record returned; handed back to `reader` on restore. */
  readonly position: unknown;
  /** True when the split has no more input (bounded sources only). */
  readonly done: boolean;
  /**
   * True when the split has nothing more to read right now (an unbounded source
   * waiting for input; with records: they were the last there were). When every
   * split of a partition is idle, the partition stops polling
   * until a start signal wakes it (an ingest append sends one), or until `wakeAt`.
   */
  readonly idle?: boolean;
  /**
   * With `idle`: poll again at this processing time (see
   * {@link SourceContext.currentProcessingTime}) if nothing woke the partition
   * before. When idle splits give several, the earliest counts.
   *
   * A chunk with no records that is neither `done` nor `idle` makes the partition
   * back off instead: it polls again after 10 ms, then 20, 40, … up to 1 s while
   * polls keep returning nothing, and at once again after a poll that read records.
   */
  readonly wakeAt?: number;
}

/** What a reader may use of the runtime it runs in. */
export interface SourceContext {
  /** The job's name. */
  readonly job: string;
  /** The durable log behind ingest sources, when the runtime has one. */
  readonly ingest?: IngestLog;
  /** The dynamic tables of the runtime's jobs, for a source reading another job's table. */
  readonly tables?: TableStore;
  /** Processing time from the runtime's clock (for {@link SourceChunk.wakeAt}). */
  readonly currentProcessingTime?: () => number;
}

/** Reads one split sequentially. */
export interface SplitReader<T> {
  /** Reads up to `max` records. */
  read(max: number): SourceChunk<T> | Promise<SourceChunk<T>>;
  /** Releases resources. */
  close?(): void | Promise<void>;
  /**
   * The source partition ended epoch `checkpointId` with this split at `position`
   * (Flink's `SourceReader.snapshotState`). Called only for a source with
   * {@link Source.checkpointListener}. The epoch's segment commits after the call,
   * and may not: remember the position, act only on {@link notifyCheckpointComplete}.
   */
  snapshotState?(checkpointId: number, position: unknown): void;
  /**
   * Checkpoint `checkpointId` completed (best effort, at most once per reader, and
   * not for every checkpoint): the positions given to `snapshotState` for it and
   * for earlier ones are in a completed checkpoint, so the source may confirm them
   * upstream (a Postgres slot's flushed LSN). A restore never goes back before them.
   */
  notifyCheckpointComplete?(checkpointId: number): void;
}

/** A pluggable source. */
export interface Source<T> {
  /** Display name, e.g. `elements` or `nexmark`. */
  readonly name: string;
  /** True when every split ends. */
  readonly bounded: boolean;
  /** A parallelism the source requires (e.g. 1 for an in-memory array). */
  readonly fixedParallelism?: number;
  /**
   * True when the records carry event times and watermarks arrive with them (the
   * test harness's input), so event-time operators need no
   * `assignTimestampsAndWatermarks()` downstream of it.
   */
  readonly eventTime?: boolean;
  /**
   * True when its readers implement {@link SplitReader.snapshotState} and
   * {@link SplitReader.notifyCheckpointComplete}: the source partitions then get
   * checkpoint-complete signals.
   */
  readonly checkpointListener?: boolean;
  /** Splits for a source running with `parallelism` partitions. Split i goes to partition i mod parallelism. */
  splits(parallelism: number): SourceSplit[];
  /** Opens a reader on `split` at `position` (`undefined` means the beginning). */
  reader(split: SourceSplit, position: unknown, context?: SourceContext): SplitReader<T>;
}

/** A source over an in-memory array; one split, position = next index. */
export function elementsSource<T>(elements: readonly T[]): Source<T> {
  const data = elements.slice();
  return {
    name: "elements",
    bounded: true,
    fixedParallelism: 1,
    splits: () => [{ id: "0" }],
    reader: (_split, position) => {
      let next = typeof position === "number" ? position : 0;
      return {
        read(max) {
          const records = data.slice(next, next + max);
          next += records.length;
          return { records, position: next, done: next >= data.length };
        },
      };
    },
  };
}

/** Options of {@link generatorSource}. */
export interface GeneratorOptions {
  /** Number of records; omit for an unbounded source. */
  readonly count?: number;
  /** Number of splits (default 16): the most partitions that can read in parallel, at any rescale. */
  readonly splits?: number;
}

/**
 * A source that calls `fn(i)` for i = 0, 1, 2, … . It has a fixed number of splits S,
 * whatever the parallelism; split s produces the indices `s, s + S, s + 2S, …`. So
 * the records are the same at any parallelism, and a savepoint restores at another
 * parallelism split by split. Position = the next index of the split.
 */
export function generatorSource<T>(fn: (index: number) => T, options: GeneratorOptions = {}): Source<T> {
  const count = options.count;
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 0)) {
    throw new RangeError(`fromGenerator: count must be a non-negative integer, got ${count}`);
  }
  const splits = options.splits ?? 16;
  if (!Number.isSafeInteger(splits) || splits < 1) {
    throw new RangeError(`fromGenerator: splits must be a positive integer, got ${splits}`);
  }
  return {
    name: "generator",
    bounded: count !== undefined,
    splits: () => Array.from({ length: splits }, (_, p) => ({ id: String(p), first: p, stride: splits })),
    reader: (split, position) => {
      const stride = split.stride as number;
      let next = typeof position === "number" ? position : (split.first as number);
      return {
        read(max) {
          const records: T[] = [];
          while (records.length < max && (count === undefined || next < count)) {
            records.push(fn(next));
            next += stride;
          }
          return { records, position: next, done: count !== undefined && next >= count };
        },
      };
    },
  };
}
