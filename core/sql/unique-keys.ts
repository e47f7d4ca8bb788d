/**
 * Unique keys of insert-only relations, as Flink's planner derives them (FlinkRelMdUniqueKeys):
 * columns on which no two rows of the relation, ever, agree. A connector declares what its
 * source guarantees (`connectorUniqueKeys`: the `nexmark` generator numbers its people and
 * auctions, so `person.id` is unique among the rows of `event_type` 0 and `auction.id` among
 * those of 1), and a key is carried up through a watermark and through calcs that keep its
 * columns; a calc whose filter requires the key's condition (`WHERE event_type = 1`) makes it
 * unconditional. A join uses them (append-join.ts): when one side's rows are unique on its join
 * key, a row of the other side that arrives when that side's row is already there has met the
 * only row it can ever join, and is not stored.
 */

import { connectorOf, NEXMARK_KINDS } from "./connectors.ts";
import { type BoundExpr, conjuncts } from "./expr.ts";
import type { Field, Rel, TableDef } from "./logical.ts";
import { connectorFor } from "./registered-table.ts";

/** A column, or a field inside a ROW column (`auction.id`: column `auction`, path `["id"]`). */
export interface ColumnPath {
  readonly column: number;
  readonly path: readonly string[];
}

/** A unique key of a relation's rows: of those where column `when.column` is `when.value` (all rows when absent). */
export interface UniqueKey {
  readonly when?: { readonly column: number; readonly value: number | string };
  readonly key: readonly ColumnPath[];
}

/** `e` as a column path (a column, or fields of one), or undefined. */
function pathOf(e: BoundExpr): ColumnPath | undefined {
  if (e.kind === "input") return { column: e.index, path: [] };
  if (e.kind !== "field") return undefined;
  const inner = pathOf(e.expr);
  return inner && { column: inner.column, path: [...inner.path, e.name] };
}

/** Where path `p` of a calc's input is among its output columns `projects`: a projected prefix of it, and the rest of the path. */
function through(p: ColumnPath, projects: readonly BoundExpr[]): ColumnPath | undefined {
  let best: ColumnPath | undefined;
  projects.forEach((e, j) => {
    const q = pathOf(e);
    if (!q || q.column !== p.column || q.path.length > p.path.length) return;
    if (q.path.some((name, i) => p.path[i] !== name)) return;
    if (!best || best.path.length > p.path.length - q.path.length)
      best = { column: j, path: p.path.slice(q.path.length) };
  });
  return best;
}

/** True when a conjunct of `filter` is `column = value`. */
function requires(filter: BoundExpr | undefined, column: number, value: number | string): boolean {
  if (!filter) return false;
  return conjuncts(filter).some((c) => {
    if (c.kind !== "call" || c.name !== "=" || c.args.length !== 2) return false;
    const [a, b] = c.args as [BoundExpr, BoundExpr];
    const [col, lit] = a.kind === "input" ? [a, b] : [b, a];
    return col.kind === "input" && col.index === column && lit.kind === "literal" && lit.value === value;
  });
}

/** The unique keys of calc `calc`'s output, from its input's `keys`. */
function throughCalc(calc: Extract<Rel, { kind: "calc" }>, keys: readonly UniqueKey[]): UniqueKey[] {
  const out: UniqueKey[] = [];
  for (const k of keys) {
    const key = k.key.map((p) => through(p, calc.projects));
    if (key.some((p) => p === undefined)) continue;
    const mapped = key as ColumnPath[];
    if (!k.when || requires(calc.filter, k.when.column, k.when.value)) {
      out.push({ key: mapped });
      continue;
    }
    const when = through({ column: k.when.column, path: [] }, calc.projects);
    if (when && when.path.length === 0) out.push({ when: { column: when.column, value: k.when.value }, key: mapped });
  }
  return out;
}

/** The unique keys of insert-only relation `rel`, conditional ones too. */
export function uniqueKeysOf(rel: Rel): UniqueKey[] {
  switch (rel.kind) {
    case "scan":
      return connectorUniqueKeys(rel.table, rel.fields);
    case "watermark":
      return uniqueKeysOf(rel.input);
    case "calc":
      return throughCalc(rel, uniqueKeysOf(rel.input));
    default:
      return [];
  }
}

/**
 * True when the rows of `rel` are unique on the columns `keys` reads: an unconditional unique
 * key of `rel` is all plain columns among `keys` (so each value of `keys` has at most one row).
 */
export function uniqueOn(rel: Rel, keys: readonly BoundExpr[]): boolean {
  const columns = new Set(keys.flatMap((k) => (k.kind === "input" ? [k.index] : [])));
  return uniqueKeysOf(rel).some((u) => !u.when && u.key.every((p) => p.path.length === 0 && columns.has(p.column)));
}

/**
 * The unique keys a table's connector guarantees of the rows it reads (unique-keys.ts), over
 * the scan's columns `fields`: the `nexmark` generator numbers people and auctions, so
 * `person.id` is unique among rows of `event_type` 0 and `auction.id` among those of 1 (on every
 * split together: splits generate disjoint events). Bids have no id.
 */
export function connectorUniqueKeys(table: TableDef, fields: readonly Field[]): UniqueKey[] {
  if (connectorFor(table) || connectorOf(table) !== "nexmark") return [];
  const at = (name: string) => fields.findIndex((f) => f.name === name);
  const type = at("event_type");
  if (type < 0) return [];
  return (["person", "auction"] as const).flatMap((kind) => {
    const column = at(kind);
    return column < 0 ? [] : [{ when: { column: type, value: NEXMARK_KINDS[kind] }, key: [{ column, path: ["id"] }] }];
  });
}
