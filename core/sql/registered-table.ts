/**
 * Tables of registered connectors (`connector-registry.ts`) in a plan: the source as
 * a changelog of rows, and the sink keyed by the table's primary key.
 */
import type { DataStream } from "../api/datastream.ts";
import type { Source, SplitReader } from "../api/source.ts";
import type { TwoPhaseCommitSink } from "../api/two-phase-sink.ts";
import { changeOf, keyOf } from "../tables/fold.ts";
import type { Change } from "./aggregate.ts";
import type { ChangeRecord } from "./changelog.ts";
import { type ConnectorTable, registeredConnector, type SqlConnector } from "./connector-registry.ts";
import { invalid } from "./errors.ts";
import type { TableDef } from "./logical.ts";

/** The connector of `table` when a package registered it. */
export function connectorFor(table: TableDef): SqlConnector | undefined {
  return registeredConnector(table.options.connector ?? table.options["connector.type"]);
}

function view(table: TableDef): ConnectorTable {
  return {
    name: table.name,
    columns: table.physical.map((f) => f.name),
    options: table.options,
    ...(table.primaryKey ? { primaryKey: table.primaryKey } : {}),
  };
}

/** Calls a connector's factory; what it throws becomes an error at the table's `CREATE TABLE`. */
function build<T>(table: TableDef, make: () => T): T {
  try {
    return make();
  } catch (e) {
    throw invalid(table.pos, `table '${table.name}': ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The changelog source of a registered connector's table: `{kind, row}` with rows of its physical columns. */
export function registeredSource(table: TableDef, connector: SqlConnector): Source<Change> {
  const make = connector.source;
  if (!make) throw invalid(table.pos, `connector '${table.options.connector}' cannot be read (table '${table.name}')`);
  const inner = build(table, () => make(view(table)));
  const names = table.physical.map((f) => f.name);
  const toChange = (c: ChangeRecord): Change => ({ kind: c.kind, row: names.map((n) => c.row[n] ?? null) });
  return {
    ...inner,
    reader: (split, position, context): SplitReader<Change> => {
      const r = inner.reader(split, position, context);
      return {
        async read(max) {
          const chunk = await r.read(max);
          return { ...chunk, records: chunk.records.map(toChange) };
        },
        ...(r.close ? { close: () => r.close?.() } : {}),
        ...(r.snapshotState ? { snapshotState: (n: number, p: unknown) => r.snapshotState?.(n, p) } : {}),
        ...(r.notifyCheckpointComplete
          ? { notifyCheckpointComplete: (n: number) => r.notifyCheckpointComplete?.(n) }
          : {}),
      };
    },
  };
}

/** The registered connector's sink of `table`, or an error naming what is missing. */
export function registeredSink(table: TableDef, connector: SqlConnector): TwoPhaseCommitSink<ChangeRecord, unknown> {
  const make = connector.sink;
  if (!make)
    throw invalid(table.pos, `connector '${table.options.connector}' cannot be written (table '${table.name}')`);
  if (!table.primaryKey)
    throw invalid(table.pos, `table '${table.name}' needs PRIMARY KEY (…) NOT ENFORCED: its sink upserts by key`);
  return build(table, () => make(view(table)));
}

/** Writes `out` (row objects or `{kind, row}` changes) into the registered sink, keyed by the primary key. */
export function writeRegisteredSink(
  table: TableDef,
  connector: SqlConnector,
  out: DataStream<unknown>,
  uid: () => string,
): void {
  const sink = registeredSink(table, connector);
  const pk = table.primaryKey ?? [];
  out
    .map((r) => changeOf(r) as ChangeRecord)
    .uid(uid())
    .keyBy((c) => keyOf(pk, c.row))
    .addSink(sink)
    .uid(uid());
}
