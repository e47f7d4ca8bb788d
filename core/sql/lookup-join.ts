/**
 * The lookup join `JOIN t FOR SYSTEM_TIME AS OF s.proctime AS x ON …` (also `LEFT JOIN`): each row
 * of the stream is joined, as it arrives, with the rows of table `t` whose columns equal its keys.
 * `t` is a bounded `filesystem` table, read once per task into an in-memory index (as Flink
 * caches a filesystem lookup table); a file that does not change gives every AS OF time the same
 * rows, so a replay after a failure joins the same way. (With an event time AS OF, the join is
 * an event-time temporal join instead: temporal-join.ts.)
 */
import type { DataStream } from "../api/datastream.ts";
import type { TableRef } from "./ast.ts";
import { type BindContext, bindExpr, call, type ScopeColumn } from "./bind-expr.ts";
import { connectorOf } from "./connectors.ts";
import { invalid, unsupported } from "./errors.ts";
import { type BoundExpr, compile, conjuncts, inputsOf, type Row, showExpr } from "./expr.ts";
import { checkFilesystemTable, readFilesystemTable } from "./filesystem.ts";
import { changelogMode, isUpdating, type Rel, type TableDef } from "./logical.ts";

/** A lookup join of the plan. */
export type LookupJoin = Extract<Rel, { kind: "lookup-join" }>;

/**
 * Binds `left JOIN table FOR SYSTEM_TIME AS OF … ON …`: the ON condition must equate columns of
 * the table with expressions over the left side; what else it says filters the joined rows.
 */
export function bindLookupJoin(
  ref: Extract<TableRef, { kind: "join" }>,
  left: { rel: Rel; columns: readonly ScopeColumn[] },
  table: TableDef,
): { rel: Rel; columns: ScopeColumn[] } {
  const right = ref.right as Extract<TableRef, { kind: "table" }>;
  if (ref.type !== "INNER" && ref.type !== "LEFT") throw unsupported(ref.pos, `a ${ref.type} lookup join`);
  if (connectorOf(table) !== "filesystem")
    throw unsupported(right.pos, `a lookup join against connector '${connectorOf(table)}' (only 'filesystem')`);
  if (table.computed.length > 0 || table.watermark)
    throw unsupported(right.pos, "a lookup table with computed columns or a watermark");
  if (isUpdating(changelogMode(left.rel))) throw unsupported(ref.pos, "a lookup join of an updating table");
  checkFilesystemTable(table);
  const qualifier = right.alias ?? right.name;
  const columns = [...left.columns, ...table.physical.map((f) => ({ qualifier, name: f.name, type: f.type }))];
  if (!ref.on) throw invalid(ref.pos, "a lookup join needs ON with an equality on the lookup table's columns");
  const ctx: BindContext = { columns, clause: "ON" };
  const n = left.columns.length;
  const leftKeys: BoundExpr[] = [];
  const rightKeys: number[] = [];
  const rest: BoundExpr[] = [];
  for (const c of conjuncts(bindExpr(ref.on, ctx))) {
    const [a, b] = c.kind === "call" && c.name === "=" ? (c.args as [BoundExpr, BoundExpr]) : [undefined, undefined];
    const onLeft = (e: BoundExpr) => [...inputsOf(e)].every((i) => i < n);
    const column = (e: BoundExpr | undefined) => (e?.kind === "input" && e.index >= n ? e.index - n : undefined);
    if (a && b && column(b) !== undefined && onLeft(a)) {
      leftKeys.push(a);
      rightKeys.push(column(b) as number);
    } else if (a && b && column(a) !== undefined && onLeft(b)) {
      leftKeys.push(b);
      rightKeys.push(column(a) as number);
    } else rest.push(c);
  }
  if (leftKeys.length === 0)
    throw invalid(
      ref.pos,
      `a lookup join needs ON with an equality between a column of '${table.name}' and the other side`,
    );
  const condition = rest.reduce<BoundExpr | undefined>(
    (acc, c) => (acc ? call("AND", [acc, c], ref.pos) : c),
    undefined,
  );
  const rel: Rel = {
    kind: "lookup-join",
    input: left.rel,
    table,
    type: ref.type,
    leftKeys,
    rightKeys,
    fields: [...left.rel.fields, ...table.physical],
    ...(condition ? { condition } : {}),
  };
  return { rel, columns };
}

/** The lookup join as a flatMap over the stream's rows. */
export function translateLookupJoin(rel: LookupJoin, input: DataStream<Row>): DataStream<Row> {
  const keyFns = rel.leftKeys.map(compile);
  const residual = rel.condition ? compile(rel.condition) : undefined;
  const nulls: Row = rel.table.physical.map(() => null);
  let index: Map<string, Row[]> | undefined;
  const load = () => {
    const built = new Map<string, Row[]>();
    for (const r of readFilesystemTable(rel.table)) {
      const key = rel.rightKeys.map((i) => r[i]);
      if (key.includes(null)) continue;
      const k = JSON.stringify(key);
      built.set(k, [...(built.get(k) ?? []), r]);
    }
    return built;
  };
  return input.flatMap((row): Row[] => {
    index ??= load();
    const key = keyFns.map((f) => f(row));
    const matches = key.includes(null) ? [] : (index.get(JSON.stringify(key)) ?? []);
    const out: Row[] = [];
    for (const m of matches) {
      const joined = [...row, ...m];
      if (!residual || residual(joined) === true) out.push(joined);
    }
    if (out.length === 0 && rel.type === "LEFT") out.push([...row, ...nulls]);
    return out;
  });
}

/** The EXPLAIN line of a lookup join. */
export function describeLookupJoin(rel: LookupJoin): string {
  const l = rel.input.fields.map((f) => f.name);
  const keys = rel.leftKeys.map(
    (k, i) => `${showExpr(k, l)} = ${rel.table.physical[rel.rightKeys[i] as number]?.name}`,
  );
  const all = rel.fields.map((f) => f.name);
  return `LookupJoin(table=[${rel.table.name}], joinType=[${rel.type === "LEFT" ? "LeftOuterJoin" : "InnerJoin"}], keys=[${keys.join(", ")}]${rel.condition ? `, where=[${showExpr(rel.condition, all)}]` : ""}) → flatMap over an in-memory index of the table`;
}
