/** Reading typed columns from rows, and checking stage parameters, with errors that name the stage. */

import { MLRecordError, MLUsageError } from "./errors.ts";
import type { Row, Vector } from "./stage.ts";

/** The vector in column `col` of `row`; its length must be `dims` when given. */
export function vectorColumn(stage: string, row: Row, col: string, dims?: number): Vector {
  const v = row[col];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw new MLRecordError(stage, `column '${col}' must be an array of finite numbers, got ${describe(v)}`);
  }
  if (dims !== undefined && v.length !== dims) {
    throw new MLRecordError(stage, `column '${col}' has ${v.length} numbers, the model has ${dims}`);
  }
  return v as Vector;
}

/** The binary label (0 or 1; `true`/`false` too) in column `col` of `row`. */
export function labelColumn(stage: string, row: Row, col: string): 0 | 1 {
  const v = row[col];
  if (v === 1 || v === true) return 1;
  if (v === 0 || v === false) return 0;
  throw new MLRecordError(stage, `column '${col}' must be a label 0 or 1, got ${describe(v)}`);
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Checks that parameter `name` of `stage` is a number in `[min, max]` (an integer when `integer`). */
export function checkParam(
  stage: string,
  name: string,
  value: number,
  range: { min: number; max?: number; integer?: boolean; open?: boolean },
): number {
  const max = range.max ?? Number.POSITIVE_INFINITY;
  const low = range.open ? value > range.min : value >= range.min;
  if (typeof value !== "number" || !low || value > max || (range.integer && !Number.isSafeInteger(value))) {
    const kind = range.integer ? "an integer" : "a number";
    const bound = `${range.open ? ">" : ">="} ${range.min}${range.max === undefined ? "" : ` and <= ${range.max}`}`;
    throw new MLUsageError(`${stage}: ${name} must be ${kind} ${bound}, got ${String(value)}`);
  }
  return value;
}
