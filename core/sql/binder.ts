/**
 * The binder: a query's AST becomes a typed logical plan ({@link Rel}), resolving tables, views
 * and columns in the {@link Catalog}. Errors name the line and column.
 */
import type { Expr, Query, SelectItem, TableRef } from "./ast.ts";
import { type BindContext, bindExpr, condition, resolveColumn, type ScopeColumn } from "./bind-expr.ts";
import { bindJoin, type Scope } from "./bind-join.ts";
import type { Catalog } from "./catalog.ts";
import { invalid, unsupported } from "./errors.ts";
import { type BoundExpr, fold } from "./expr.ts";
import { AGGREGATES } from "./functions.ts";
import { type GroupWindow, groupWindowEdge, groupWindowOf, windowEdge } from "./group-window.ts";
import {
  type AggCall,
  changelogMode,
  type Field,
  isUpdating,
  type Rel,
  type TableDef,
  type WindowSpec,
} from "./logical.ts";
import { filtersWindowAlias, keptQualifiers, OverCalls, qualify } from "./over-bind.ts";
import { sessionColumn, sessionGroupOf } from "./session-window.ts";
import { BIGINT, DOUBLE, isInteger, isNumeric, type SqlType, showType, TIMESTAMP } from "./types.ts";

/** Binds a query to a logical plan. */
export function bindQuery(q: Query, catalog: Catalog): Rel {
  if (q.kind === "union") throw unsupported(q.pos, "UNION");
  if (q.distinct) throw unsupported(q.pos, "SELECT DISTINCT");
  if (q.orderBy.length > 0 || q.limit !== undefined) throw unsupported(q.pos, "ORDER BY / LIMIT");
  if (!q.from) throw unsupported(q.pos, "SELECT without FROM");
  const input = bindFrom(q.from, catalog);
  const ctx: BindContext = { columns: input.columns, clause: "WHERE" };
  const aggregating = q.groupBy.length > 0 || q.items.some((i) => hasAggregate(i.expr)) || q.having !== undefined;
  const after = !aggregating && q.where !== undefined && filtersWindowAlias(q.where, q.items, input.columns);
  const where = q.where && !after ? condition(bindExpr(q.where, ctx), "WHERE", q.where) : undefined;
  if (!aggregating) {
    const items = expandStars(q.items, input.columns);
    const windows = new OverCalls(input.columns, aggregateCall);
    const projects = items.map((i) =>
      bindExpr(i.expr, { columns: input.columns, clause: "SELECT", over: windows.bind }),
    );
    if (!windows.used) return calc(input.rel, projects, where, names(items));
    const rel = calc(windows.build(input.rel, where), projects, undefined, names(items));
    return q.where && after ? qualify(rel, q.where) : rel;
  }
  return bindAggregate(q, input, where);
}

function bindAggregate(q: Extract<Query, { kind: "select" }>, from: Scope, where: BoundExpr | undefined): Rel {
  const session = sessionGroupOf(q.groupBy, { columns: from.columns, clause: "GROUP BY" });
  const window = session ? undefined : groupWindowOf(q.groupBy, from);
  const input: Scope = window ? { rel: window.rel, columns: window.columns } : from;
  const inputCtx: BindContext = { columns: input.columns, clause: "GROUP BY" };
  const groupBy = session ? q.groupBy.filter((_, i) => i !== session.index) : (window?.groupBy ?? q.groupBy);
  const windowColumns = session ? 2 : 0;
  const pre: BoundExpr[] = groupBy.map((g) => bindExpr(g, inputCtx));
  const groupKeys = pre.length;
  const groupJson = pre.map(key);
  const aggs: AggCall[] = [];
  const aggKeys: string[] = [];
  const column = (index: number, type: SqlType): BoundExpr => ({ kind: "input", index, type });
  const ctx: BindContext = {
    columns: input.columns,
    clause: "SELECT",
    group: (e) => {
      const sessionEdge = sessionColumn(e, session);
      if (sessionEdge !== undefined) return column(groupKeys + sessionEdge, TIMESTAMP);
      const edge = window && groupWindowEdge(e, window);
      if (edge) return windowEdge(edge, column((window as GroupWindow).index + (edge === "start" ? 0 : 1), TIMESTAMP));
      const astMatch = groupBy.findIndex((g) => key(g) === key(e));
      const i =
        astMatch >= 0
          ? astMatch
          : e.kind === "column"
            ? groupJson.indexOf(key(resolveColumn(e.path, e.pos, input.columns)))
            : -1;
      return i >= 0 ? column(i, (pre[i] as BoundExpr).type) : undefined;
    },
    aggregate: (e) => {
      const agg = aggregateCall(e, inputCtx, pre);
      const k = JSON.stringify(agg);
      let i = aggKeys.indexOf(k);
      if (i < 0) {
        i = aggs.length;
        aggs.push(agg);
        aggKeys.push(k);
      }
      return column(groupKeys + windowColumns + i, agg.type);
    },
  };
  const items = q.items.map((i) => {
    if (i.expr.kind === "star") throw invalid(i.expr.pos, "'*' is not allowed in an aggregating SELECT");
    return i;
  });
  const projects = items.map((i) => bindExpr(i.expr, ctx));
  const having = q.having ? condition(bindExpr(q.having, { ...ctx, clause: "HAVING" }), "HAVING", q.having) : undefined;
  const preFields = pre.map((e, i) => ({
    name: i < groupKeys ? groupName(groupBy[i] as Expr, i) : `$${i}`,
    type: e.type,
  }));
  if (session) {
    if (isUpdating(changelogMode(input.rel))) throw unsupported(q.pos, "a SESSION window over an updating table");
    pre.push(session.time);
    preFields.push({ name: `$${pre.length - 1}`, type: TIMESTAMP });
  }
  const sessionFields = session
    ? [
        { name: "session_start", type: TIMESTAMP },
        { name: "session_end", type: TIMESTAMP },
      ]
    : [];
  const aggregate: Rel = {
    kind: "aggregate",
    input: calc(input.rel, pre, where, preFields),
    groupKeys,
    aggs,
    fields: [
      ...preFields.slice(0, groupKeys),
      ...sessionFields,
      ...aggs.map((a, i) => ({ name: `${a.fn}$${i}`, type: a.type })),
    ],
    ...(session ? { session: { time: pre.length - 1, gapMs: session.gapMs } } : {}),
  };
  return calc(aggregate, projects, having, names(items));
}

function aggregateCall(e: Extract<Expr, { kind: "call" }>, ctx: BindContext, pre: BoundExpr[]): AggCall {
  const fn = e.name as AggCall["fn"];
  if (e.args.length !== (e.star ? 0 : 1)) throw invalid(e.pos, `${fn} takes one argument`);
  if (e.star && fn !== "COUNT") throw invalid(e.pos, `${fn}(*) is not allowed`);
  if (e.distinct && (fn === "SUM" || fn === "AVG")) throw unsupported(e.pos, `${fn}(DISTINCT …)`);
  const arg = e.star ? undefined : bindExpr(e.args[0] as Expr, ctx);
  if (arg && fn !== "COUNT" && fn !== "MIN" && fn !== "MAX" && !isNumeric(arg.type))
    throw invalid(e.pos, `type mismatch: ${fn} takes a number, got ${showType(arg.type)}`);
  const filter = e.filter ? condition(bindExpr(e.filter, { ...ctx, clause: "FILTER" }), "FILTER", e.filter) : undefined;
  const push = (x: BoundExpr) => {
    const same = pre.findIndex((p) => key(p) === key(x));
    return same >= 0 ? same : pre.push(x) - 1;
  };
  const type: SqlType =
    fn === "COUNT"
      ? BIGINT
      : fn === "AVG"
        ? isInteger((arg as BoundExpr).type)
          ? BIGINT
          : DOUBLE
        : fn === "SUM" && isInteger((arg as BoundExpr).type)
          ? BIGINT
          : (arg as BoundExpr).type;
  return {
    fn,
    // MIN and MAX of distinct values are MIN and MAX.
    distinct: e.distinct && fn === "COUNT",
    type,
    ...(arg ? { arg: push(arg) } : {}),
    ...(filter ? { filter: push(filter) } : {}),
  };
}

function bindFrom(ref: TableRef, catalog: Catalog): Scope {
  switch (ref.kind) {
    case "table": {
      if (ref.asOf) throw unsupported(ref.pos, "FOR SYSTEM_TIME AS OF (temporal joins)");
      const view = catalog.views.get(ref.name);
      const rel = view ? bindQuery(view.query, catalog) : scanOf(catalog.table(ref.name, ref.pos));
      return scope(rel, ref.alias ?? ref.name);
    }
    case "derived": {
      const rel = bindQuery(ref.query, catalog);
      return ref.alias ? scope(rel, ref.alias) : { rel, columns: keptQualifiers(ref.query, rel) };
    }
    case "tvf":
      return scope(bindWindow(ref, catalog), ref.alias);
    case "join":
      return bindJoin(ref, catalog, (r) => bindFrom(r, catalog));
  }
}

const WINDOW_ARGS = { TUMBLE: ["size"], HOP: ["slide", "size"], CUMULATE: ["step", "size"] } as const;

/** `TABLE(TUMBLE|HOP|CUMULATE(TABLE t, DESCRIPTOR(c), INTERVAL …))`: t's columns and the window's. */
function bindWindow(ref: Extract<TableRef, { kind: "tvf" }>, catalog: Catalog): Rel {
  const fn = ref.fn as WindowSpec["fn"];
  const names = WINDOW_ARGS[fn] as readonly string[] | undefined;
  if (!names) throw unsupported(ref.pos, `window table function ${ref.fn}`);
  const input = bindFrom({ kind: "table", name: ref.table, pos: ref.pos }, catalog);
  if (isUpdating(changelogMode(input.rel))) throw unsupported(ref.pos, `${fn} over an updating table`);
  const time = input.rel.fields.findIndex((f) => f.name === ref.descriptor);
  if (time < 0) throw invalid(ref.pos, `unknown column '${ref.descriptor}' in DESCRIPTOR of ${fn}`);
  if (input.rel.fields[time]?.type.kind !== "TIMESTAMP")
    throw invalid(ref.pos, `DESCRIPTOR(${ref.descriptor}) of ${fn} must name a TIMESTAMP(3) column`);
  if (ref.args.length !== names.length && ref.args.length !== names.length + 1)
    throw invalid(ref.pos, `${fn} takes a table, a DESCRIPTOR and ${names.join(", ")} [, offset]`);
  const ms = ref.args.map((a) => {
    const v = fold(bindExpr(a, { columns: [], clause: fn }));
    if (
      v.kind !== "literal" ||
      v.type.kind !== "INTERVAL" ||
      !((v.value as number) > 0 || a === ref.args[names.length])
    )
      throw invalid(a.pos, `${fn} needs a positive INTERVAL here`);
    return v.value as number;
  });
  const sizeMs = ms[names.length - 1] as number;
  const stepMs = ms[0] as number;
  if (fn !== "TUMBLE" && sizeMs % stepMs !== 0)
    throw invalid(ref.pos, `the size of ${fn} must be a multiple of its ${names[0]}`);
  const proctime = input.rel.fields[time]?.type.proctime === true;
  const window: WindowSpec = { fn, sizeMs, stepMs, offsetMs: ms[names.length] ?? 0, ...(proctime ? { proctime } : {}) };
  const ts = { type: TIMESTAMP };
  const fields = [
    ...input.rel.fields,
    { name: "window_start", ...ts },
    { name: "window_end", ...ts },
    { name: "window_time", ...ts },
  ];
  return { kind: "window-tvf", input: input.rel, window, time, fields };
}

/** A table read: its physical columns, then its computed columns, then its watermark. */
export function scanOf(table: TableDef): Rel {
  const scan: Rel = { kind: "scan", table, fields: table.physical };
  if (table.computed.length === 0 && !table.watermark) return scan;
  const columns: ScopeColumn[] = table.physical.map((f) => ({ name: f.name, type: f.type }));
  const projects: BoundExpr[] = table.physical.map((f, index) => ({ kind: "input", index, type: f.type }));
  for (const c of table.computed) projects.push(bindExpr(c.expr, { columns, clause: "a computed column" }));
  const fields = [
    ...table.physical,
    ...table.computed.map((c, i) => ({ name: c.name, type: (projects[table.physical.length + i] as BoundExpr).type })),
  ];
  const rel =
    table.computed.length === 0
      ? scan
      : calc(
          scan,
          projects,
          undefined,
          fields.map((f) => f.name),
        );
  const w = table.watermark;
  if (!w) return rel;
  const time = fields.findIndex((f) => f.name === w.column);
  if (fields[time]?.type.kind !== "TIMESTAMP")
    throw invalid(w.pos, `WATERMARK column '${w.column}' must be TIMESTAMP(3)`);
  const bound = bindExpr(w.expr, { columns: fields, clause: "WATERMARK" });
  const isTime = (e: BoundExpr | undefined) => e?.kind === "input" && e.index === time;
  let delayMs: number | undefined;
  if (isTime(bound)) delayMs = 0;
  else if (bound.kind === "call" && bound.name === "-" && isTime(bound.args[0]) && bound.args[1]?.kind === "literal")
    delayMs = bound.args[1].value as number;
  if (delayMs === undefined) throw unsupported(w.pos, `WATERMARK expression other than '${w.column} - INTERVAL …'`);
  return { kind: "watermark", input: rel, time, delayMs, fields };
}

function scope(rel: Rel, qualifier: string | undefined): Scope {
  return { rel, columns: rel.fields.map((f) => (qualifier ? { qualifier, name: f.name, type: f.type } : f)) };
}

function calc(
  input: Rel,
  projects: BoundExpr[],
  filter: BoundExpr | undefined,
  fieldNames: readonly string[] | readonly Field[],
): Rel {
  const fields = fieldNames.map((f, i) =>
    typeof f === "string" ? { name: f, type: (projects[i] as BoundExpr).type } : f,
  );
  return { kind: "calc", input, projects, fields, ...(filter ? { filter } : {}) };
}

function expandStars(items: readonly SelectItem[], columns: readonly ScopeColumn[]): SelectItem[] {
  return items.flatMap((i) => {
    if (i.expr.kind !== "star") return [i];
    const { qualifier, pos } = i.expr;
    const picked = columns.filter((c) => qualifier === undefined || c.qualifier === qualifier);
    if (picked.length === 0) throw invalid(pos, `unknown table '${qualifier}' in '${qualifier}.*'`);
    return picked.map((c) => ({
      expr: { kind: "column", path: c.qualifier ? [c.qualifier, c.name] : [c.name], pos } as Expr,
    }));
  });
}

function names(items: readonly SelectItem[]): string[] {
  return items.map(
    (item, i) => item.alias ?? (item.expr.kind === "column" ? (item.expr.path.at(-1) as string) : `EXPR$${i}`),
  );
}

function groupName(e: Expr, i: number): string {
  return e.kind === "column" ? (e.path.at(-1) as string) : `$g${i}`;
}

function hasAggregate(e: Expr): boolean {
  let found = false;
  // A walk of the tree that skips subqueries: they aggregate on their own.
  JSON.stringify(e, (k, v: { kind?: string; name?: string; over?: unknown } | null) => {
    if (k === "query") return undefined;
    if (v?.kind === "call" && AGGREGATES.has(v.name ?? "") && !v.over) found = true;
    return v;
  });
  return found;
}

/** A structural key of an AST or bound expression, positions left out. */
function key(e: unknown): string {
  return JSON.stringify(e, (k, v) => (k === "pos" || k === "fn" ? undefined : v));
}
