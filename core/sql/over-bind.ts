/**
 * Window functions in a SELECT list, `f(…) OVER (PARTITION BY … ORDER BY … [frame])`: each call
 * becomes a column of one `over` node placed between the query's FROM/WHERE and its projection.
 * `ROW_NUMBER()` becomes a TopN once the optimizer finds the `rn <= N` filter around it.
 * Also the leniencies the public Nexmark q6 needs (Flink refuses it): a WHERE naming a window
 * function's alias, and the qualifiers of an unaliased subquery's columns.
 */
import { type Expr, type FrameBound, type Query, type SelectItem, startOf, type WindowSpec } from "./ast.ts";
import { type BindContext, bindExpr, type ScopeColumn } from "./bind-expr.ts";
import { invalid, type Pos, unsupported } from "./errors.ts";
import { type BoundExpr, fold } from "./expr.ts";
import type { AggCall, OverCall, OverFrame, OverWindow, Rel, SortKey } from "./logical.ts";
import { BIGINT, showType } from "./types.ts";

type Call = Extract<Expr, { kind: "call" }>;

/** Binds one aggregate call over input columns (the binder's, shared with GROUP BY aggregates). */
export type BindAggregate = (call: Call, ctx: BindContext, pre: BoundExpr[]) => AggCall;

/** Collects the window function calls of a SELECT list, and builds their `over` node. */
export class OverCalls {
  private readonly calls: OverCall[] = [];
  private window: OverWindow | undefined;
  private pos: Pos | undefined;

  private readonly columns: readonly ScopeColumn[];
  private readonly bindAggregate: BindAggregate;

  constructor(columns: readonly ScopeColumn[], bindAggregate: BindAggregate) {
    this.columns = columns;
    this.bindAggregate = bindAggregate;
  }

  /** The column of call `e`'s result (after the input's columns). */
  readonly bind = (e: Call): BoundExpr => {
    const spec = e.over as WindowSpec;
    const ctx: BindContext = { columns: this.columns, clause: "OVER" };
    const window = this.windowOf(spec, e, ctx);
    if (this.window && JSON.stringify(this.window) !== JSON.stringify(window))
      throw unsupported(e.pos, "window functions over different windows in one SELECT");
    let call: OverCall;
    if (e.name === "ROW_NUMBER") {
      if (e.args.length > 0 || e.star) throw invalid(e.pos, "ROW_NUMBER takes no arguments");
      if (spec.orderBy.length === 0) throw invalid(e.pos, "ROW_NUMBER() OVER (…) needs an ORDER BY");
      call = { fn: "ROW_NUMBER", type: BIGINT };
    } else if (["COUNT", "SUM", "MIN", "MAX", "AVG"].includes(e.name)) {
      if (e.filter || e.distinct) throw unsupported(e.pos, `${e.name}(DISTINCT …) or FILTER in an OVER aggregate`);
      const pre = this.columns.map((c, index): BoundExpr => ({ kind: "input", index, type: c.type }));
      call = this.bindAggregate(e, ctx, pre);
      if (pre.length > this.columns.length)
        throw unsupported(e.pos, `an OVER aggregate of an expression (name a column, computed in a subquery)`);
      const key = window.orderBy[0];
      if (window.orderBy.length !== 1 || !key || key.desc || this.columns[key.column]?.type.kind !== "TIMESTAMP")
        throw unsupported(
          e.pos,
          "an OVER aggregate not ordered by one ascending TIMESTAMP column (its time attribute)",
        );
    } else throw unsupported(e.pos, `the window function ${e.name}() OVER (…) (only ROW_NUMBER and aggregates)`);
    if (this.calls.some((c) => (c.fn === "ROW_NUMBER") !== (call.fn === "ROW_NUMBER")))
      throw unsupported(e.pos, "ROW_NUMBER() and OVER aggregates in one SELECT");
    this.window = window;
    this.pos ??= e.pos;
    this.calls.push(call);
    return { kind: "input", index: this.columns.length + this.calls.length - 1, type: call.type };
  };

  /** Whether the SELECT list had a window function. */
  get used(): boolean {
    return this.calls.length > 0;
  }

  /** The `over` node over `input` filtered by `where` (WHERE applies before window functions). */
  build(input: Rel, where: BoundExpr | undefined): Rel {
    const projects = input.fields.map((f, index): BoundExpr => ({ kind: "input", index, type: f.type }));
    const base: Rel = where ? { kind: "calc", input, projects, filter: where, fields: input.fields } : input;
    return {
      kind: "over",
      input: base,
      window: this.window as OverWindow,
      calls: this.calls,
      fields: [...input.fields, ...this.calls.map((c, i) => ({ name: `w${i}$${c.fn}`, type: c.type }))],
      pos: this.pos as Pos,
    };
  }

  private windowOf(spec: WindowSpec, e: Call, ctx: BindContext): OverWindow {
    const column = (x: Expr, what: string): number => {
      const b = bindExpr(x, { ...ctx, clause: what });
      if (b.kind !== "input") throw unsupported(x.pos, `${what} an expression in OVER (…) (name a column)`);
      return b.index;
    };
    const partitionKeys = spec.partitionBy.map((x) => column(x, "PARTITION BY"));
    const orderBy: SortKey[] = spec.orderBy.map((o) => ({ column: column(o.expr, "ORDER BY"), desc: o.desc }));
    const frame = spec.frame ? frameOf(spec.frame, e.pos) : undefined;
    if (frame && e.name === "ROW_NUMBER") throw invalid(e.pos, "ROW_NUMBER() OVER (…) takes no frame");
    return { partitionKeys, orderBy, ...(frame ? { frame } : {}) };
  }
}

function frameOf(frame: NonNullable<WindowSpec["frame"]>, pos: Pos): OverFrame {
  if (frame.end.kind !== "current-row")
    throw unsupported(pos, "a window frame that does not end at CURRENT ROW (as in Flink)");
  const start = frame.start;
  if (frame.unit === "ROWS") {
    if (start.kind === "unbounded-preceding") return { unit: "ROWS", preceding: "unbounded" };
    if (start.kind === "current-row") return { unit: "ROWS", preceding: 0 };
    const n = offset(start, pos);
    if (n.type.kind === "INTERVAL" || !Number.isInteger(n.value) || (n.value as number) < 0)
      throw invalid(pos, "ROWS BETWEEN needs a count of rows: n PRECEDING with n ≥ 0");
    return { unit: "ROWS", preceding: n.value as number };
  }
  if (start.kind === "unbounded-preceding") return { unit: "RANGE", precedingMs: "unbounded" };
  if (start.kind === "current-row") return { unit: "RANGE", precedingMs: 0 };
  const n = offset(start, pos);
  if (n.type.kind !== "INTERVAL" || (n.value as number) < 0)
    throw invalid(pos, "RANGE BETWEEN needs an INTERVAL: INTERVAL '…' unit PRECEDING");
  return { unit: "RANGE", precedingMs: n.value as number };
}

function offset(bound: FrameBound, pos: Pos) {
  if (bound.kind !== "preceding") throw unsupported(pos, "a window frame that starts after the current row");
  const v = fold(bindExpr(bound.offset, { columns: [], clause: "a window frame" }));
  if (v.kind !== "literal") throw invalid(pos, "a window frame's bound must be a constant");
  return v;
}

/**
 * Whether `where` names a window function's alias of the same SELECT (and no input column of
 * that name exists). The public Nexmark q6 does (`SELECT *, ROW_NUMBER() OVER (…) AS rownum …
 * WHERE rownum <= 1`), which Flink refuses; riffle reads such a WHERE as QUALIFY: a filter
 * after the window functions, over the SELECT's output columns.
 */
export function filtersWindowAlias(
  where: Expr,
  items: readonly SelectItem[],
  columns: readonly ScopeColumn[],
): boolean {
  const aliases = new Set(items.filter((i) => i.alias && i.expr.kind === "call" && i.expr.over).map((i) => i.alias));
  let found = false;
  JSON.stringify(where, (k, v: { kind?: string; path?: string[] } | null) => {
    if (k === "query") return undefined;
    const name = v?.kind === "column" && v.path?.length === 1 ? v.path[0] : undefined;
    if (name && aliases.has(name) && !columns.some((c) => c.name === name)) found = true;
    return v;
  });
  return found;
}

/** `rel` filtered by `where`, bound over `rel`'s output columns (see {@link filtersWindowAlias}). */
export function qualify(rel: Rel, where: Expr): Rel {
  const filter = bindExpr(where, { columns: rel.fields, clause: "WHERE" });
  if (filter.type.kind !== "BOOLEAN")
    throw invalid(startOf(where), `type mismatch: WHERE needs BOOLEAN, got ${showType(filter.type)}`);
  const projects = rel.fields.map((f, index): BoundExpr => ({ kind: "input", index, type: f.type }));
  return { kind: "calc", input: rel, projects, filter, fields: rel.fields };
}

/**
 * The columns of a derived table without an alias: each keeps the qualifier it was selected
 * with (`SELECT A.id …`), which the public q6 relies on; standard SQL (and Flink) would hide it.
 */
export function keptQualifiers(q: Query, rel: Rel): ScopeColumn[] {
  const items = q.kind === "select" && !q.items.some((i) => i.expr.kind === "star") ? q.items : [];
  return rel.fields.map((f, i) => {
    const e = items[i]?.expr;
    return e?.kind === "column" && e.path.length === 2 ? { qualifier: e.path[0], name: f.name, type: f.type } : f;
  });
}
