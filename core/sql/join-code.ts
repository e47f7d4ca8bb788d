/**
 * The generated code of a join (codegen.ts), as Flink generates a join's condition and output
 * row: the residual condition read straight from the two sides' rows (a pair that fails it is
 * never concatenated), the output as one literal of known width, and the join key. A plain calc
 * over the join may be fused into it (Flink's planner merges a Calc into the operator below the
 * same way): its filter tested after the residual, its projection the output, so no joined row
 * is built and no operator follows the join.
 */
import type { Key } from "../keys.ts";
import { type ColumnReader, generate, generatePair, generateRow, pairColumns } from "./codegen.ts";
import type { BoundExpr, Row } from "./expr.ts";
import type { Field } from "./logical.ts";

/** A function of a join's two sides' rows (left's, right's). */
export type PairFn<T> = (left: Row, right: Row) => T;

/** What a join runs per pair of rows. */
export interface JoinCode<T = Row> {
  /** The condition beyond the equi-keys over the pair (a pair joins when it is TRUE), undefined when there is none. */
  readonly residual: PairFn<unknown> | undefined;
  /** The output of a pair that joins: the joined row (the left row's columns, then the right's), or a fused calc's. */
  readonly concat: PairFn<T>;
}

/** A calc fused into a join: its filter and projections over the joined row, and what makes its output. */
export interface FusedCalc<T> {
  readonly filter: BoundExpr | undefined;
  readonly projects: readonly BoundExpr[];
  readonly make: (exprs: readonly BoundExpr[], columns: ColumnReader) => (row: Row) => T;
}

/** The {@link JoinCode} of a join of sides of `left` and `right` fields under `condition`: the joined row out. */
export function joinCode(condition: BoundExpr | undefined, left: readonly Field[], right: readonly Field[]): JoinCode {
  const columns = [...left, ...right].map((f, index): BoundExpr => ({ kind: "input", index, type: f.type }));
  return fusedJoinCode(condition, left.length, { filter: undefined, projects: columns, make: generateRow });
}

/** The {@link JoinCode} of a join whose left side has `leftWidth` columns, with `calc` fused into it. */
export function fusedJoinCode<T>(condition: BoundExpr | undefined, leftWidth: number, calc: FusedCalc<T>): JoinCode<T> {
  const columns = pairColumns(leftWidth);
  const residual = condition ? generatePair(condition, leftWidth) : undefined;
  const filter = calc.filter ? generatePair(calc.filter, leftWidth) : undefined;
  return {
    residual: residual && filter ? (l, r) => residual(l, r) === true && filter(l, r) === true : (residual ?? filter),
    concat: calc.make(calc.projects, columns) as unknown as PairFn<T>,
  };
}

/** A join's key over a row: the value itself for one key column, else an array of them (generated). */
export function joinKey(exprs: readonly BoundExpr[]): (row: Row) => Key {
  if (exprs.length === 1) return generate(exprs[0] as BoundExpr) as (row: Row) => Key;
  return generateRow(exprs) as (row: Row) => Key;
}
