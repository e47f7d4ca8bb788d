/**
 * The feature hasher (the hashing trick): turns named columns of any kind into one
 * fixed-length vector with no state, so it serves an unbounded stream with categories
 * it has never seen. A string or boolean value (or any value of a column listed in
 * `categoricalCols`) is one-hot encoded: index `hash(column=value) mod numFeatures` gets
 * 1. A number adds its value at index `hash(column) mod numFeatures`. Missing and null
 * values add nothing. Colliding indexes add up.
 */

import { DataStream } from "../api/datastream.ts";
import { checkParam } from "./columns.ts";
import { MLRecordError, MLUsageError } from "./errors.ts";
import { type Row, rowTable, type Table, type Transformer } from "./stage.ts";

/** Parameters of {@link FeatureHasher}. */
export interface FeatureHasherParams {
  /** The columns to hash. */
  readonly inputCols: readonly string[];
  /** Output vector column (default `features`). */
  readonly outputCol?: string;
  /** The vector's length (default 256). */
  readonly numFeatures?: number;
  /** Numeric columns to one-hot encode as categories rather than add as values. */
  readonly categoricalCols?: readonly string[];
}

const STAGE = "FeatureHasher";

/**
 * Hashes columns into a vector.
 *
 * @example
 * ```ts
 * new FeatureHasher({ inputCols: ["country", "device", "price"], numFeatures: 64 }).transform(events);
 * ```
 */
export class FeatureHasher implements Transformer {
  /** The parameters, as given. */
  readonly params: FeatureHasherParams;

  constructor(params: FeatureHasherParams) {
    if (!Array.isArray(params?.inputCols) || params.inputCols.length === 0) {
      throw new MLUsageError(`${STAGE}: inputCols must name at least one column`);
    }
    checkParam(STAGE, "numFeatures", params.numFeatures ?? 256, { min: 1, integer: true });
    this.params = params;
  }

  /** Adds the hashed vector to every row: of a stream or of an in-memory table. */
  transform<R extends object>(input: DataStream<R>): DataStream<Row>;
  transform<R extends object>(input: readonly R[]): Row[];
  transform<R extends object>(input: Table<R>): Table;
  transform<R extends object>(rows: Table<R>): Table {
    const input = rowTable(rows);
    const hash = (row: Row) => this.hash(row);
    return input instanceof DataStream ? input.map(hash).name(STAGE) : input.map(hash);
  }

  private hash(row: Row): Row {
    const n = this.params.numFeatures ?? 256;
    const categorical = this.params.categoricalCols ?? [];
    const out = new Array<number>(n).fill(0);
    for (const col of this.params.inputCols) {
      const v = row[col];
      if (v === undefined || v === null) continue;
      if (typeof v === "number" && !categorical.includes(col)) {
        if (!Number.isFinite(v)) throw new MLRecordError(STAGE, `column '${col}' is ${v}`);
        const i = fnv1a(col) % n;
        out[i] = (out[i] as number) + v;
      } else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
        const i = fnv1a(`${col}=${String(v)}`) % n;
        out[i] = (out[i] as number) + 1;
      } else {
        throw new MLRecordError(STAGE, `column '${col}' must be a string, number or boolean, got ${typeof v}`);
      }
    }
    return { ...row, [this.params.outputCol ?? "features"]: out };
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units, unsigned. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
