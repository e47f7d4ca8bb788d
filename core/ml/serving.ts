/**
 * Serving a model: one pure function of the model data and a row.
 *
 * A model with fixed data serves by `map`. A model whose data is a stream of versions
 * connects the rows with the versions broadcast to every partition (the broadcast
 * state pattern): broadcast state keeps the newest version, which serves each row, so
 * the model updates while it serves. Rows that arrive before a partition's first
 * version wait for it in operator list state (as Flink ML's online models buffer
 * them), committed with each batch like any state. Which version serves which row
 * depends on the arrival order of the two inputs, which is not defined.
 */

import { MapStateDescriptor } from "../api/broadcast.ts";
import "../api/connected-streams.ts";
import { DataStream } from "../api/datastream.ts";
import { MLUsageError } from "./errors.ts";
import { type Model, type ModelVersion, type Row, rowTable, type Table } from "./stage.ts";

/** A model served by `serve(data, row)`; subclasses give `serve`. */
export abstract class ServingModel<D> implements Model<D> {
  /** The fixed data, or the stream of versions. */
  private readonly modelData: ModelVersion<D> | DataStream<ModelVersion<D>>;
  /** A column for the version that served each row, if wanted. */
  private readonly versionCol: string | undefined;
  /** The stage's name, for the serving operator's display name. */
  private readonly stage: string;

  protected constructor(stage: string, modelData: ModelVersion<D> | DataStream<ModelVersion<D>>, versionCol?: string) {
    this.stage = stage;
    this.modelData = modelData;
    this.versionCol = versionCol;
  }

  /** The row with this model's output columns, served by `data`. */
  protected abstract serve(data: D, row: Row): Row;

  /** The fixed data (fitted offline, or loaded), or the stream of versions (fitted on a stream). */
  getModelData(): ModelVersion<D> | DataStream<ModelVersion<D>> {
    return this.modelData;
  }

  /**
   * The stream of versions of a model fitted on a stream (e.g. to sink them:
   * `model.modelVersions().sinkTo("model")`). A model with fixed data has none: throws
   * {@link MLUsageError}.
   */
  modelVersions(): DataStream<ModelVersion<D>> {
    if (this.modelData instanceof DataStream) return this.modelData;
    throw new MLUsageError("this model has fixed data (fitted on an array, or loaded), not a stream of versions");
  }

  /** Adds this model's columns to every row: of a stream (served as the model updates) or of an in-memory table. */
  transform<R extends object>(input: DataStream<R>): DataStream<Row>;
  transform<R extends object>(input: readonly R[]): Row[];
  transform<R extends object>(input: Table<R>): Table;
  transform<R extends object>(rows: Table<R>): Table {
    const input = rowTable(rows);
    const md = this.modelData;
    if (!(md instanceof DataStream)) {
      if (!(input instanceof DataStream)) return input.map((row) => this.served(md, row));
      return input.map((row) => this.served(md, row)).name(`serve(${this.stage})`);
    }
    if (!(input instanceof DataStream)) {
      throw new MLUsageError(
        "a model fitted on a stream serves streams: its data exists only inside the job (fit on an array, or load a version, to transform an array)",
      );
    }
    return this.serveStream(input, md);
  }

  private served(v: ModelVersion<D>, row: Row): Row {
    const out = this.serve(v.data, row);
    return this.versionCol === undefined ? out : { ...out, [this.versionCol]: v.version };
  }

  private serveStream(input: DataStream<Row>, versions: DataStream<ModelVersion<D>>): DataStream<Row> {
    const served = (v: ModelVersion<D>, row: Row) => this.served(v, row);
    const current = new MapStateDescriptor<string, ModelVersion<D>>("model");
    return input
      .connect(versions.broadcast(current))
      .process<Row>({
        processElement(row, ctx) {
          const v = ctx.getBroadcastState(current).get("current");
          if (v === undefined) ctx.getListState<Row>("waiting").add(row);
          else ctx.emit(served(v, row));
        },
        processBroadcastElement(v, ctx) {
          const state = ctx.getBroadcastState(current);
          const had = state.get("current");
          if ((had?.version ?? 0) >= v.version) return;
          state.put("current", v);
          if (had !== undefined) return;
          const waiting = ctx.getListState<Row>("waiting");
          for (const row of waiting.get()) ctx.emit(served(v, row));
          waiting.clear();
        },
      })
      .name(`serve(${this.stage})`);
  }
}
