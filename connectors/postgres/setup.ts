/**
 * What the CDC source checks and creates before it reads: `wal_level`, the table
 * and its primary key, the publication and the logical replication slot. Each
 * mistake is one line naming the fix.
 */
import type pg from "pg";
import { PostgresSetupError, postgresError } from "./errors.ts";

/** A table the source reads. */
export interface TableInfo {
  /** Quoted, schema-qualified name for SQL. */
  readonly sql: string;
  /** The name as given. */
  readonly name: string;
  /** Primary-key columns, in key order. */
  readonly key: readonly string[];
}

/** Quotes an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table` or `table` as a quoted, qualified name. */
export function qualified(name: string): string {
  const parts = name.split(".");
  return parts.map(ident).join(".");
}

/** Checks the server and the table; the table's primary key. */
export async function describeTable(client: pg.Client, table: string): Promise<TableInfo> {
  const wal = (await query(client, "reading wal_level", "SHOW wal_level")).rows[0]?.wal_level as string;
  if (wal !== "logical")
    throw new PostgresSetupError(
      `postgres-cdc: the server's wal_level is '${wal}', CDC needs 'logical': set wal_level = logical in postgresql.conf and restart the server`,
    );
  const sql = qualified(table);
  const key = (
    await query(
      client,
      `reading the primary key of '${table}'`,
      `SELECT a.attname AS name FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [sql],
    )
  ).rows.map((r) => r.name as string);
  if (key.length === 0)
    throw new PostgresSetupError(
      `postgres-cdc: table '${table}' has no primary key, which CDC needs to split the snapshot and to key changes: ALTER TABLE ${sql} ADD PRIMARY KEY (…)`,
    );
  return { sql, name: table, key };
}

/** Creates the publication (for `table` only) and the slot (pgoutput) unless they exist. */
export async function ensureSlot(
  client: pg.Client,
  table: TableInfo,
  slot: string,
  publication: string,
): Promise<void> {
  const pub = await query(client, "reading publications", "SELECT 1 FROM pg_publication WHERE pubname = $1", [
    publication,
  ]);
  if (pub.rowCount === 0)
    await query(
      client,
      `creating publication '${publication}'`,
      `CREATE PUBLICATION ${ident(publication)} FOR TABLE ${table.sql}`,
    ).catch((e) => {
      if ((e as { cause?: { code?: string } }).cause?.code !== "42710") throw e; // created meanwhile
    });
  const found = await query(
    client,
    "reading replication slots",
    "SELECT plugin FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  const plugin = found.rows[0]?.plugin as string | undefined;
  if (plugin !== undefined && plugin !== "pgoutput")
    throw new PostgresSetupError(`postgres-cdc: slot '${slot}' exists with plugin '${plugin}', not pgoutput: drop it`);
  if (plugin === undefined)
    await query(
      client,
      `creating replication slot '${slot}'`,
      "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
      [slot],
    ).catch((e) => {
      if ((e as { cause?: { code?: string } }).cause?.code !== "42710") throw e; // created meanwhile
    });
}

/** Drops the slot and the publication, if they exist (on request: a dropped slot loses the changes it held). */
export async function dropSlot(client: pg.Client, slot: string, publication: string): Promise<void> {
  await query(
    client,
    `dropping slot '${slot}'`,
    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  await query(client, `dropping publication '${publication}'`, `DROP PUBLICATION IF EXISTS ${ident(publication)}`);
}

/** Runs `text`; a failure becomes a riffle error saying what it was doing. */
export async function query(
  client: pg.Client,
  doing: string,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult> {
  try {
    return await client.query(text, values);
  } catch (e) {
    throw postgresError(`postgres-cdc: ${doing}`, e);
  }
}
