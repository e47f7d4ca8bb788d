/**
 * Connectors of `CREATE TABLE … WITH ('connector' = …)`: which tables can be read (`nexmark`, `datagen`,
 * `filesystem`, `ingest`, and registered ones such as `postgres-cdc`)
 * and written (`print`, `blackhole`, registered ones such as `postgres`), and the changelog each sink accepts.
 */
import type { Source, SplitReader } from "../api/source.ts";
import { type NexmarkEvent, nexmarkConfig } from "../nexmark/model.ts";
import { nexmarkSource } from "../nexmark/source.ts";
import type { Change } from "./aggregate.ts";
import { type ColumnReader, rowColumns } from "./codegen.ts";
import { datagenSource } from "./datagen.ts";
import { invalid, type Pos, unsupported } from "./errors.ts";
import type { Row } from "./expr.ts";
import { filesystemSink, filesystemSource } from "./filesystem.ts";
import { ingestTable } from "./ingest-table.ts";
import { type ChangelogMode, INSERT_ONLY, RETRACT, type TableDef } from "./logical.ts";
import { connectorFor, registeredSource } from "./registered-table.ts";
import { RIFFLE_CONNECTOR, riffleAccepts } from "./riffle-table.ts";

/** The connector name of a table (`'connector' = …`), or an error at its `CREATE TABLE`. */
export function connectorOf(table: TableDef): string {
  const c = table.options.connector ?? table.options["connector.type"];
  if (c === undefined) throw invalid(table.pos, `table '${table.name}' has no 'connector' option`);
  return c;
}

const NEXMARK_DEFAULTS: Record<string, string> = {
  "person.proportion": "1",
  "auction.proportion": "3",
  "bid.proportion": "46",
};
/** The `event_type` of each kind of Nexmark event. */
export const NEXMARK_KINDS = { person: 0, auction: 1, bid: 2 } as const;

/** The source of a table, producing rows of its physical columns (changes of them, for a registered connector). */
export function sourceOf(table: TableDef): Source<Row> | Source<Change> {
  const registered = connectorFor(table);
  if (registered) return registeredSource(table, registered);
  const connector = connectorOf(table);
  if (connector === "nexmark") return nexmarkTable(table);
  if (connector === "datagen") return datagenSource(table);
  if (connector === "filesystem") return filesystemSource(table);
  if (connector === "ingest") return ingestTable(table);
  throw unsupported(table.pos, `reading from connector '${connector}'`);
}

function option(table: TableDef, key: string, pos: Pos): number | undefined {
  const text = table.options[key];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || text.trim() === "")
    throw invalid(pos, `option '${key}' of table '${table.name}' must be a number, got '${text}'`);
  return n;
}

/**
 * riffle's deterministic Nexmark generator as Flink's `nexmark` table: columns `event_type`
 * (0 person, 1 auction, 2 bid) and the ROWs `person`, `auction`, `bid` (one set, the others NULL).
 * Options: `events.num` (unbounded without it), `first-event.rate` (events per second of event
 * time; `next-event.rate` must equal it), `seed` (riffle's, default 0); the proportions must keep
 * their defaults.
 */
function nexmarkTable(table: TableDef): Source<Row> {
  const names = table.physical.map((f) => f.name);
  const toRow = (e: NexmarkEvent): Row => {
    const row = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      row[i] = n === "event_type" ? NEXMARK_KINDS[e.type] : n === e.type ? e : null;
    }
    return row;
  };
  const inner = nexmarkEvents(table);
  return {
    name: "nexmark",
    bounded: inner.bounded,
    splits: (p) => inner.splits(p),
    reader: (split, position): SplitReader<Row> => {
      const r = inner.reader(split, position);
      return {
        async read(max) {
          const chunk = await r.read(max);
          return { ...chunk, records: chunk.records.map(toRow) };
        },
      };
    },
  };
}

/** The generator's events of a `nexmark` table, its options and columns checked. */
function nexmarkEvents(table: TableDef): Source<NexmarkEvent> {
  const pos = table.pos;
  for (const [k, v] of Object.entries(NEXMARK_DEFAULTS))
    if (table.options[k] !== undefined && table.options[k] !== v)
      throw unsupported(pos, `nexmark option '${k}' = '${table.options[k]}' (only ${v})`);
  const rate = option(table, "first-event.rate", pos);
  const next = option(table, "next-event.rate", pos);
  if (next !== undefined && next !== rate)
    throw unsupported(pos, "a nexmark 'next-event.rate' different from 'first-event.rate'");
  const events = option(table, "events.num", pos);
  const cfg = nexmarkConfig({
    seed: option(table, "seed", pos) ?? 0,
    ...(rate === undefined ? {} : { rate }),
    ...(events === undefined ? {} : { events }),
  });
  for (const f of table.physical)
    if (f.name !== "event_type" && !(f.name in NEXMARK_KINDS))
      throw invalid(pos, `the nexmark connector has no column '${f.name}' (it has event_type, person, auction, bid)`);
  return nexmarkSource(cfg);
}

/**
 * A table's source of its own records, with each physical column as JS source over one record
 * named `row` (codegen.ts's {@link ColumnReader}): a calc over the scan then reads the columns it
 * needs from the record, without a row array per record in between (the columns of `nexmark` are
 * read from the generator's event). Undefined for a connector that only gives rows or changes.
 */
export interface NativeScan {
  readonly source: Source<unknown>;
  readonly column: ColumnReader;
}

/** True when `table`'s connector has a {@link NativeScan} (a calc over its scan runs in its reader). */
export const hasNativeScan = (table: TableDef): boolean =>
  !connectorFor(table) && ["nexmark", "datagen"].includes(connectorOf(table));

/** The {@link NativeScan} of `table`, when its connector has one. */
export function nativeScanOf(table: TableDef): NativeScan | undefined {
  if (!hasNativeScan(table)) return undefined;
  const connector = connectorOf(table);
  if (connector === "datagen") return { source: datagenSource(table), column: rowColumns };
  if (connector !== "nexmark") return undefined;
  const source = nexmarkEvents(table);
  // Fixed text per column name (checked above to be one of NEXMARK_KINDS' or event_type).
  const kinds = Object.entries(NEXMARK_KINDS);
  const eventType = `(${kinds.map(([k, v]) => `row.type === ${JSON.stringify(k)} ? ${v} : `).join("")}undefined)`;
  const columns = table.physical.map((f) => {
    if (f.name === "event_type") return eventType;
    const kind = kinds.find(([k]) => k === f.name)?.[0] as string;
    return `(row.type === ${JSON.stringify(kind)} ? row : null)`;
  });
  return { source, column: (i) => columns[i] as string };
}

/**
 * The changelog a sink table accepts: `print` and `blackhole` take updates too (`'changelog-mode' =
 * 'insert-only'` refuses them); `filesystem` takes inserts only, as in Flink.
 */
export function sinkAccepts(table: TableDef): ChangelogMode {
  const connector = connectorOf(table);
  if (connector === "filesystem") {
    filesystemSink(table);
    return INSERT_ONLY;
  }
  if (connector === RIFFLE_CONNECTOR) return riffleAccepts(table);
  const registered = connectorFor(table);
  if (registered?.sink) {
    if (!table.primaryKey)
      throw invalid(table.pos, `table '${table.name}' needs PRIMARY KEY (…) NOT ENFORCED: its sink upserts by key`);
    return RETRACT;
  }
  if (connector !== "print" && connector !== "blackhole")
    throw unsupported(table.pos, `writing to connector '${connector}'`);
  const mode = table.options["changelog-mode"] ?? "all";
  if (mode !== "all" && mode !== "insert-only")
    throw invalid(table.pos, `'changelog-mode' must be 'all' or 'insert-only', got '${mode}'`);
  return mode === "insert-only" ? INSERT_ONLY : RETRACT;
}
