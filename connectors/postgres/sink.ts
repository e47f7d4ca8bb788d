/**
 * `postgresSink(...)`: an exactly-once upsert sink into a Postgres table, on
 * riffle's two-phase sink interface.
 *
 * An epoch's changes are folded by primary key into its transaction handle (the
 * last change of each key: an upsert or a delete), which riffle stores with the
 * checkpoint. When the checkpoint completes, `commit` applies the handle in one
 * Postgres transaction that also raises the sink partition's row in a progress
 * table to the checkpoint id; if the row already holds that id or a later one, the
 * transaction rolls back and changes nothing. So a commit riffle repeats after a
 * restore is a no-op, and the table holds each checkpoint's changes once.
 *
 * A column the changes carry and the table lacks (the source table gained it) is
 * added to the table in the same transaction: see `sink-schema.ts`.
 */
import type { TwoPhaseCommitSink } from "../../core/api/two-phase-sink.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import { type KeyedSinkTxn, keyedChangeSink } from "../shared/keyed-sink.ts";
import type { ChangeRecord } from "./changes.ts";
import { ident, qualified } from "./setup.ts";
import { type AddedColumn, addColumnStatements, addedColumns } from "./sink-schema.ts";
import { keyString } from "./snapshot.ts";
import { SyncPostgres, type SyncStatement } from "./sync-postgres.ts";

/** Options of {@link postgresSink}. */
export interface PostgresSinkOptions {
  /** Connection string. */
  readonly url: string;
  /** The table written, `name` or `schema.name`; it needs a primary key (or unique index) on `key`. */
  readonly table: string;
  /** The primary-key columns: upserts conflict on them, deletes match them. */
  readonly key: readonly string[];
  /** The progress table riffle owns (created if missing). Default `riffle_sink_progress`. */
  readonly progressTable?: string;
}

/** A transaction handle: one epoch of one sink partition, folded by key (rows to upsert, rows whose key to delete). JSON. */
export type PostgresSinkTxn = KeyedSinkTxn<Record<string, unknown>, Record<string, unknown>>;

/**
 * An exactly-once sink of a changelog (`+I`/`+U` upsert, `-D` delete, and a `-U`
 * with no `+U` after it deletes too) into a Postgres table, committed once per checkpoint. A column the
 * changes carry and the table lacks is added to the table (typed by its values:
 * `numeric`, `text`, `boolean` or `jsonb`; create it beforehand for another type).
 *
 * @example
 * ```ts
 * changes.addSink(postgresSink({ url, table: "orders_copy", key: ["id"] }));
 * ```
 */
export function postgresSink(options: PostgresSinkOptions): TwoPhaseCommitSink<ChangeRecord, PostgresSinkTxn> {
  if (options.key.length === 0) throw new JobDefinitionError("postgresSink: key must name the primary-key columns");
  const table = qualified(options.table);
  const progress = qualified(options.progressTable ?? "riffle_sink_progress");
  const db = new SyncPostgres(options.url);
  const keyOf = (row: Record<string, unknown>) => keyString(options.key.map((k) => row[k]));
  let columns: Set<string> | undefined;
  return keyedChangeSink<ChangeRecord, Record<string, unknown>, Record<string, unknown>>({
    keyOf: (c) => keyOf(c.row),
    upsertOf: (c) => c.row,
    deleteOf: (c) => c.row,
    commit(txn) {
      columns ??= prepare(db, table, progress);
      const added = addedColumns(txn.upserts, columns);
      const statements = commitStatements(txn, table, progress, options.key, columns, added);
      if (db.transaction({ statements, guard: 0 }).applied) for (const c of added) columns.add(c.name);
    },
  });
}

/** Creates the progress table if missing; the sink table's columns. */
function prepare(db: SyncPostgres, table: string, progress: string): Set<string> {
  const result = db.transaction({
    statements: [
      createProgress(progress),
      {
        text: "SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
        values: [table],
      },
    ],
  });
  return new Set((result.rows[1] as { name: string }[]).map((r) => r.name));
}

function createProgress(progress: string): SyncStatement {
  return {
    text: `CREATE TABLE IF NOT EXISTS ${progress} (job text NOT NULL, sink text NOT NULL, "partition" int NOT NULL,
      "checkpoint" bigint NOT NULL, PRIMARY KEY (job, sink, "partition"))`,
  };
}

/** The progress guard, the columns to add, then the deletes and the upserts of `txn`. */
function commitStatements(
  txn: PostgresSinkTxn,
  table: string,
  progress: string,
  key: readonly string[],
  columns: ReadonlySet<string>,
  added: readonly AddedColumn[],
): SyncStatement[] {
  const out: SyncStatement[] = [
    {
      text: `INSERT INTO ${progress} AS p (job, sink, "partition", "checkpoint") VALUES ($1, $2, $3, $4)
        ON CONFLICT (job, sink, "partition") DO UPDATE SET "checkpoint" = EXCLUDED."checkpoint"
        WHERE p."checkpoint" < EXCLUDED."checkpoint" RETURNING 1`,
      values: [txn.job, txn.sink, txn.partition, txn.checkpoint],
    },
    ...addColumnStatements(table, added),
  ];
  const k = key.map(ident);
  if (txn.deletes.length > 0)
    out.push({
      text: `DELETE FROM ${table} AS t USING json_populate_recordset(NULL::${table}, $1::json) AS d
        WHERE ${k.map((c) => `t.${c} = d.${c}`).join(" AND ")}`,
      values: [JSON.stringify(txn.deletes)],
    });
  if (txn.upserts.length > 0) {
    const known = (c: string) => columns.has(c) || added.some((a) => a.name === c);
    const names = [...new Set(txn.upserts.flatMap((r) => Object.keys(r)))].filter(known);
    const cols = names.map(ident);
    const rest = cols.filter((c) => !k.includes(c));
    const action = rest.length ? `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(", ")}` : "DO NOTHING";
    out.push({
      text: `INSERT INTO ${table} (${cols.join(", ")})
        SELECT ${cols.join(", ")} FROM json_populate_recordset(NULL::${table}, $1::json)
        ON CONFLICT (${k.join(", ")}) ${action}`,
      values: [JSON.stringify(txn.upserts)],
    });
  }
  return out;
}
