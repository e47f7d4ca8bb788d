/**
 * Code generation for bound expressions, as Flink's planner generates one Java method per calc:
 * an expression (or a whole calc, filter and projections) becomes one JavaScript function made
 * with `new Function`, instead of a tree of closures called per node per row.
 *
 * Invariants:
 * - No user text is spliced into the source: literals, function implementations, cast
 *   conversions and names that are not plain identifiers are parameters of the generated
 *   module (`k0`, `k1`, …); only fixed operator templates, plain identifiers (checked against
 *   {@link IDENTIFIER}) and finite numbers appear as text.
 * - NULL semantics are those of the closure compiler (`compile` in expr.ts): a strict function
 *   gives NULL at its first NULL argument without evaluating the rest; AND/OR are three-valued
 *   (they stop at the first FALSE/TRUE, which decides the result whatever the rest is).
 * - A column is read by a {@link ColumnReader}: `row[i]` over a row array, or what a source
 *   says over its own records (a fused scan), the record being named `row` either way.
 */
import { type BoundExpr, castFunction, childrenOf, type Row } from "./expr.ts";
import { scalarFunction } from "./functions.ts";
import type { SqlType } from "./types.ts";

/**
 * JS source reading column `index` of the record named `row`; `params`, when set, the generated
 * function's parameters instead of `row` alone (see {@link pairColumns}).
 */
export type ColumnReader = ((index: number) => string) & { readonly params?: string };

/** Reads column `i` of a row array. */
export const rowColumns: ColumnReader = (i) => `row[${i}]`;

/** A name that may be written as `.name` or as an object literal's key. */
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The function being generated: its constants (parameters of the module) and temporaries. */
class Emitter {
  private readonly names: string[] = [];
  private readonly values: unknown[] = [];
  private temps = 0;
  /** How a column of the record is read. */
  readonly column: ColumnReader;
  /** Calls that occur more than once in the function, by {@link keyOf}: the local caching each. */
  private readonly shared = new Map<string, string>();
  /** What an unset cache holds (no SQL value is this object). */
  private unset: string | undefined;

  constructor(column: ColumnReader, exprs: readonly BoundExpr[]) {
    this.column = column;
    const counts = new Map<string, number>();
    for (const e of exprs) countCalls(e, counts);
    for (const [key, n] of counts) if (n > 1) this.shared.set(key, `c${this.shared.size}`);
  }

  /**
   * `code` (the value of a call whose key is `key`) computed once per record: a call that occurs
   * more than once is cached in a local on first use (Calcite's RexProgram shares common
   * sub-expressions the same way). Lazily, so that what a CASE branch or a NULL argument skips
   * is still skipped.
   */
  share(key: string | undefined, code: () => string): string {
    const local = key === undefined ? undefined : this.shared.get(key);
    if (local === undefined) return code();
    this.unset ??= this.constant(UNSET);
    return `(${local} !== ${this.unset} ? ${local} : (${local} = ${code()}))`;
  }

  /** A parameter holding `v`. */
  constant(v: unknown): string {
    const name = `k${this.names.length}`;
    this.names.push(name);
    this.values.push(v);
    return name;
  }

  /** A fresh local variable (declared per call, so a generated function is re-entrant). */
  temp(): string {
    return `t${this.temps++}`;
  }

  /**
   * The function `function name(row) { <body> }` over the constants (the name shows in profiles);
   * `function name(row, other)` for a {@link pairColumns} reader.
   */
  build<F>(name: "sqlExpr" | "sqlRow" | "sqlRecord", body: string): F {
    const params = this.column.params ?? "row";
    const locals = Array.from({ length: this.temps }, (_, i) => `t${i}`);
    for (const c of this.shared.values()) if (this.unset !== undefined) locals.push(`${c} = ${this.unset}`);
    const declare = locals.length > 0 ? `let ${locals.join(", ")};\n` : "";
    const source = `"use strict";\nreturn function ${name}(${params}) {\n${declare}${body}\n};`;
    return new Function(...this.names, source)(...this.values) as F;
  }
}

/** The value of an unset cache. */
const UNSET: unique symbol = Symbol("unset");

/**
 * A text equal for equal expressions, or undefined for one that may give another value each
 * time (a volatile or user-defined function, whose determinism riffle does not know).
 */
function keyOf(e: BoundExpr): string | undefined {
  switch (e.kind) {
    case "input":
      return `$${e.index}`;
    case "literal":
      if (e.value !== null && typeof e.value === "object") return undefined;
      return `${typeof e.value}:${String(e.value)}:${e.type.kind}`;
    case "field": {
      const inner = keyOf(e.expr);
      return inner === undefined ? undefined : `${inner}.${JSON.stringify(e.name)}`;
    }
    case "call": {
      if (e.fn.volatile || scalarFunction(e.name) !== e.fn) return undefined;
      const args = e.args.map(keyOf);
      if (args.some((a) => a === undefined)) return undefined;
      return `${e.name}(${args.join(",")}):${JSON.stringify(e.type)}:${JSON.stringify(e.args.map((a) => a.type))}`;
    }
    default:
      return undefined;
  }
}

/** Counts the calls of `e` by {@link keyOf}. */
function countCalls(e: BoundExpr, counts: Map<string, number>): void {
  const key = e.kind === "call" ? keyOf(e) : undefined;
  if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const c of childrenOf(e)) countCalls(c, counts);
}

/** Source text of a literal: numbers, booleans and NULL as text, anything else as a constant. */
function literal(v: unknown, em: Emitter): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0)) return v < 0 ? `(${v})` : String(v);
  return em.constant(v);
}

/** An argument of a strict call: the name its value is read by, and the test that evaluates it. */
interface Argument {
  /** A literal's text or a temporary's name (safe to repeat in a template). */
  readonly name: string;
  /** Evaluates the argument into its temporary and tests it for NULL (undefined for a non-NULL literal). */
  readonly isNull?: string;
}

function argument(e: BoundExpr, em: Emitter): Argument {
  if (e.kind === "literal" && e.value !== null) return { name: literal(e.value, em) };
  const t = em.temp();
  return { name: t, isNull: `(${t} = ${emit(e, em)}) === null` };
}

const AND = scalarFunction("AND");
const OR = scalarFunction("OR");

/** JS source of `e`'s value. */
function emit(e: BoundExpr, em: Emitter): string {
  switch (e.kind) {
    case "input":
      return em.column(e.index);
    case "literal":
      return literal(e.value, em);
    case "field": {
      const key = IDENTIFIER.test(e.name) ? e.name : `[${em.constant(e.name)}]`;
      return `((${emit(e.expr, em)})?.${key} ?? null)`;
    }
    case "call":
      return em.share(keyOf(e), () => emitCall(e, em));
    case "case": {
      const whens = e.whens.map((w) => `(${emit(w.when, em)}) === true ? (${emit(w.result, em)}) : `).join("");
      return `(${whens}(${emit(e.else, em)}))`;
    }
    case "cast": {
      const t = em.temp();
      return `((${t} = ${emit(e.expr, em)}) === null ? null : ${em.constant(castFunction(e.expr.type, e.type))}(${t}))`;
    }
    case "is-null":
      return `((${emit(e.expr, em)}) ${e.not ? "!==" : "==="} null)`;
  }
}

function emitCall(e: Extract<BoundExpr, { kind: "call" }>, em: Emitter): string {
  if ((e.fn === AND || e.fn === OR) && e.args.length === 2) return emitLogic(e.fn === AND, e.args, em);
  const types = e.args.map((a) => a.type);
  if (e.fn.nullAware) {
    const args = e.args.map((a) => emit(a, em)).join(", ");
    return `${em.constant(e.fn.make(types, e.type))}([${args}])`;
  }
  const args = e.args.map((a) => argument(a, em));
  const names = args.map((a) => a.name);
  const template = e.fn.inline?.(types, e.type);
  let value: string;
  if (template) value = template(names);
  else {
    // One argument array per call site, refilled per row, as the closure compiler does.
    const values = em.constant(new Array(args.length));
    const fill = names.map((n, i) => `${values}[${i}] = ${n}, `).join("");
    value = `${fill}${em.constant(e.fn.make(types, e.type))}(${values})`;
  }
  // The arguments are evaluated in order inside the NULL test, which stops at the first NULL.
  const tests = args.flatMap((a) => (a.isNull === undefined ? [] : [a.isNull]));
  return tests.length === 0 ? `(${value})` : `(${tests.join(" || ")} ? null : (${value}))`;
}

/** Three-valued AND / OR: FALSE (TRUE) as soon as one side is; NULL when a side is NULL; else TRUE (FALSE). */
function emitLogic(isAnd: boolean, args: readonly BoundExpr[], em: Emitter): string {
  const [a, b] = args.map((x) => ({ t: em.temp(), code: emit(x, em) })) as [
    { t: string; code: string },
    { t: string; code: string },
  ];
  const decide = isAnd ? "false" : "true";
  const other = isAnd ? "true" : "false";
  return `((${a.t} = ${a.code}) === ${decide} || (${b.t} = ${b.code}) === ${decide} ? ${decide} : ${a.t} === null || ${b.t} === null ? null : ${other})`;
}

/** `e` as one generated function of a record read by `columns` (a row array by default). */
export function generate<R = Row>(e: BoundExpr, columns: ColumnReader = rowColumns): (row: R) => unknown {
  const em = new Emitter(columns, [e]);
  return em.build("sqlExpr", `return ${emit(e, em)};`);
}

/** A row array of `exprs`' values, as one generated function. */
export function generateRow<R = Row>(exprs: readonly BoundExpr[], columns: ColumnReader = rowColumns): (row: R) => Row {
  const em = new Emitter(columns, exprs);
  return em.build("sqlRow", `return [${exprs.map((e) => emit(e, em)).join(", ")}];`);
}

/**
 * The object keyed by `names` of `exprs`' values (a sink's record), as one generated function: an
 * object literal when every name is a plain identifier (one shape for every record), else keys
 * set one by one from constants.
 */
export function generateObject<R = Row>(
  names: readonly string[],
  exprs: readonly BoundExpr[],
  columns: ColumnReader = rowColumns,
): (row: R) => Record<string, unknown> {
  const em = new Emitter(columns, exprs);
  const plain = names.every((n) => IDENTIFIER.test(n) && n !== "__proto__") && new Set(names).size === names.length;
  if (plain)
    return em.build(
      "sqlRecord",
      `return {${names.map((n, i) => `${n}: ${emit(exprs[i] as BoundExpr, em)}`).join(", ")}};`,
    );
  // `__proto__` as a column name is an own property (an assignment would set the prototype).
  const set = (n: string, value: string) =>
    n === "__proto__"
      ? `Object.defineProperty(o, ${em.constant(n)}, { value: ${value}, enumerable: true, writable: true, configurable: true });`
      : `o[${em.constant(n)}] = ${value};`;
  const sets = names.map((n, i) => set(n, emit(exprs[i] as BoundExpr, em))).join("\n");
  return em.build("sqlRecord", `const o = {};\n${sets}\nreturn o;`);
}

/** The object of a row of `fields` keyed by their names (a sink's record), as one generated function. */
export function generateRecord(
  fields: readonly { readonly name: string; readonly type: SqlType }[],
): (row: Row) => Record<string, unknown> {
  const columns = fields.map((f, index): BoundExpr => ({ kind: "input", index, type: f.type }));
  return generateObject(
    fields.map((f) => f.name),
    columns,
  );
}

/**
 * Reads column `i` of a join's row from its two sides without concatenating them: the first
 * `leftWidth` columns from `row` (the left side's row), the rest from `other` (the right's).
 */
export function pairColumns(leftWidth: number): ColumnReader {
  const read = (i: number) => (i < leftWidth ? `row[${i}]` : `other[${i - leftWidth}]`);
  return Object.assign(read, { params: "row, other" });
}

/** `e` over a join's row (left's columns, then right's) as one generated function of the two sides' rows. */
export function generatePair(e: BoundExpr, leftWidth: number): (row: Row, other: Row) => unknown {
  return generate(e, pairColumns(leftWidth)) as (row: Row, other: Row) => unknown;
}
