/** Binds AST expressions to typed {@link BoundExpr}s over a scope of columns. */
import { type Expr, startOf } from "./ast.ts";
import { invalid, type Pos, unsupported } from "./errors.ts";
import type { BoundExpr } from "./expr.ts";
import { AGGREGATES, type ScalarFn, scalarFunction } from "./functions.ts";
import type { Field } from "./logical.ts";
import { proctimeFunction } from "./proctime.ts";
import {
  assignable,
  BIGINT,
  BOOLEAN,
  DOUBLE,
  INT,
  INTERVAL,
  isNumeric,
  NULL,
  PROCTIME,
  type SqlType,
  showType,
  TIMESTAMP,
  typeOf,
  VARCHAR,
} from "./types.ts";
import { registeredFunction } from "./udf.ts";

/** One column visible to an expression: `qualifier.name`. */
export interface ScopeColumn {
  readonly qualifier?: string;
  readonly name: string;
  readonly type: SqlType;
}

/** Where an expression is bound. */
export interface BindContext {
  readonly columns: readonly ScopeColumn[];
  /** The clause, for messages: "WHERE", "SELECT", … */
  readonly clause: string;
  /** In an aggregating SELECT/HAVING: a grouping expression's output column, if `e` is one. */
  readonly group?: (e: Expr) => BoundExpr | undefined;
  /** In an aggregating SELECT/HAVING: the output column of an aggregate call. */
  readonly aggregate?: (call: Extract<Expr, { kind: "call" }>) => BoundExpr;
  /** In a non-aggregating SELECT list: the output column of a window function call `f(…) OVER (…)`. */
  readonly over?: (call: Extract<Expr, { kind: "call" }>) => BoundExpr;
}

/** Functions riffle knows of but does not run yet, and what they are. */
const LEGACY: Record<string, string> = {
  SESSION: "the group window SESSION(…) outside GROUP BY",
  TUMBLE: "the group window TUMBLE(…) outside GROUP BY",
  HOP: "the group window HOP(…) outside GROUP BY",
};

const UNIT_MS: Record<string, number> = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

/** Binds `e` in `ctx`; unknown names, type mismatches and unsupported constructs are `SqlError`s. */
export function bindExpr(e: Expr, ctx: BindContext): BoundExpr {
  const grouped = ctx.group?.(e);
  if (grouped) return grouped;
  switch (e.kind) {
    case "literal":
      return literal(e);
    case "interval": {
      const ms = UNIT_MS[e.unit];
      if (ms === undefined) throw unsupported(e.pos, `INTERVAL unit ${e.unit}`);
      return { kind: "literal", value: Number(e.value) * ms, type: INTERVAL };
    }
    case "typed-literal": {
      if (e.type !== "TIMESTAMP") throw unsupported(e.pos, `${e.type} literal`);
      const ms = Date.parse(`${e.value.trim().replace(" ", "T")}Z`);
      if (Number.isNaN(ms)) throw invalid(e.pos, `invalid TIMESTAMP literal '${e.value}'`);
      return { kind: "literal", value: ms, type: TIMESTAMP };
    }
    case "column":
      if (ctx.group) throw invalid(e.pos, `column '${e.path.join(".")}' must appear in GROUP BY or in an aggregate`);
      return resolveColumn(e.path, e.pos, ctx.columns);
    case "star":
      throw invalid(e.pos, "'*' is only allowed in the SELECT list and in COUNT(*)");
    case "binary":
      return binary(e.op, bindExpr(e.left, ctx), bindExpr(e.right, ctx), e.pos);
    case "unary": {
      const operand = bindExpr(e.operand, ctx);
      if (e.op === "NOT") return call("NOT", [operand], e.pos);
      if (e.op === "+") return operand;
      return call("-", [{ kind: "literal", value: 0, type: INT }, operand], e.pos);
    }
    case "call":
      return bindCall(e, ctx);
    case "case":
      return bindCase(e, ctx);
    case "cast": {
      const inner = bindExpr(e.expr, ctx);
      const to = typeOf(e.type);
      const ok =
        inner.type.kind === "NULL" ||
        to.kind === "VARCHAR" ||
        inner.type.kind === "VARCHAR" ||
        assignable(inner.type, to);
      if (!ok) throw invalid(e.pos, `cannot CAST ${showType(inner.type)} to ${showType(to)}`);
      return { kind: "cast", expr: inner, type: to };
    }
    case "between": {
      const x = bindExpr(e.expr, ctx);
      const range = call(
        "AND",
        [binary(">=", x, bindExpr(e.low, ctx), e.pos), binary("<=", x, bindExpr(e.high, ctx), e.pos)],
        e.pos,
      );
      return e.not ? call("NOT", [range], e.pos) : range;
    }
    case "in": {
      const x = bindExpr(e.expr, ctx);
      const tests = e.list.map((item) => binary("=", x, bindExpr(item, ctx), e.pos));
      const any = tests.slice(1).reduce((acc, t) => call("OR", [acc, t], e.pos), tests[0] as BoundExpr);
      return e.not ? call("NOT", [any], e.pos) : any;
    }
    case "is": {
      const x = bindExpr(e.expr, ctx);
      if (e.what === "NULL") return { kind: "is-null", expr: x, not: e.not, type: BOOLEAN };
      const test = binary("=", x, { kind: "literal", value: e.what === "TRUE", type: BOOLEAN }, e.pos);
      return e.not ? call("NOT", [test], e.pos) : test;
    }
    case "like":
      throw unsupported(e.pos, "LIKE");
    case "in-query":
    case "subquery":
      throw unsupported(e.pos, "a subquery in an expression");
  }
}

function literal(e: Extract<Expr, { kind: "literal" }>): BoundExpr {
  switch (e.type) {
    case "integer": {
      const v = Number(e.text);
      return { kind: "literal", value: v, type: Math.abs(v) < 2 ** 31 ? INT : BIGINT };
    }
    case "decimal": {
      const scale = e.text.split(".")[1]?.length ?? 0;
      return {
        kind: "literal",
        value: Number(e.text),
        type: { kind: "DECIMAL", precision: Math.max(e.text.length - 1, scale), scale },
      };
    }
    case "double":
      return { kind: "literal", value: Number(e.text), type: DOUBLE };
    case "string":
      return { kind: "literal", value: e.text, type: VARCHAR };
    case "boolean":
      return { kind: "literal", value: e.text === "TRUE", type: BOOLEAN };
    case "null":
      return { kind: "literal", value: null, type: NULL };
  }
}

/** Resolves `a`, `t.a`, `row.field`, `t.row.field` among `columns`. */
export function resolveColumn(path: readonly string[], pos: Pos, columns: readonly ScopeColumn[]): BoundExpr {
  const name = path.join(".");
  const [first, second] = path as [string, string | undefined];
  let matches = second === undefined ? [] : indicesOf(columns, (c) => c.qualifier === first && c.name === second);
  let rest = path.slice(2);
  if (matches.length === 0) {
    matches = indicesOf(columns, (c) => c.name === first);
    rest = path.slice(1);
  }
  if (matches.length === 0) {
    const known = [...new Set(columns.map((c) => c.name))].join(", ");
    throw invalid(pos, `unknown column '${name}' (available: ${known || "none"})`);
  }
  if (matches.length > 1) throw invalid(pos, `column '${name}' is ambiguous`);
  const index = matches[0] as number;
  let expr: BoundExpr = { kind: "input", index, type: (columns[index] as ScopeColumn).type };
  for (const f of rest) {
    const t: SqlType = expr.type;
    const field: Field | undefined = t.kind === "ROW" ? t.fields.find((x) => x.name === f) : undefined;
    if (!field) throw invalid(pos, `unknown field '${f}' of ${showType(t)} in '${name}'`);
    expr = { kind: "field", expr, name: f, type: field.type };
  }
  return expr;
}

function indicesOf<T>(items: readonly T[], test: (t: T) => boolean): number[] {
  const out: number[] = [];
  items.forEach((t, i) => {
    if (test(t)) out.push(i);
  });
  return out;
}

const timestampPlus = (sign: 1 | -1): ScalarFn => ({
  type: () => TIMESTAMP,
  make: () => (v) => (v[0] as number) + sign * (v[1] as number),
});

/** A binary operator's call: `TIMESTAMP ± INTERVAL`, or the scalar function of `op`. */
export function binary(op: string, left: BoundExpr, right: BoundExpr, pos: Pos): BoundExpr {
  if ((op === "+" || op === "-") && left.type.kind === "TIMESTAMP" && right.type.kind === "INTERVAL") {
    return { kind: "call", name: op, fn: timestampPlus(op === "+" ? 1 : -1), args: [left, right], type: TIMESTAMP };
  }
  return call(op, [left, right], pos);
}

/** A call of a scalar operator or function, typed. */
export function call(name: string, args: BoundExpr[], pos: Pos): BoundExpr {
  const fn = scalarFunction(name) ?? registeredFunction(name);
  if (!fn) throw invalid(pos, `unknown function '${name}'`);
  return {
    kind: "call",
    name,
    fn,
    args,
    type: fn.type(
      args.map((a) => a.type),
      pos,
      name,
    ),
  };
}

function bindCall(e: Extract<Expr, { kind: "call" }>, ctx: BindContext): BoundExpr {
  if (e.over) {
    if (ctx.over) return ctx.over(e);
    throw unsupported(e.pos, `${e.name}(…) OVER (…) in ${ctx.group ? "an aggregating SELECT" : ctx.clause}`);
  }
  const edge = /^(?:(SESSION)_(?:START|END)|(TUMBLE|HOP)_(?:START|END|ROWTIME))$/.exec(e.name);
  if (edge) throw invalid(e.pos, `${e.name} needs the same ${edge[1] ?? edge[2]}(…) window in GROUP BY`);
  const legacy = LEGACY[e.name];
  if (legacy) throw unsupported(e.pos, legacy);
  if (e.name === "PROCTIME") {
    if (e.args.length > 0) throw invalid(e.pos, "PROCTIME takes no arguments");
    return { kind: "call", name: "PROCTIME", fn: proctimeFunction, args: [], type: PROCTIME };
  }
  if (AGGREGATES.has(e.name)) {
    if (!ctx.aggregate) throw invalid(e.pos, `aggregate ${e.name} is not allowed in ${ctx.clause}`);
    return ctx.aggregate(e);
  }
  if (e.filter || e.distinct || e.star) throw invalid(e.pos, `${e.name} is not an aggregate function`);
  return call(
    e.name,
    e.args.map((a) => bindExpr(a, ctx)),
    e.pos,
  );
}

function bindCase(e: Extract<Expr, { kind: "case" }>, ctx: BindContext): BoundExpr {
  const operand = e.operand ? bindExpr(e.operand, ctx) : undefined;
  const whens = e.whens.map((w) => {
    const when = bindExpr(w.when, ctx);
    return { when: operand ? binary("=", operand, when, e.pos) : when, result: bindExpr(w.result, ctx) };
  });
  const otherwise: BoundExpr = e.else ? bindExpr(e.else, ctx) : { kind: "literal", value: null, type: NULL };
  let type: SqlType = otherwise.type;
  for (const w of whens) {
    if (w.when.type.kind !== "BOOLEAN")
      throw invalid(e.pos, `type mismatch: WHEN needs BOOLEAN, got ${showType(w.when.type)}`);
    type = unify(type, w.result.type, e.pos);
  }
  return { kind: "case", whens, else: otherwise, type };
}

function unify(a: SqlType, b: SqlType, pos: Pos): SqlType {
  if (a.kind === "NULL") return b;
  if (b.kind === "NULL" || a.kind === b.kind) return a;
  if (isNumeric(a) && isNumeric(b)) return a.kind === "DOUBLE" || b.kind === "DOUBLE" ? DOUBLE : BIGINT;
  throw invalid(pos, `type mismatch: CASE branches are ${showType(a)} and ${showType(b)}`);
}

/** `e` as the condition of `clause` (`ast` as written): a BOOLEAN (or NULL), or a type mismatch. */
export function condition(e: BoundExpr, clause: string, ast: Expr): BoundExpr {
  if (e.type.kind !== "BOOLEAN" && e.type.kind !== "NULL")
    throw invalid(startOf(ast), `type mismatch: ${clause} needs BOOLEAN, got ${showType(e.type)}`);
  return e;
}
