/**
 * Online logistic regression by FTRL-Proximal (McMahan et al., "Ad Click Prediction:
 * a View from the Trenches", 2013): per-coordinate learning rates, optional L1/L2.
 * The state is the algorithm's `z` and `n` per coordinate; the intercept is the
 * coefficient of a constant feature 1.
 */

import type { DataStream } from "../api/datastream.ts";
import { checkParam, labelColumn, vectorColumn } from "./columns.ts";
import { fitLearner, type Learner, type TrainingOptions } from "./online.ts";
import { ServingModel } from "./serving.ts";
import type { Estimator, ModelVersion, Row, Table } from "./stage.ts";
import { dot, sigmoid } from "./vectors.ts";

/** A fitted logistic regression. */
export interface LogisticRegressionData {
  readonly coefficients: number[];
  readonly intercept: number;
}

/** The columns a logistic regression model reads and writes. */
export interface LogisticRegressionColumns {
  /** Input vector column (default `features`). */
  readonly featuresCol?: string;
  /** Output: 1 when the probability is at least 0.5, else 0 (default `prediction`). */
  readonly predictionCol?: string;
  /** Output: the probability of label 1 (default `probability`). */
  readonly probabilityCol?: string;
  /** Output, if set: the model version that served the row. */
  readonly modelVersionCol?: string;
}

/** Parameters of {@link LogisticRegression}. */
export interface LogisticRegressionParams extends LogisticRegressionColumns, TrainingOptions {
  /** Input label column, 0 or 1 (default `label`). */
  readonly labelCol?: string;
  /** FTRL's learning rate α (default 0.1). */
  readonly alpha?: number;
  /** FTRL's β (default 1). */
  readonly beta?: number;
  /** L1 regularization (default 0). */
  readonly l1?: number;
  /** L2 regularization (default 0). */
  readonly l2?: number;
}

interface FtrlState {
  readonly z: number[];
  readonly n: number[];
}

const STAGE = "LogisticRegression";

/**
 * Online logistic regression (FTRL-Proximal) for binary labels.
 *
 * @example
 * ```ts
 * const model = new LogisticRegression({ versionEvery: 500 }).fit(rows); // rows: {features, label}
 * model.transform(unseen).sinkTo("scored"); // adds `prediction` and `probability`
 * ```
 */
export class LogisticRegression implements Estimator<LogisticRegressionModel> {
  /** The parameters, as given. */
  readonly params: LogisticRegressionParams;

  constructor(params: LogisticRegressionParams = {}) {
    checkParam(STAGE, "alpha", params.alpha ?? 0.1, { min: 0, open: true });
    checkParam(STAGE, "beta", params.beta ?? 1, { min: 0 });
    checkParam(STAGE, "l1", params.l1 ?? 0, { min: 0 });
    checkParam(STAGE, "l2", params.l2 ?? 0, { min: 0 });
    this.params = params;
  }

  /** Fits on a stream (a version every `versionEvery` rows) or on an in-memory table. */
  fit<R extends object>(input: Table<R>): LogisticRegressionModel {
    return new LogisticRegressionModel(fitLearner(ftrl(this.params), input, this.params), this.params);
  }
}

/** A logistic regression model: adds `prediction` and `probability` columns. */
export class LogisticRegressionModel extends ServingModel<LogisticRegressionData> {
  private readonly columns: LogisticRegressionColumns;

  /** A model serving `data`: a fixed version (e.g. one saved from a fit) or a stream of versions. */
  constructor(
    data: ModelVersion<LogisticRegressionData> | DataStream<ModelVersion<LogisticRegressionData>>,
    columns: LogisticRegressionColumns = {},
  ) {
    super(STAGE, data, columns.modelVersionCol);
    this.columns = columns;
  }

  protected serve(data: LogisticRegressionData, row: Row): Row {
    const x = vectorColumn(STAGE, row, this.columns.featuresCol ?? "features", data.coefficients.length);
    const p = sigmoid(dot(data.coefficients, x) + data.intercept);
    return {
      ...row,
      [this.columns.predictionCol ?? "prediction"]: p >= 0.5 ? 1 : 0,
      [this.columns.probabilityCol ?? "probability"]: p,
    };
  }
}

function ftrl(params: LogisticRegressionParams): Learner<FtrlState, LogisticRegressionData> {
  const [alpha, beta, l1, l2] = [params.alpha ?? 0.1, params.beta ?? 1, params.l1 ?? 0, params.l2 ?? 0];
  const featuresCol = params.featuresCol ?? "features";
  const labelCol = params.labelCol ?? "label";
  const weight = (z: number, n: number) =>
    Math.abs(z) <= l1 ? 0 : -(z - Math.sign(z) * l1) / ((beta + Math.sqrt(n)) / alpha + l2);
  return {
    stage: STAGE,
    init: () => ({ z: [], n: [] }),
    update(state, row) {
      const dims = state.z.length === 0 ? undefined : state.z.length - 1;
      const x = [...vectorColumn(STAGE, row, featuresCol, dims), 1];
      const y = labelColumn(STAGE, row, labelCol);
      const z = state.z.length === 0 ? x.map(() => 0) : [...state.z];
      const n = state.n.length === 0 ? x.map(() => 0) : [...state.n];
      const w = z.map((zi, i) => weight(zi, n[i] as number));
      const p = sigmoid(dot(w, x));
      for (let i = 0; i < x.length; i++) {
        const g = (p - y) * (x[i] as number);
        const ni = n[i] as number;
        const sigma = (Math.sqrt(ni + g * g) - Math.sqrt(ni)) / alpha;
        z[i] = (z[i] as number) + g - sigma * (w[i] as number);
        n[i] = ni + g * g;
      }
      return { z, n };
    },
    data(state) {
      if (state.z.length === 0) return undefined;
      const w = state.z.map((zi, i) => weight(zi, state.n[i] as number));
      return { coefficients: w.slice(0, -1), intercept: w[w.length - 1] as number };
    },
  };
}
