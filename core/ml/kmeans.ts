/**
 * Online k-means. The first `initRows` rows are kept in state and seed the centres
 * by k-means++ (seeded, so every run picks the same ones); from then on each row
 * moves its nearest centre towards it (MacQueen's update, with an optional decay that
 * forgets old rows). Offline, the same fold runs, then Lloyd's iterations over the
 * whole table.
 */

import type { DataStream } from "../api/datastream.ts";
import { checkParam, vectorColumn } from "./columns.ts";
import { fitLearner, type Learner, type TrainingOptions } from "./online.ts";
import { seededRandom } from "./random.ts";
import { ServingModel } from "./serving.ts";
import type { Estimator, ModelVersion, Row, Table, Vector } from "./stage.ts";
import { nearest, squaredDistance } from "./vectors.ts";

/** A fitted k-means: the centres, and the (decayed) number of rows each has absorbed. */
export interface KMeansData {
  readonly centroids: number[][];
  readonly weights: number[];
}

/** The columns a k-means model reads and writes. */
export interface KMeansColumns {
  /** Input vector column (default `features`). */
  readonly featuresCol?: string;
  /** Output: the index of the nearest centre (default `prediction`). */
  readonly predictionCol?: string;
  /** Output, if set: the model version that served the row. */
  readonly modelVersionCol?: string;
}

/** Parameters of {@link KMeans}. */
export interface KMeansParams extends KMeansColumns, TrainingOptions {
  /** The number of clusters (default 2). */
  readonly k?: number;
  /** The seed of the k-means++ initialisation (default 0). */
  readonly seed?: number;
  /** Rows kept to seed the centres (default `20·k`, at least `k`). */
  readonly initRows?: number;
  /** How much a centre's past rows weigh against a new one, in (0, 1] (default 1: a running mean). */
  readonly decayFactor?: number;
  /** Offline: Lloyd's iterations at most (default 20). */
  readonly maxIter?: number;
}

interface KMeansState {
  readonly centroids: number[][];
  readonly weights: number[];
  /** Rows kept until there are `initRows` of them. */
  readonly buffer: number[][];
}

const STAGE = "KMeans";

/**
 * Online k-means.
 *
 * @example
 * ```ts
 * const model = new KMeans({ k: 5, seed: 7 }).fit(points); // points: {features}
 * model.transform(points).sinkTo("clustered"); // adds `prediction`: the cluster index
 * ```
 */
export class KMeans implements Estimator<KMeansModel> {
  /** The parameters, as given. */
  readonly params: KMeansParams;

  constructor(params: KMeansParams = {}) {
    const k = checkParam(STAGE, "k", params.k ?? 2, { min: 1, integer: true });
    checkParam(STAGE, "initRows", params.initRows ?? 20 * k, { min: k, integer: true });
    checkParam(STAGE, "decayFactor", params.decayFactor ?? 1, { min: 0, max: 1, open: true });
    checkParam(STAGE, "maxIter", params.maxIter ?? 20, { min: 0, integer: true });
    checkParam(STAGE, "seed", params.seed ?? 0, { min: 0, integer: true });
    this.params = params;
  }

  /** Fits on a stream (a version every `versionEvery` rows once seeded) or on an in-memory table. */
  fit<R extends object>(input: Table<R>): KMeansModel {
    return new KMeansModel(fitLearner(kmeans(this.params), input, this.params), this.params);
  }
}

/** A k-means model: adds the index of the nearest centre. */
export class KMeansModel extends ServingModel<KMeansData> {
  private readonly columns: KMeansColumns;

  /** A model serving `data`: a fixed version or a stream of versions. */
  constructor(data: ModelVersion<KMeansData> | DataStream<ModelVersion<KMeansData>>, columns: KMeansColumns = {}) {
    super(STAGE, data, columns.modelVersionCol);
    this.columns = columns;
  }

  protected serve(data: KMeansData, row: Row): Row {
    const x = vectorColumn(STAGE, row, this.columns.featuresCol ?? "features", data.centroids[0]?.length);
    return { ...row, [this.columns.predictionCol ?? "prediction"]: nearest(data.centroids, x) };
  }
}

function kmeans(params: KMeansParams): Learner<KMeansState, KMeansData> {
  const k = params.k ?? 2;
  const initRows = params.initRows ?? 20 * k;
  const decay = params.decayFactor ?? 1;
  const featuresCol = params.featuresCol ?? "features";
  const absorb = (s: { centroids: number[][]; weights: number[] }, x: Vector) => {
    const j = nearest(s.centroids, x);
    const w = (s.weights[j] as number) * decay + 1;
    const c = s.centroids[j] as number[];
    s.centroids[j] = c.map((ci, i) => ci + ((x[i] as number) - ci) / w);
    s.weights[j] = w;
  };
  return {
    stage: STAGE,
    init: () => ({ centroids: [], weights: [], buffer: [] }),
    update(state, row) {
      const dims = state.centroids[0]?.length ?? state.buffer[0]?.length;
      const x = [...vectorColumn(STAGE, row, featuresCol, dims)];
      if (state.centroids.length > 0) {
        const next = { centroids: [...state.centroids], weights: [...state.weights], buffer: [] };
        absorb(next, x);
        return next;
      }
      const buffer = [...state.buffer, x];
      if (buffer.length < initRows) return { ...state, buffer };
      const next = { centroids: kMeansPlusPlus(buffer, k, params.seed ?? 0), weights: new Array<number>(k).fill(0) };
      for (const b of buffer) absorb(next, b);
      return { ...next, buffer: [] };
    },
    data: (state) =>
      state.centroids.length === 0 ? undefined : { centroids: state.centroids, weights: state.weights },
    refine: (data, rows) =>
      lloyd(
        data,
        rows.map((r) => vectorColumn(STAGE, r, featuresCol)),
        params.maxIter ?? 20,
      ),
  };
}

/** k centres among `points` by k-means++ (each next centre drawn with probability ∝ D²). */
function kMeansPlusPlus(points: readonly number[][], k: number, seed: number): number[][] {
  const random = seededRandom(seed);
  const centres = [points[Math.floor(random() * points.length)] as number[]];
  while (centres.length < k) {
    const d2 = points.map((p) => squaredDistance(p, centres[nearest(centres, p)] as number[]));
    const total = d2.reduce((a, b) => a + b, 0);
    let r = random() * total;
    let pick = d2.findIndex((d) => {
      r -= d;
      return d > 0 && r <= 0;
    });
    if (pick < 0) pick = d2.findIndex((d) => d > 0);
    centres.push([...(points[pick < 0 ? centres.length % points.length : pick] as number[])]);
  }
  return centres.map((c) => [...c]);
}

/** Lloyd's iterations from `data` until no row changes cluster (or `maxIter`). */
function lloyd(data: KMeansData, points: readonly Vector[], maxIter: number): KMeansData {
  let centroids = data.centroids;
  let assigned = points.map((p) => nearest(centroids, p));
  let counts = data.weights;
  for (let iter = 0; iter < maxIter; iter++) {
    const sums = centroids.map((c) => c.map(() => 0));
    counts = centroids.map(() => 0);
    points.forEach((p, i) => {
      const j = assigned[i] as number;
      counts[j] = (counts[j] as number) + 1;
      const s = sums[j] as number[];
      for (let d = 0; d < s.length; d++) s[d] = (s[d] as number) + (p[d] as number);
    });
    centroids = centroids.map((c, j) =>
      (counts[j] as number) === 0 ? c : (sums[j] as number[]).map((s) => s / (counts[j] as number)),
    );
    const next = points.map((p) => nearest(centroids, p));
    const moved = next.some((j, i) => j !== assigned[i]);
    assigned = next;
    if (!moved) break;
  }
  return { centroids, weights: counts };
}
