/**
 * Standard scaler: learns each feature's mean and standard deviation with Welford's
 * running update (stable in one pass, so online and offline fits agree), and scales
 * vectors by them.
 */

import type { DataStream } from "../api/datastream.ts";
import { vectorColumn } from "./columns.ts";
import { fitLearner, type Learner, type TrainingOptions } from "./online.ts";
import { ServingModel } from "./serving.ts";
import type { Estimator, ModelVersion, Row, Table } from "./stage.ts";

/** A fitted standard scaler: per feature, the mean and the sample standard deviation. */
export interface StandardScalerData {
  readonly mean: number[];
  readonly std: number[];
}

/** The columns and options of a standard scaler model. */
export interface StandardScalerColumns {
  /** Input vector column (default `features`). */
  readonly inputCol?: string;
  /** Output vector column (default `scaled`). */
  readonly outputCol?: string;
  /** Subtract the mean (default false, as in Flink ML). */
  readonly withMean?: boolean;
  /** Divide by the standard deviation (default true); a feature with deviation 0 becomes 0. */
  readonly withStd?: boolean;
  /** Output, if set: the model version that served the row. */
  readonly modelVersionCol?: string;
}

/** Parameters of {@link StandardScaler}. */
export interface StandardScalerParams extends StandardScalerColumns, TrainingOptions {}

interface WelfordState {
  readonly count: number;
  readonly mean: number[];
  readonly m2: number[];
}

const STAGE = "StandardScaler";

/**
 * Standardizes a vector column.
 *
 * @example
 * ```ts
 * const scaler = new StandardScaler({ inputCol: "raw", outputCol: "features", withMean: true }).fit(rows);
 * scaler.transform(rows); // adds `features`: (raw − mean) / std
 * ```
 */
export class StandardScaler implements Estimator<StandardScalerModel> {
  /** The parameters, as given. */
  readonly params: StandardScalerParams;

  constructor(params: StandardScalerParams = {}) {
    this.params = params;
  }

  /** Fits on a stream (a version every `versionEvery` rows) or on an in-memory table. */
  fit<R extends object>(input: Table<R>): StandardScalerModel {
    return new StandardScalerModel(fitLearner(welford(this.params), input, this.params), this.params);
  }
}

/** A standard scaler model: adds the scaled vector. */
export class StandardScalerModel extends ServingModel<StandardScalerData> {
  private readonly columns: StandardScalerColumns;

  /** A model serving `data`: a fixed version or a stream of versions. */
  constructor(
    data: ModelVersion<StandardScalerData> | DataStream<ModelVersion<StandardScalerData>>,
    columns: StandardScalerColumns = {},
  ) {
    super(STAGE, data, columns.modelVersionCol);
    this.columns = columns;
  }

  protected serve(data: StandardScalerData, row: Row): Row {
    const x = vectorColumn(STAGE, row, this.columns.inputCol ?? "features", data.mean.length);
    const withMean = this.columns.withMean ?? false;
    const withStd = this.columns.withStd ?? true;
    const scaled = x.map((v, i) => {
      const centred = withMean ? v - (data.mean[i] as number) : v;
      const std = data.std[i] as number;
      return !withStd ? centred : std === 0 ? 0 : centred / std;
    });
    return { ...row, [this.columns.outputCol ?? "scaled"]: scaled };
  }
}

function welford(params: StandardScalerParams): Learner<WelfordState, StandardScalerData> {
  const inputCol = params.inputCol ?? "features";
  return {
    stage: STAGE,
    init: () => ({ count: 0, mean: [], m2: [] }),
    update(state, row) {
      const x = vectorColumn(STAGE, row, inputCol, state.count === 0 ? undefined : state.mean.length);
      const count = state.count + 1;
      const mean = state.count === 0 ? x.map(() => 0) : [...state.mean];
      const m2 = state.count === 0 ? x.map(() => 0) : [...state.m2];
      for (let i = 0; i < x.length; i++) {
        const delta = (x[i] as number) - (mean[i] as number);
        mean[i] = (mean[i] as number) + delta / count;
        m2[i] = (m2[i] as number) + delta * ((x[i] as number) - (mean[i] as number));
      }
      return { count, mean, m2 };
    },
    data(state) {
      if (state.count === 0) return undefined;
      const std = state.m2.map((m) => (state.count < 2 ? 0 : Math.sqrt(m / (state.count - 1))));
      return { mean: state.mean, std };
    },
  };
}
