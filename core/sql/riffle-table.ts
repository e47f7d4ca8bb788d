/**
 * The `riffle` connector: a dynamic table of the job itself (`core/tables/`). Written by
 * `INSERT INTO`, it keeps one row per primary key (an upsert table, which takes every
 * change a query makes) or every inserted row (an append table, inserts only), readable
 * at each completed checkpoint with `riffle query` and the HTTP API.
 *
 * ```sql
 * CREATE TABLE totals (`user` VARCHAR, total BIGINT, PRIMARY KEY (`user`) NOT ENFORCED)
 *   WITH ('connector' = 'riffle');
 * INSERT INTO totals SELECT `user`, SUM(n) FROM clicks GROUP BY `user`;
 * ```
 */

import type { DataStream } from "../api/datastream.ts";
import type { TableSpec } from "../ports/table-store.ts";
import { changeOf, keyOf } from "../tables/fold.ts";
import { invalid } from "./errors.ts";
import { type ChangelogMode, INSERT_ONLY, RETRACT, type TableDef } from "./logical.ts";
import { showType } from "./types.ts";

/** The connector name. */
export const RIFFLE_CONNECTOR = "riffle";

/** The dynamic table `table` declares; a primary key must name its columns. */
export function riffleTableSpec(table: TableDef): TableSpec {
  const names = new Set(table.physical.map((f) => f.name));
  for (const c of table.primaryKey ?? [])
    if (!names.has(c)) throw invalid(table.pos, `primary key column '${c}' is not a column of table '${table.name}'`);
  for (const k of Object.keys(table.options))
    if (k !== "connector") throw invalid(table.pos, `the riffle connector has no option '${k}' (it takes none)`);
  if (table.computed.length > 0 || table.watermark)
    throw invalid(
      table.pos,
      `riffle table '${table.name}' has computed columns or a watermark: declare physical columns only`,
    );
  const columns = table.physical.map((f) => `\`${f.name}\` ${showType(f.type)}`).join(", ");
  return { name: table.name, columns, ...(table.primaryKey ? { primaryKey: [...table.primaryKey] } : {}) };
}

/** What a riffle table accepts: every change with a primary key, inserts only without. */
export function riffleAccepts(table: TableDef): ChangelogMode {
  return riffleTableSpec(table).primaryKey ? RETRACT : INSERT_ONLY;
}

/**
 * Writes `out` (row objects, or `{kind, row}` changes) to the riffle table `table`. An
 * upsert table's changes are partitioned by its primary key first, so each key's changes
 * reach the table in order from one partition (the fold rule needs it).
 */
export function writeRiffleTable<T>(table: TableDef, out: DataStream<T>, uid: string): void {
  const spec = riffleTableSpec(table);
  const pk = spec.primaryKey;
  const input = pk ? out.keyBy((r) => keyOf(pk, changeOf(r).row)) : out;
  input.toTable(table.name, spec).uid(uid);
}
