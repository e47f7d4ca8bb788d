/**
 * The one training path every learning stage shares.
 *
 * A {@link Learner} is a pure fold: `update(state, row)` returns the next state, and
 * `data(state)` the model data to serve. On a stream, the fold runs in one keyed
 * operator (one key, parallelism 1) whose state is riffle keyed state, so it is
 * committed with each batch and restored after a crash like any other: the model
 * state is exactly-once. Every `versionEvery` rows, and once more at the end of a
 * bounded input, the operator emits a {@link ModelVersion}. Versions depend only on the
 * rows and their order, never on batches, so a run with crashes emits the same
 * versions as one without. On an in-memory table the same fold runs `epochs` times,
 * then the learner's optional offline `refine` step.
 *
 * Serving is in `serving.ts`.
 */

import { DataStream } from "../api/datastream.ts";
import { type StateDescriptor, type ValueState, valueState } from "../api/state.ts";
import { checkParam } from "./columns.ts";
import { MLUsageError } from "./errors.ts";
import { type ModelVersion, type Row, rowTable, type Table } from "./stage.ts";

/** An online learning algorithm as a pure fold over rows. */
export interface Learner<S, D> {
  /** The stage's name (in errors and the training operator's default uid). */
  readonly stage: string;
  /** The state before any row. */
  init(): S;
  /** The state after `row`. Returns a new state; never changes `state`. */
  update(state: S, row: Row): S;
  /** The model data of `state`, or `undefined` while it cannot serve yet. */
  data(state: S): D | undefined;
  /** Offline only: improves `data` with full passes over `rows` (e.g. Lloyd's iterations). */
  refine?(data: D, rows: readonly Row[]): D;
}

/** How an estimator trains. */
export interface TrainingOptions {
  /** The training operator's uid (its state is stored under it). Default: `ml-` and the stage name. */
  readonly uid?: string;
  /** Emit a model version every this many rows (default 1000), and at the end of a bounded stream. */
  readonly versionEvery?: number;
  /** Passes over an in-memory table (default 1; a stream is learned in one pass). */
  readonly epochs?: number;
}

/**
 * Fits `learner` on `rows`: a stream of versions, or (an in-memory table) one version.
 * The built-in estimators are this and a `ServingModel` (serving.ts); so can yours be.
 */
export function fitLearner<S, D, R extends object>(
  learner: Learner<S, D>,
  rows: Table<R>,
  options: TrainingOptions,
): ModelVersion<D> | DataStream<ModelVersion<D>> {
  const input = rowTable(rows);
  const every = checkParam(learner.stage, "versionEvery", options.versionEvery ?? 1000, { min: 1, integer: true });
  const epochs = checkParam(learner.stage, "epochs", options.epochs ?? 1, { min: 1, integer: true });
  if (input instanceof DataStream) return trainOnStream(learner, input, options.uid ?? `ml-${learner.stage}`, every);
  return fitRows(learner, input, epochs);
}

function trainOnStream<S, D>(
  learner: Learner<S, D>,
  input: DataStream<Row>,
  uid: string,
  every: number,
): DataStream<ModelVersion<D>> {
  const emitVersion = (records: number, state: S, emit: (v: ModelVersion<D>) => void) => {
    const data = learner.data(state);
    if (data !== undefined) emit({ version: Math.ceil(records / every), records, data });
  };
  return input
    .keyBy(() => 0)
    .process<ModelVersion<D>, { model: StateDescriptor<ValueState<S>>; records: StateDescriptor<ValueState<number>> }>({
      state: { model: valueState<S>(), records: valueState<number>() },
      processElement(row, ctx) {
        const records = (ctx.state.records.value() ?? 0) + 1;
        // Fires once a bounded input ends (the watermark reaches the end of time): the last version.
        if (records === 1) ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
        const state = learner.update(ctx.state.model.value() ?? learner.init(), row);
        ctx.state.model.update(state);
        ctx.state.records.update(records);
        if (records % every === 0) emitVersion(records, state, (v) => ctx.emit(v));
      },
      onTimer(_time, ctx) {
        const records = ctx.state.records.value() ?? 0;
        const state = ctx.state.model.value();
        if (state !== undefined && records % every !== 0) emitVersion(records, state, (v) => ctx.emit(v));
      },
    })
    .uid(uid)
    .name(`fit(${learner.stage})`)
    .setParallelism(1);
}

function fitRows<S, D>(learner: Learner<S, D>, rows: readonly Row[], epochs: number): ModelVersion<D> {
  let state = learner.init();
  for (let e = 0; e < epochs; e++) for (const row of rows) state = learner.update(state, row);
  const data = learner.data(state);
  if (data === undefined) throw new MLUsageError(`${learner.stage}: ${rows.length} rows are too few to fit a model`);
  return { version: 1, records: rows.length * epochs, data: learner.refine ? learner.refine(data, rows) : data };
}
