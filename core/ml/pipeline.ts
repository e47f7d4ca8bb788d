/**
 * Pipelines: stages in order. Fitting a {@link Pipeline} fits each estimator on the
 * output of the stages before it, transforming the table through each fitted model up
 * to the last estimator (as Flink ML does); the result is a {@link PipelineModel} that
 * runs every stage's transformer in turn. On a stream, each estimator adds a training
 * operator and each model serves its versions as they come.
 */

import type { DataStream } from "../api/datastream.ts";
import { MLUsageError } from "./errors.ts";
import { type Estimator, isEstimator, type Row, rowTable, type Stage, type Table, type Transformer } from "./stage.ts";

/**
 * A chain of transformers and estimators, itself an estimator.
 *
 * @example
 * ```ts
 * const model = new Pipeline([
 *   new FeatureHasher({ inputCols: ["country", "device"], outputCol: "raw" }),
 *   new StandardScaler({ inputCol: "raw", outputCol: "features" }),
 *   new LogisticRegression(),
 * ]).fit(training);
 * model.transform(unseen);
 * ```
 */
export class Pipeline implements Estimator<PipelineModel> {
  /** The stages, in order. */
  readonly stages: readonly Stage[];

  constructor(stages: readonly Stage[]) {
    if (!Array.isArray(stages) || stages.length === 0) throw new MLUsageError("Pipeline: needs at least one stage");
    this.stages = stages;
  }

  /** Fits every estimator in order, on a stream or an in-memory table. */
  fit<R extends object>(input: Table<R>): PipelineModel {
    const lastEstimator = this.stages.findLastIndex((s) => isEstimator(s));
    let table = rowTable(input);
    const fitted = this.stages.map((stage, i) => {
      const t = isEstimator(stage) ? stage.fit(table) : stage;
      if (i < lastEstimator) table = t.transform(table);
      return t;
    });
    return new PipelineModel(fitted);
  }
}

/** The fitted pipeline: each stage's transformer, applied in turn. */
export class PipelineModel implements Transformer {
  /** The transformers, in order. */
  readonly stages: readonly Transformer[];

  constructor(stages: readonly Transformer[]) {
    this.stages = stages;
  }

  /** Runs every stage on a stream or an in-memory table. */
  transform<R extends object>(input: DataStream<R>): DataStream<Row>;
  transform<R extends object>(input: readonly R[]): Row[];
  transform<R extends object>(input: Table<R>): Table;
  transform<R extends object>(rows: Table<R>): Table {
    const input = rowTable(rows);
    return this.stages.reduce<Table>((table, stage) => stage.transform(table), input);
  }
}
