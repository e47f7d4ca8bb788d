/**
 * The SQL of a principal's policies: a row predicate and masking expressions, parsed
 * with the SQL parser and bound over a table's physical columns. A mistake names the
 * principal, the table and what is wrong.
 */
import type { Expr } from "../sql/ast.ts";
import { bindExpr, call } from "../sql/bind-expr.ts";
import { SqlError } from "../sql/errors.ts";
import type { BoundExpr } from "../sql/expr.ts";
import type { Field } from "../sql/logical.ts";
import { parseSql } from "../sql/parser.ts";
import { showType } from "../sql/types.ts";
import { maskFunctionFor } from "./masks.ts";
import type { SensitiveKind } from "./sensitive.ts";

/** The table name the wrapper query reads, never a real table. */
const WRAPPER = "__riffle_policy__";
const POS = { line: 0, column: 0 };

/** A policy's SQL is wrong (an unknown column, a non-boolean predicate, a mask of another type). */
export class PolicyError extends SqlError {}

/** Parses one SQL expression (a predicate or a mask), alone: no clause can ride along. */
export function parseExpression(text: string, where: string): Expr {
  let statements: ReturnType<typeof parseSql>;
  try {
    statements = parseSql(`SELECT ${text} FROM ${WRAPPER}`);
  } catch (cause) {
    throw new PolicyError("parse", undefined, `${where}: ${(cause as Error).message}`, { cause });
  }
  const s = statements[0];
  const q = s?.kind === "query" ? s.query : undefined;
  const from = q?.kind === "select" ? q.from : undefined;
  const ok =
    statements.length === 1 &&
    q?.kind === "select" &&
    q.items.length === 1 &&
    q.where === undefined &&
    q.groupBy.length === 0 &&
    q.having === undefined &&
    from?.kind === "table" &&
    from.name === WRAPPER &&
    from.alias === undefined;
  if (!ok || q?.kind !== "select")
    throw new PolicyError("validation", undefined, `${where}: '${text}' is not one expression`);
  return (q.items[0] as { expr: Expr }).expr;
}

/** Binds `text` over `columns`, as a predicate (BOOLEAN) or an expression of type `want`. */
export function bindPolicyExpr(text: string, columns: readonly Field[], where: string, want?: Field): BoundExpr {
  const expr = parseExpression(text, where);
  let bound: BoundExpr;
  try {
    bound = bindExpr(expr, { columns, clause: where });
  } catch (cause) {
    throw new PolicyError("validation", undefined, `${where}: ${(cause as Error).message}`, { cause });
  }
  const kind = bound.type.kind;
  if (want === undefined && kind !== "BOOLEAN" && kind !== "NULL")
    throw new PolicyError("validation", undefined, `${where}: '${text}' is ${showType(bound.type)}, not BOOLEAN`);
  if (want !== undefined && kind !== want.type.kind && kind !== "NULL")
    throw new PolicyError(
      "validation",
      undefined,
      `${where}: '${text}' is ${showType(bound.type)}, but column '${want.name}' is ${showType(want.type)}`,
    );
  return bound;
}

/** The automatic mask of a sensitive column: the kind's function over text, `MASK` over any other type. */
export function autoMask(column: number, field: Field, kind: SensitiveKind): BoundExpr {
  const input: BoundExpr = { kind: "input", index: column, type: field.type };
  return call(field.type.kind === "VARCHAR" ? maskFunctionFor(kind) : "MASK", [input], POS);
}
