/**
 * Scalar operators and functions: their typing rules and implementations. One entry per name;
 * the binder types calls through {@link scalarFunction}, the compiler (expr.ts) runs them.
 * Functions are strict (a NULL argument gives NULL) unless marked `nullAware`.
 */
import { MASKED_TEXT, maskCard, maskEmail, maskPhone } from "../governance/masks.ts";
import { invalid, type Pos } from "./errors.ts";
import { formatTimestamp, utcHour } from "./time-format.ts";
import {
  BIGINT,
  BOOLEAN,
  both,
  comparable,
  DOUBLE,
  INT,
  isInteger,
  isNumeric,
  numericOrNull,
  type SqlType,
  scaleOf,
  showType,
  TIMESTAMP,
  VARCHAR,
} from "./types.ts";

/** One scalar operator or function. */
export interface ScalarFn {
  /** The result type for these argument types; a mismatch is a `SqlError` at `pos`. */
  type(args: readonly SqlType[], pos: Pos, name: string): SqlType;
  /** The implementation, specialized for the argument and result types. */
  make(args: readonly SqlType[], result: SqlType): (values: readonly unknown[]) => unknown;
  /** Called with NULL arguments too (otherwise any NULL argument gives NULL). */
  readonly nullAware?: boolean;
  /** Gives another value each call (`PROCTIME()`): never folded at plan time. */
  readonly volatile?: boolean;
  /**
   * The implementation as a JS expression over its (non-NULL) arguments' names, for generated
   * code (codegen.ts); `make` is then built from it, so both run the same text.
   */
  readonly inline?: (args: readonly SqlType[], result: SqlType) => Template | undefined;
}

/** A JS expression over argument names (temporaries or literals, each safe to repeat). */
export type Template = (args: readonly string[]) => string;

/** The implementation over an argument array that runs `template`'s text. */
function fromTemplate(template: Template, arity: number): (values: readonly unknown[]) => unknown {
  const args = Array.from({ length: arity }, (_, i) => `v[${i}]`);
  return new Function("v", `"use strict"; return ${template(args)};`) as (values: readonly unknown[]) => unknown;
}

/** A strict function whose implementation is `template` for these types (the same text in closures and generated code). */
function templated(
  type: ScalarFn["type"],
  template: (args: readonly SqlType[], result: SqlType) => Template,
  arity = 2,
): ScalarFn {
  return { type, inline: template, make: (args, result) => fromTemplate(template(args, result), arity) };
}

const pow10 = (n: number) => 10 ** n;

function arity(args: readonly SqlType[], n: number, pos: Pos, name: string) {
  if (args.length !== n) throw invalid(pos, `${name} takes ${n} argument(s), got ${args.length}`);
}

function numericType(args: readonly SqlType[], pos: Pos, op: string): SqlType {
  arity(args, 2, pos, `'${op}'`);
  const [a, b] = args as [SqlType, SqlType];
  if (!numericOrNull(a) || !numericOrNull(b))
    throw invalid(pos, `type mismatch: cannot apply '${op}' to ${both(a, b)}`);
  if (a.kind === "DOUBLE" || b.kind === "DOUBLE") return DOUBLE;
  const sa = scaleOf(a) ?? 0;
  const sb = scaleOf(b) ?? 0;
  if (a.kind !== "DECIMAL" && b.kind !== "DECIMAL") return a.kind === "BIGINT" || b.kind === "BIGINT" ? BIGINT : INT;
  const scale = op === "*" ? sa + sb : Math.max(sa, sb);
  return { kind: "DECIMAL", precision: 38, scale };
}

/** `+ - *` with exact DECIMAL arithmetic (scaled integers) when neither side is DOUBLE. */
function arithmetic(op: "+" | "-" | "*"): ScalarFn {
  return templated(
    (args, pos) => numericType(args, pos, op),
    (args, result) => {
      if (result.kind !== "DECIMAL") return ([a, b]) => `(${a} ${op} ${b})`;
      // Scales are powers of ten computed here, never text from the query.
      const sa = pow10(scaleOf(args[0] as SqlType) ?? 0);
      const sb = pow10(scaleOf(args[1] as SqlType) ?? 0);
      const sr = pow10(result.scale);
      if (op === "*") return ([a, b]) => `((Math.round(${a} * ${sa}) * Math.round(${b} * ${sb})) / ${sr})`;
      return ([a, b]) => `((Math.round(${a} * ${sr}) ${op} Math.round(${b} * ${sr})) / ${sr})`;
    },
  );
}

const divide = templated(
  (args, pos) => {
    const t = numericType(args, pos, "/");
    return t.kind === "DECIMAL" ? DOUBLE : t;
  },
  (_args, result) => (isInteger(result) ? ([a, b]) => `Math.trunc(${a} / ${b})` : ([a, b]) => `(${a} / ${b})`),
);

const mod = templated(
  (args, pos, name) => {
    const t = numericType(args, pos, name);
    if (!isInteger(t))
      throw invalid(pos, `type mismatch: ${name} takes integers, got ${both(args[0] as SqlType, args[1] as SqlType)}`);
    return t;
  },
  () =>
    ([a, b]) =>
      `(${a} % ${b})`,
);

/**
 * A comparison as the sign of `a < b ? -1 : a > b ? 1 : 0` tested by `sign` (so that NaN, neither
 * less nor greater, compares equal, as it always has here).
 */
function comparison(op: string, sign: (a: string, b: string) => string): ScalarFn {
  return templated(
    (args, pos) => {
      arity(args, 2, pos, `'${op}'`);
      const [a, b] = args as [SqlType, SqlType];
      if (!comparable(a, b)) throw invalid(pos, `type mismatch: cannot compare ${both(a, b)} with '${op}'`);
      return BOOLEAN;
    },
    () =>
      ([a, b]) =>
        sign(a as string, b as string),
  );
}

function booleans(args: readonly SqlType[], pos: Pos, name: string) {
  for (const a of args)
    if (a.kind !== "BOOLEAN" && a.kind !== "NULL")
      throw invalid(pos, `type mismatch: ${name} takes BOOLEAN, got ${showType(a)}`);
  return BOOLEAN;
}

/** Three-valued AND / OR. */
const and: ScalarFn = {
  nullAware: true,
  type: (args, pos) => booleans(args, pos, "AND"),
  make: () => (v) => (v[0] === false || v[1] === false ? false : v[0] === null || v[1] === null ? null : true),
};
const or: ScalarFn = {
  nullAware: true,
  type: (args, pos) => booleans(args, pos, "OR"),
  make: () => (v) => (v[0] === true || v[1] === true ? true : v[0] === null || v[1] === null ? null : false),
};

function fixed(params: readonly SqlType[], result: SqlType, impl: (v: readonly unknown[]) => unknown): ScalarFn {
  return {
    type: (args, pos, name) => {
      arity(args, params.length, pos, name);
      args.forEach((a, i) => {
        const p = params[i] as SqlType;
        const ok =
          a.kind === "NULL" || a.kind === p.kind || (isNumeric(p) && isNumeric(a) && isInteger(p) === isInteger(a));
        if (!ok)
          throw invalid(pos, `type mismatch: argument ${i + 1} of ${name} must be ${showType(p)}, got ${showType(a)}`);
      });
      return result;
    },
    make: () => impl,
  };
}

/** `MASK(x)`: a constant for text, NULL for any other type (of x's type, so a masked column keeps its type). */
const mask: ScalarFn = {
  type: (args, pos, name) => {
    arity(args, 1, pos, name);
    return args[0] as SqlType;
  },
  make: (_args, result) => (result.kind === "VARCHAR" ? () => MASKED_TEXT : () => null),
};

/** `SPLIT_INDEX`: `s.split(sep)[index] ?? null`, without the array of every part. */
export function splitIndex(s: string, sep: string, index: number): string | null {
  if (sep === "" || !Number.isInteger(index) || index < 0) return s.split(sep)[index] ?? null;
  let start = 0;
  for (let k = 0; k < index; k++) {
    const at = s.indexOf(sep, start);
    if (at < 0) return null;
    start = at + sep.length;
  }
  const end = s.indexOf(sep, start);
  return s.slice(start, end < 0 ? s.length : end);
}

/** `REGEXP_EXTRACT(s, pattern, group)`: each call site compiles its last pattern once, not per row. */
const regexpExtract: ScalarFn = {
  type: fixed([VARCHAR, VARCHAR, INT], VARCHAR, () => null).type,
  make: () => {
    let pattern: string | undefined;
    let regex: RegExp | undefined;
    return (v) => {
      if (v[1] !== pattern || regex === undefined) {
        regex = new RegExp(v[1] as string);
        pattern = v[1] as string;
      }
      return regex.exec(v[0] as string)?.[v[2] as number] ?? null;
    };
  },
};

const FUNCTIONS = new Map<string, ScalarFn>([
  ["+", arithmetic("+")],
  ["-", arithmetic("-")],
  ["*", arithmetic("*")],
  ["/", divide],
  ["%", mod],
  ["MOD", mod],
  ["=", comparison("=", (a, b) => `!(${a} < ${b} || ${a} > ${b})`)],
  ["<>", comparison("<>", (a, b) => `(${a} < ${b} || ${a} > ${b})`)],
  ["<", comparison("<", (a, b) => `(${a} < ${b})`)],
  ["<=", comparison("<=", (a, b) => `!(${a} > ${b})`)],
  [">", comparison(">", (a, b) => `(${a} > ${b})`)],
  [">=", comparison(">=", (a, b) => `!(${a} < ${b})`)],
  ["AND", and],
  ["OR", or],
  ["NOT", fixed([BOOLEAN], BOOLEAN, (v) => !v[0])],
  ["||", fixed([VARCHAR, VARCHAR], VARCHAR, (v) => `${v[0]}${v[1]}`)],
  ["CONCAT", fixed([VARCHAR, VARCHAR], VARCHAR, (v) => `${v[0]}${v[1]}`)],
  ["UPPER", fixed([VARCHAR], VARCHAR, (v) => (v[0] as string).toUpperCase())],
  ["LOWER", fixed([VARCHAR], VARCHAR, (v) => (v[0] as string).toLowerCase())],
  ["CHAR_LENGTH", fixed([VARCHAR], INT, (v) => (v[0] as string).length)],
  [
    "ABS",
    {
      type: (a, p, n) => {
        arity(a, 1, p, n);
        if (!numericOrNull(a[0] as SqlType))
          throw invalid(p, `type mismatch: ABS takes a number, got ${showType(a[0] as SqlType)}`);
        return a[0] as SqlType;
      },
      make: () => (v) => Math.abs(v[0] as number),
    },
  ],
  ["DATE_FORMAT", fixed([TIMESTAMP, VARCHAR], VARCHAR, (v) => formatTimestamp(v[0] as number, v[1] as string))],
  ["HOUR", fixed([TIMESTAMP], BIGINT, (v) => utcHour(v[0] as number))],
  [
    "SPLIT_INDEX",
    fixed([VARCHAR, VARCHAR, INT], VARCHAR, (v) => splitIndex(v[0] as string, v[1] as string, v[2] as number)),
  ],
  ["REGEXP_EXTRACT", regexpExtract],
  ["MASK_CARD", fixed([VARCHAR], VARCHAR, (v) => maskCard(v[0] as string))],
  ["MASK_EMAIL", fixed([VARCHAR], VARCHAR, (v) => maskEmail(v[0] as string))],
  ["MASK_PHONE", fixed([VARCHAR], VARCHAR, (v) => maskPhone(v[0] as string))],
  ["MASK", mask],
]);

/** The operator or function `name` (upper case), or undefined. */
export function scalarFunction(name: string): ScalarFn | undefined {
  return FUNCTIONS.get(name);
}

/** The aggregate functions the planner knows. */
export const AGGREGATES = new Set(["COUNT", "SUM", "MIN", "MAX", "AVG"]);
