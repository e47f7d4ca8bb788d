/**
 * riffle's ML pipeline API, after Flink ML 2.0: estimators, transformers, models and
 * pipelines over a stream (online, with exactly-once model state) or an in-memory
 * table (offline), with the same code.
 *
 * @example
 * ```ts
 * import { LogisticRegression } from "riffle/ml";
 *
 * const model = new LogisticRegression().fit(trainingStream);
 * model.transform(liveStream).sinkTo("scored"); // served by the newest model version
 * ```
 * @packageDocumentation
 */

export { blobRows, type ClusteredRow, type LabelledRow, separableRows } from "./datasets.ts";
export { MLRecordError, MLUsageError } from "./errors.ts";
export { FeatureHasher, type FeatureHasherParams } from "./feature-hasher.ts";
export { KMeans, type KMeansColumns, type KMeansData, KMeansModel, type KMeansParams } from "./kmeans.ts";
export {
  LogisticRegression,
  type LogisticRegressionColumns,
  type LogisticRegressionData,
  LogisticRegressionModel,
  type LogisticRegressionParams,
} from "./logistic-regression.ts";
export { areaUnderRoc } from "./metrics.ts";
export { fitLearner, type Learner, type TrainingOptions } from "./online.ts";
export { Pipeline, PipelineModel } from "./pipeline.ts";
export { gaussian, recordRandom, seededRandom } from "./random.ts";
export { ServingModel } from "./serving.ts";
export type { Estimator, Model, ModelVersion, Row, Stage, Table, Transformer, Vector } from "./stage.ts";
export {
  StandardScaler,
  type StandardScalerColumns,
  type StandardScalerData,
  StandardScalerModel,
  type StandardScalerParams,
} from "./standard-scaler.ts";
