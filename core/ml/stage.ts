/**
 * The pipeline API's vocabulary, after Flink ML 2.0: a {@link Transformer} turns a
 * table into another; an {@link Estimator} fits a {@link Model} (a transformer) on one.
 *
 * A table is either a `DataStream` of rows, bounded or not, or an in-memory array of
 * rows (a bounded table, fitted offline). Every stage takes both: on a stream it adds
 * operators to the job; on an array it computes at once, with the same update code.
 * Rows are plain objects; stages read and write named columns, and a feature vector is
 * an array of numbers.
 */

import type { DataStream } from "../api/datastream.ts";

/** A record of a table: named columns. */
export type Row = Readonly<Record<string, unknown>>;

/** A dense feature vector. */
export type Vector = readonly number[];

/**
 * What stages read and write: a stream of rows (bounded or not), or an in-memory bounded
 * table. Stages accept rows of any object type `R` (an interface too) and read the
 * columns they are told to; they output {@link Row}s.
 */
export type Table<R extends object = Row> = DataStream<R> | readonly R[];

/**
 * One version of a model's data, as the training operator emits it: `version` counts
 * up from 1; `records` is how many rows it has learned from.
 */
export interface ModelVersion<D> {
  readonly version: number;
  readonly records: number;
  readonly data: D;
}

/** Turns a table into another (adds columns). */
export interface Transformer {
  /** Adds this stage's columns to every row of a stream. */
  transform<R extends object>(input: DataStream<R>): DataStream<Row>;
  /** Adds this stage's columns to every row of an in-memory table. */
  transform<R extends object>(input: readonly R[]): Row[];
  /** Either of the above. */
  transform<R extends object>(input: Table<R>): Table;
}

/**
 * A transformer with learned data. Its data is either fixed (fitted offline, or
 * loaded) or a stream of {@link ModelVersion}s (fitted on a stream): then `transform`
 * of a stream serves each row with the newest version that reached its partition, so
 * the model updates while it serves.
 */
export interface Model<D> extends Transformer {
  /** The fixed data, or the stream of versions. */
  getModelData(): ModelVersion<D> | DataStream<ModelVersion<D>>;
}

/** Learns a {@link Model} from a table. */
export interface Estimator<M extends Transformer> {
  /**
   * Fits on a stream (adds a training operator to the job; the model's data is the
   * stream of versions it emits) or on an in-memory table (fits at once; fixed data).
   */
  fit<R extends object>(input: Table<R>): M;
}

/** A stage of a pipeline. */
export type Stage = Transformer | Estimator<Transformer>;

/** Whether `stage` is an estimator (has `fit`). */
export function isEstimator(stage: Stage): stage is Estimator<Transformer> {
  return typeof (stage as Partial<Estimator<Transformer>>).fit === "function";
}

/** `input` as a table of {@link Row}s (rows of any object type are read by column name). */
export function rowTable<R extends object>(input: Table<R>): Table {
  return input as unknown as Table;
}
