/**
 * SQL connectors registered from outside the engine: `CREATE TABLE … WITH
 * ('connector' = 'postgres-cdc')` names a connector that a package registers when it
 * is imported (`riffle/postgres` registers `postgres-cdc` and `postgres`), so that
 * core depends on no database client. A registered source produces a changelog of
 * row objects; a registered sink takes one, keyed by the table's primary key.
 */
import type { Source } from "../api/source.ts";
import type { TwoPhaseCommitSink } from "../api/two-phase-sink.ts";
import type { ChangeRecord } from "./changelog.ts";

/** What a registered connector sees of a `CREATE TABLE`. */
export interface ConnectorTable {
  readonly name: string;
  /** The physical columns' names, in order. */
  readonly columns: readonly string[];
  readonly primaryKey?: readonly string[];
  /** The `WITH` options, `connector` included. */
  readonly options: Readonly<Record<string, string>>;
}

/** A registered SQL connector; errors it throws are shown at the table's `CREATE TABLE`. */
export interface SqlConnector {
  /** The table's changelog (`+I`, `-U`, `+U`, `-D`), rows keyed by column name. */
  source?(table: ConnectorTable): Source<ChangeRecord>;
  /** A sink of the table's changelog; the engine keys its input by the table's primary key. */
  sink?(table: ConnectorTable): TwoPhaseCommitSink<ChangeRecord, unknown>;
}

const connectors = new Map<string, SqlConnector>();

/**
 * Registers `connector` under `name` (a second registration of a name replaces the
 * first: a module loaded twice registers twice).
 *
 * @example
 * ```ts
 * registerSqlConnector("my-db", { sink: (t) => myDbSink(t.options.url, t.primaryKey) });
 * ```
 */
export function registerSqlConnector(name: string, connector: SqlConnector): void {
  connectors.set(name, connector);
}

/** The connector registered under `name`, if any. */
export function registeredConnector(name: string | undefined): SqlConnector | undefined {
  return name === undefined ? undefined : connectors.get(name);
}

/** The names registered, for messages. */
export function registeredNames(): string[] {
  return [...connectors.keys()].sort();
}
