/** `CREATE MATERIALIZED TABLE`: a riffle table (`riffle-table.ts`) whose columns are its query's. */

import type { Statement } from "./ast.ts";
import { bindQuery } from "./binder.ts";
import type { Catalog } from "./catalog.ts";
import { invalid } from "./errors.ts";
import type { TableDef } from "./logical.ts";
import { RIFFLE_CONNECTOR, riffleTableSpec } from "./riffle-table.ts";

/**
 * Adds the riffle table of a `CREATE MATERIALIZED TABLE` to `catalog`: its columns are the
 * query's; `WITH` may only name the riffle connector.
 */
export function addMaterialized(catalog: Catalog, s: Extract<Statement, { kind: "create-materialized-table" }>): void {
  const connector = s.options.connector ?? RIFFLE_CONNECTOR;
  if (connector !== RIFFLE_CONNECTOR)
    throw invalid(s.pos, `a materialized table is a riffle table: 'connector' = '${connector}' is not allowed`);
  if (catalog.tables.has(s.name)) throw invalid(s.pos, `table '${s.name}' already exists`);
  const physical = bindQuery(s.query, catalog).fields;
  const def: TableDef = {
    name: s.name,
    physical,
    computed: [],
    options: { ...s.options, connector: RIFFLE_CONNECTOR },
    pos: s.pos,
    ...(s.primaryKey ? { primaryKey: s.primaryKey } : {}),
  };
  riffleTableSpec(def);
  catalog.tables.set(s.name, def);
}
