/** SQL types of riffle's SQL layer and how their values are held in JS. */
import type { TypeName } from "./ast.ts";
import { type Pos, unsupported } from "./errors.ts";

/**
 * A SQL type. Values: integers and DOUBLE as numbers, DECIMAL as the nearest double (arithmetic
 * on DECIMAL is exact where it stays within safe integers), VARCHAR as strings, TIMESTAMP(3) as
 * epoch milliseconds (UTC), ROW as an object keyed by field name; NULL as `null`.
 */
export type SqlType =
  | {
      readonly kind: "BIGINT" | "INT" | "DOUBLE" | "BOOLEAN" | "VARCHAR" | "TIMESTAMP" | "NULL" | "INTERVAL";
      /** On a TIMESTAMP: a processing-time attribute (`PROCTIME()`). */
      readonly proctime?: boolean;
    }
  | { readonly kind: "DECIMAL"; readonly precision: number; readonly scale: number }
  | { readonly kind: "ROW"; readonly fields: readonly { readonly name: string; readonly type: SqlType }[] };

export const BIGINT: SqlType = { kind: "BIGINT" };
export const INT: SqlType = { kind: "INT" };
export const DOUBLE: SqlType = { kind: "DOUBLE" };
export const BOOLEAN: SqlType = { kind: "BOOLEAN" };
export const VARCHAR: SqlType = { kind: "VARCHAR" };
export const TIMESTAMP: SqlType = { kind: "TIMESTAMP" };
/** The type of `PROCTIME()`: a TIMESTAMP(3) processing-time attribute. */
export const PROCTIME: SqlType = { kind: "TIMESTAMP", proctime: true };
export const NULL: SqlType = { kind: "NULL" };
export const INTERVAL: SqlType = { kind: "INTERVAL" };

const SIMPLE: Record<string, SqlType> = {
  BIGINT,
  INT,
  INTEGER: INT,
  SMALLINT: INT,
  TINYINT: INT,
  DOUBLE,
  FLOAT: DOUBLE,
  REAL: DOUBLE,
  BOOLEAN,
  VARCHAR,
  STRING: VARCHAR,
  CHAR: VARCHAR,
};

/** The type a {@link TypeName} names; an unknown or unsupported type is a `SqlError`. */
export function typeOf(t: TypeName): SqlType {
  const simple = SIMPLE[t.name];
  if (simple) return simple;
  if (t.name === "TIMESTAMP") {
    if (t.params.length > 0 && t.params[0] !== 3)
      throw unsupported(t.pos, `TIMESTAMP(${t.params[0]}) (only TIMESTAMP(3))`);
    return TIMESTAMP;
  }
  if (t.name === "DECIMAL" || t.name === "NUMERIC")
    return { kind: "DECIMAL", precision: t.params[0] ?? 10, scale: t.params[1] ?? 0 };
  if (t.name === "ROW" && t.fields)
    return { kind: "ROW", fields: t.fields.map((f) => ({ name: f.name, type: typeOf(f.type) })) };
  throw unsupported(t.pos, `type ${t.name}`);
}

/** True for BIGINT, INT, DOUBLE and DECIMAL. */
export const isNumeric = (t: SqlType): boolean =>
  t.kind === "BIGINT" || t.kind === "INT" || t.kind === "DOUBLE" || t.kind === "DECIMAL";

/** True for BIGINT and INT. */
export const isInteger = (t: SqlType): boolean => t.kind === "BIGINT" || t.kind === "INT";

/** The scale of a numeric type: its DECIMAL scale, 0 for integers, undefined for DOUBLE. */
export function scaleOf(t: SqlType): number | undefined {
  if (t.kind === "DECIMAL") return t.scale;
  return isInteger(t) ? 0 : undefined;
}

/** How a type reads in messages and EXPLAIN. */
export function showType(t: SqlType): string {
  if (t.kind === "DECIMAL") return `DECIMAL(${t.precision}, ${t.scale})`;
  if (t.kind === "TIMESTAMP") return "TIMESTAMP(3)";
  if (t.kind === "ROW") return `ROW<${t.fields.map((f) => `${f.name} ${showType(f.type)}`).join(", ")}>`;
  return t.kind;
}

/** True when a value of type `from` may be written where `to` is expected (NULL fits anything). */
export function assignable(from: SqlType, to: SqlType): boolean {
  if (from.kind === "NULL") return true;
  if (isNumeric(from) && isNumeric(to)) return true;
  return from.kind === to.kind;
}

/** True when values of the two types may be compared. */
export function comparable(a: SqlType, b: SqlType): boolean {
  return a.kind === "NULL" || b.kind === "NULL" || (isNumeric(a) && isNumeric(b)) || a.kind === b.kind;
}

/** A type mismatch message subject: `BIGINT and VARCHAR`. */
export const both = (a: SqlType, b: SqlType) => `${showType(a)} and ${showType(b)}`;

/** Checks that `t` is numeric at `pos`. */
export function numericOrNull(t: SqlType): boolean {
  return isNumeric(t) || t.kind === "NULL";
}

export type { Pos };
