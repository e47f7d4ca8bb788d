/**
 * Binding a join of the FROM clause: a regular join, inner or outer (join.ts), a lookup join
 * against a PROCTIME() AS OF time (lookup-join.ts), or an event-time temporal join against a
 * versioned table (temporal-join.ts).
 */
import type { Expr, TableRef } from "./ast.ts";
import { bindExpr, condition, type ScopeColumn } from "./bind-expr.ts";
import type { Catalog } from "./catalog.ts";
import { invalid, unsupported } from "./errors.ts";
import type { Rel } from "./logical.ts";
import { bindLookupJoin } from "./lookup-join.ts";
import { checkTemporalJoin } from "./temporal-join.ts";

/** A bound relation and the columns it shows to the query around it. */
export interface Scope {
  readonly rel: Rel;
  readonly columns: readonly ScopeColumn[];
}

type JoinRef = Extract<TableRef, { kind: "join" }>;

/** Binds a join; `bindFrom` binds its sides. */
export function bindJoin(ref: JoinRef, catalog: Catalog, bindFrom: (ref: TableRef) => Scope): Scope {
  if (ref.right.kind === "table" && ref.right.asOf) {
    const left = bindFrom(ref.left);
    return (
      bindTemporalJoin(ref, left, catalog, bindFrom) ??
      bindLookupJoin(ref, left, catalog.table(ref.right.name, ref.right.pos))
    );
  }
  const outer = ref.type === "LEFT" || ref.type === "RIGHT" || ref.type === "FULL" ? ref.type : undefined;
  if (outer && !ref.on) throw invalid(ref.pos, `a ${outer} OUTER join needs ON`);
  return joinScope(ref, bindFrom(ref.left), bindFrom(ref.right), outer);
}

/** A regular join of two bound sides (or, with `temporal`, an event-time temporal join). */
function joinScope(
  ref: JoinRef,
  left: Scope,
  right: Scope,
  outer: "LEFT" | "RIGHT" | "FULL" | undefined,
  temporal?: Extract<Rel, { kind: "join" }>["temporal"],
): Scope {
  const columns = [...left.columns, ...right.columns];
  const on = ref.on ? condition(bindExpr(ref.on, { columns, clause: "ON" }), "ON", ref.on) : undefined;
  const fields = [...left.rel.fields, ...right.rel.fields];
  const rel: Rel = {
    kind: "join",
    left: left.rel,
    right: right.rel,
    leftKeys: [],
    rightKeys: [],
    fields,
    pos: ref.pos,
    ...(on ? { condition: on } : {}),
    ...(outer ? { outer } : {}),
    ...(temporal ? { temporal } : {}),
  };
  return { rel, columns };
}

/**
 * `left JOIN v FOR SYSTEM_TIME AS OF left.rowtime …`: an event-time temporal join against the
 * versioned table or view `v`; undefined when the AS OF time is a PROCTIME() attribute (a lookup join).
 */
function bindTemporalJoin(
  ref: JoinRef,
  left: Scope,
  catalog: Catalog,
  bindFrom: (ref: TableRef) => Scope,
): Scope | undefined {
  const { asOf, ...right } = ref.right as Extract<TableRef, { kind: "table" }>;
  const time = bindExpr(asOf as Expr, { columns: left.columns, clause: "FOR SYSTEM_TIME AS OF" });
  if (time.type.kind === "TIMESTAMP" && time.type.proctime) return undefined;
  if (ref.type !== "INNER" && ref.type !== "LEFT") throw unsupported(ref.pos, `a ${ref.type} temporal join`);
  if (!ref.on) throw invalid(ref.pos, "a temporal join needs ON with an equality on the versioned table's key");
  const versioned = bindFrom(right);
  const table = catalog.views.has(right.name) ? undefined : catalog.table(right.name, right.pos);
  const times = checkTemporalJoin(left.rel, versioned.rel, time, table, ref.pos);
  return joinScope(ref, left, versioned, ref.type === "LEFT" ? "LEFT" : undefined, {
    ...times,
    ...(table ? { table } : {}),
  });
}
