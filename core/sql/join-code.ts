/**
 * The generated code of a join (codegen.ts), as Flink generates a join's condition and output
 * row: the residual condition read straight from the two sides' rows (a pair that fails it is
 * never concatenated), the joined row as one array literal of known width, and the join key.
 */
import type { Key } from "../keys.ts";
import { generate, generatePair, generatePairRow, generateRow } from "./codegen.ts";
import type { BoundExpr, Row } from "./expr.ts";
import type { Field } from "./logical.ts";

/** A function of a join's two sides' rows (left's, right's). */
export type PairFn<T> = (left: Row, right: Row) => T;

/** What a join runs per pair of rows. */
export interface JoinCode {
  /** The condition beyond the equi-keys over the pair, undefined when there is none. */
  readonly residual: PairFn<unknown> | undefined;
  /** The joined row: the left row's columns, then the right's. */
  readonly concat: PairFn<Row>;
}

/** The {@link JoinCode} of a join of sides of `left` and `right` fields under `condition`. */
export function joinCode(condition: BoundExpr | undefined, left: readonly Field[], right: readonly Field[]): JoinCode {
  const n = left.length;
  const columns = [...left, ...right].map((f, index): BoundExpr => ({ kind: "input", index, type: f.type }));
  return {
    residual: condition ? generatePair(condition, n) : undefined,
    concat: generatePairRow(columns, n),
  };
}

/** A join's key over a row: the value itself for one key column, else an array of them (generated). */
export function joinKey(exprs: readonly BoundExpr[]): (row: Row) => Key {
  if (exprs.length === 1) return generate(exprs[0] as BoundExpr) as (row: Row) => Key;
  return generateRow(exprs) as (row: Row) => Key;
}
