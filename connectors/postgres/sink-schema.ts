/**
 * Schema evolution in the Postgres sink: a column that the changes carry and the
 * sink table lacks (the source table gained it, e.g. by `ALTER TABLE … ADD
 * COLUMN`) is added to the sink table in the transaction that first writes a
 * value into it. Its type is read off the JSON values: numbers `numeric`, strings
 * `text`, booleans `boolean`, objects and arrays `jsonb`. A column created in the
 * sink table beforehand keeps its own type, and the sink just fills it. A column
 * whose values are all null is not added until a value comes (its rows read null
 * either way).
 */
import { PostgresSetupError } from "./errors.ts";
import { ident } from "./setup.ts";
import type { SyncStatement } from "./sync-postgres.ts";

/** A column to add, and its SQL type. */
export interface AddedColumn {
  readonly name: string;
  readonly type: string;
}

/** The SQL type for a JSON value (`undefined` for null). */
function typeOf(name: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case "number":
    case "bigint":
      return "numeric";
    case "string":
      return "text";
    case "boolean":
      return "boolean";
    case "object":
      return "jsonb";
    default:
      throw new PostgresSetupError(
        `postgres sink: column '${name}' holds a ${typeof value}, which no Postgres column can hold: create it in the sink table`,
      );
  }
}

/** The columns of `rows` that `columns` lacks and some row holds a value of, with their types. */
export function addedColumns(rows: readonly Record<string, unknown>[], columns: ReadonlySet<string>): AddedColumn[] {
  const types = new Map<string, string>();
  for (const row of rows)
    for (const [name, value] of Object.entries(row)) {
      if (columns.has(name) || types.has(name)) continue;
      const type = typeOf(name, value);
      if (type !== undefined) types.set(name, type);
    }
  return [...types].map(([name, type]) => ({ name, type }));
}

/** `ALTER TABLE … ADD COLUMN IF NOT EXISTS` for each added column. */
export function addColumnStatements(table: string, added: readonly AddedColumn[]): SyncStatement[] {
  return added.map((c) => ({ text: `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${c.type}` }));
}
