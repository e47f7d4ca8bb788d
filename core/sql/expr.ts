/**
 * Bound (typed, resolved) expressions: what the binder makes of the AST's expressions. Here
 * they are compiled to closures over a row (an array of column values), folded when constant,
 * rewritten over another input, and shown for EXPLAIN. Calcs run generated code instead
 * (codegen.ts), which must give the values these closures give.
 */
import type { ScalarFn } from "./functions.ts";
import { BOOLEAN, isInteger, type SqlType, showType } from "./types.ts";

/** A typed expression over the columns of one input row. */
export type BoundExpr =
  | { readonly kind: "input"; readonly index: number; readonly type: SqlType }
  | { readonly kind: "literal"; readonly value: unknown; readonly type: SqlType }
  | { readonly kind: "field"; readonly expr: BoundExpr; readonly name: string; readonly type: SqlType }
  | {
      readonly kind: "call";
      readonly name: string;
      readonly fn: ScalarFn;
      readonly args: readonly BoundExpr[];
      readonly type: SqlType;
    }
  | {
      readonly kind: "case";
      readonly whens: readonly { readonly when: BoundExpr; readonly result: BoundExpr }[];
      readonly else: BoundExpr;
      readonly type: SqlType;
    }
  | { readonly kind: "cast"; readonly expr: BoundExpr; readonly type: SqlType }
  | { readonly kind: "is-null"; readonly expr: BoundExpr; readonly not: boolean; readonly type: SqlType };

/** A row: one value per column. */
export type Row = readonly unknown[];

/** A compiled expression. */
export type Compiled = (row: Row) => unknown;

/** Compiles `e` to a closure. */
export function compile(e: BoundExpr): Compiled {
  switch (e.kind) {
    case "input": {
      const i = e.index;
      return (row) => row[i];
    }
    case "literal": {
      const v = e.value;
      return () => v;
    }
    case "field": {
      const inner = compile(e.expr);
      const name = e.name;
      return (row) => (inner(row) as Record<string, unknown> | null)?.[name] ?? null;
    }
    case "call":
      return compileCall(e);
    case "case": {
      const whens = e.whens.map((w) => [compile(w.when), compile(w.result)] as const);
      const otherwise = compile(e.else);
      return (row) => {
        for (const [when, result] of whens) if (when(row) === true) return result(row);
        return otherwise(row);
      };
    }
    case "cast":
      return compileCast(compile(e.expr), e.expr.type, e.type);
    case "is-null": {
      const inner = compile(e.expr);
      return e.not ? (row) => inner(row) !== null : (row) => inner(row) === null;
    }
  }
}

function compileCall(e: Extract<BoundExpr, { kind: "call" }>): Compiled {
  const args = e.args.map(compile);
  const impl = e.fn.make(
    e.args.map((a) => a.type),
    e.type,
  );
  if (e.fn.nullAware) return (row) => impl(args.map((a) => a(row)));
  // One argument array per call site, refilled per row (implementations never keep it, and a
  // call site is not re-entered while its arguments are evaluated): no allocation per record.
  const values: unknown[] = new Array(args.length);
  if (args.length === 2) {
    const [a, b] = args as [Compiled, Compiled];
    return (row) => {
      const x = a(row);
      const y = b(row);
      if (x === null || y === null) return null;
      values[0] = x;
      values[1] = y;
      return impl(values);
    };
  }
  const n = args.length;
  return (row) => {
    for (let i = 0; i < n; i++) {
      const v = (args[i] as Compiled)(row);
      if (v === null) return null;
      values[i] = v;
    }
    return impl(values);
  };
}

function compileCast(inner: Compiled, from: SqlType, to: SqlType): Compiled {
  const convert = castFunction(from, to);
  return (row) => {
    const v = inner(row);
    return v === null ? null : convert(v);
  };
}

/** `CAST` of a non-NULL value of type `from` to type `to` (the one rule; codegen.ts calls it too). */
export function castFunction(from: SqlType, to: SqlType): (v: unknown) => unknown {
  if (to.kind === "VARCHAR") return (v) => String(v);
  if (to.kind === "DOUBLE") return (v) => Number(v);
  if (isInteger(to)) return (v) => Math.trunc(Number(v));
  if (to.kind === "DECIMAL") {
    const scale = 10 ** to.scale;
    return (v) => Math.round(Number(v) * scale) / scale;
  }
  if (to.kind === "BOOLEAN")
    return from.kind === "VARCHAR" ? (v) => String(v).toLowerCase() === "true" : (v) => Boolean(v);
  return (v) => v;
}

/** True when `e` reads no column (so it can be evaluated at plan time). */
export const isLiteral = (e: BoundExpr): e is Extract<BoundExpr, { kind: "literal" }> => e.kind === "literal";

/** Constant folding: every sub-expression that reads no column becomes a literal. */
export function fold(e: BoundExpr): BoundExpr {
  switch (e.kind) {
    case "input":
    case "literal":
      return e;
    case "field":
      return evaluateIfConstant({ ...e, expr: fold(e.expr) }, [e.expr]);
    case "call": {
      const args = e.args.map(fold);
      return e.fn.volatile ? { ...e, args } : evaluateIfConstant({ ...e, args }, args);
    }
    case "case": {
      const whens = e.whens
        .map((w) => ({ when: fold(w.when), result: fold(w.result) }))
        .filter((w) => !(isLiteral(w.when) && w.when.value !== true));
      const otherwise = fold(e.else);
      const first = whens[0];
      if (first && isLiteral(first.when)) return first.result;
      if (whens.length === 0) return otherwise;
      return { ...e, whens, else: otherwise };
    }
    case "cast":
    case "is-null": {
      const inner = fold(e.expr);
      return evaluateIfConstant({ ...e, expr: inner }, [inner]);
    }
  }
}

function evaluateIfConstant(e: BoundExpr, parts: readonly BoundExpr[]): BoundExpr {
  if (!parts.every(isLiteral)) return e;
  return { kind: "literal", value: compile(e)([]), type: e.type };
}

/** Rewrites every column reference: `input i` becomes `replace(i)`. */
export function rewriteInputs(e: BoundExpr, replace: (index: number) => BoundExpr): BoundExpr {
  switch (e.kind) {
    case "input":
      return replace(e.index);
    case "literal":
      return e;
    case "field":
      return { ...e, expr: rewriteInputs(e.expr, replace) };
    case "call":
      return { ...e, args: e.args.map((a) => rewriteInputs(a, replace)) };
    case "case":
      return {
        ...e,
        whens: e.whens.map((w) => ({ when: rewriteInputs(w.when, replace), result: rewriteInputs(w.result, replace) })),
        else: rewriteInputs(e.else, replace),
      };
    case "cast":
    case "is-null":
      return { ...e, expr: rewriteInputs(e.expr, replace) };
  }
}

/** The direct sub-expressions of `e`. */
export function childrenOf(e: BoundExpr): readonly BoundExpr[] {
  switch (e.kind) {
    case "input":
    case "literal":
      return [];
    case "call":
      return e.args;
    case "case":
      return [...e.whens.flatMap((w) => [w.when, w.result]), e.else];
    case "field":
    case "cast":
    case "is-null":
      return [e.expr];
  }
}

/** The conjuncts of `e`: the operands of its top-level ANDs, nested ones flattened (`e` itself when it is no AND). */
export function conjuncts(e: BoundExpr): BoundExpr[] {
  return e.kind === "call" && e.name === "AND" ? e.args.flatMap(conjuncts) : [e];
}

/** The columns `e` reads. */
export function inputsOf(e: BoundExpr, into = new Set<number>()): Set<number> {
  rewriteInputs(e, (i) => {
    into.add(i);
    return { kind: "input", index: i, type: BOOLEAN };
  });
  return into;
}

/** How `e` reads in EXPLAIN, with the input's column names. */
export function showExpr(e: BoundExpr, names: readonly string[]): string {
  switch (e.kind) {
    case "input":
      return names[e.index] ?? `$${e.index}`;
    case "literal":
      return typeof e.value === "string" ? `'${e.value}'` : String(e.value);
    case "field":
      return `${showExpr(e.expr, names)}.${e.name}`;
    case "call": {
      const args = e.args.map((a) => showExpr(a, names));
      return /^[A-Z_]/.test(e.name) && e.name !== "AND" && e.name !== "OR"
        ? `${e.name}(${args.join(", ")})`
        : `(${args.join(` ${e.name} `)})`;
    }
    case "case":
      return `CASE ${e.whens.map((w) => `WHEN ${showExpr(w.when, names)} THEN ${showExpr(w.result, names)}`).join(" ")} ELSE ${showExpr(e.else, names)} END`;
    case "cast":
      return `CAST(${showExpr(e.expr, names)} AS ${showType(e.type)})`;
    case "is-null":
      return `${showExpr(e.expr, names)} IS ${e.not ? "NOT " : ""}NULL`;
  }
}

/** A row of `fns`' values over the input row (a plain loop: this runs for every record). */
export function projector(fns: readonly Compiled[]): (row: Row) => Row {
  const n = fns.length;
  return (row) => {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = (fns[i] as Compiled)(row);
    return out;
  };
}
