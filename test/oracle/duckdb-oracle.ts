/**
 * DuckDB oracle for the Nexmark queries: loads a Nexmark event stream into an in-memory DuckDB and
 * runs the query's reference SQL (test/oracle/<query>.sql) over three tables (views over one
 * `events` table):
 *
 * - person(id, name, emailAddress, creditCard, city, state, dateTime, extra, event_id)
 * - auction(id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra, event_id)
 * - bid(auction, bidder, price, channel, url, dateTime, extra, event_id)
 *
 * Events are flat objects with `"type": "person" | "auction" | "bid"` and the NEXMARK.md field names;
 * times are epoch milliseconds. `event_id` is the event's 0-based position in the stream (blank JSONL
 * lines are skipped and not counted); the SQL uses it to break ties.
 *
 * @example
 * const rows = await runOracle("q5", jsonlText);
 * expect(compareMultisets(riffleRows, rows)).toEqual([]);
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { foldChangelog } from "../../core/sql/changelog.ts";

/** One result row: column name to a JS value (numbers, strings, booleans or null). */
export type OracleRow = Record<string, unknown>;

/** An opened oracle: one loaded event stream that several queries can run against. */
export interface Oracle {
  /** Runs test/oracle/<query>.sql (e.g. "q5") and returns its rows. */
  run(query: string): Promise<OracleRow[]>;
  /** Runs arbitrary SQL over the loaded tables. */
  runSql(sql: string): Promise<OracleRow[]>;
  /** Number of events loaded per table. */
  readonly counts: { person: number; auction: number; bid: number };
  /** Frees the database. */
  close(): void;
}

const ORACLE_DIR = fileURLToPath(new URL(".", import.meta.url));

/** JSON type of every field of the three event kinds, plus the type tag and the stream position. */
const EVENT_COLUMNS: Record<string, string> = {
  event_id: "BIGINT",
  type: "VARCHAR",
  id: "BIGINT",
  name: "VARCHAR",
  emailAddress: "VARCHAR",
  creditCard: "VARCHAR",
  city: "VARCHAR",
  state: "VARCHAR",
  itemName: "VARCHAR",
  description: "VARCHAR",
  initialBid: "BIGINT",
  reserve: "BIGINT",
  expires: "BIGINT",
  seller: "BIGINT",
  category: "BIGINT",
  auction: "BIGINT",
  bidder: "BIGINT",
  price: "BIGINT",
  channel: "VARCHAR",
  url: "VARCHAR",
  dateTime: "BIGINT",
  extra: "VARCHAR",
};

const TABLE_COLUMNS = {
  person: ["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra", "event_id"],
  auction: [
    "id",
    "itemName",
    "description",
    "initialBid",
    "reserve",
    "dateTime",
    "expires",
    "seller",
    "category",
    "extra",
    "event_id",
  ],
  bid: ["auction", "bidder", "price", "channel", "url", "dateTime", "extra", "event_id"],
} as const;

/** Queries that have no oracle SQL, with the reason. */
const NO_ORACLE: Record<string, string> = {
  q12: "q12 uses processing-time windows, so its output is not deterministic and has no oracle",
};

/** Path of the reference SQL of a query, or an error naming why there is none. */
export function oracleSqlPath(query: string): string {
  const reason = NO_ORACLE[query];
  if (reason !== undefined) throw new Error(reason);
  if (!/^q\d+$/.test(query)) throw new Error(`not a Nexmark query name: ${JSON.stringify(query)}`);
  const path = join(ORACLE_DIR, `${query}.sql`);
  if (!existsSync(path)) throw new Error(`no oracle SQL for ${query} (expected ${path})`);
  return path;
}

/**
 * Loads `events` (JSONL text or objects) into a fresh in-memory DuckDB, runs the reference SQL of
 * `query` and returns its rows as plain objects (integers and decimals as JS numbers).
 */
export async function runOracle(query: string, eventsJsonl: string | readonly object[]): Promise<OracleRow[]> {
  const sqlPath = oracleSqlPath(query);
  const oracle = await openOracle(eventsJsonl);
  try {
    return await oracle.runSql(readFileSync(sqlPath, "utf8"));
  } finally {
    oracle.close();
  }
}

/** Loads `events` once, for running several queries over the same stream. */
export async function openOracle(events: string | readonly object[]): Promise<Oracle> {
  const dir = mkdtempSync(join(tmpdir(), "riffle-oracle-"));
  const file = join(dir, "events.jsonl");
  // event_id carries the stream order, so DuckDB may load in any order (about 3x faster).
  const instance = await DuckDBInstance.create(":memory:", { preserve_insertion_order: "false" });
  let connection: DuckDBConnection | undefined;
  try {
    const total = writeNumberedEvents(events, file);
    connection = await instance.connect();
    const counts = await loadTables(connection, file, total);
    const conn = connection;
    return {
      counts,
      run: async (query) => runSql(conn, readFileSync(oracleSqlPath(query), "utf8")),
      runSql: async (sql) => runSql(conn, sql),
      close: () => {
        conn.closeSync();
        instance.closeSync();
      },
    };
  } catch (error) {
    connection?.closeSync();
    instance.closeSync();
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the events as JSONL with `"event_id": <position>` prepended to each object; returns the count. */
function writeNumberedEvents(events: string | readonly object[], file: string): number {
  const fd = openSync(file, "w");
  let count = 0;
  let batch: string[] = [];
  const push = (json: string): void => {
    batch.push(json.length <= 2 ? `{"event_id":${count}}` : `{"event_id":${count},${json.slice(1)}`);
    count++;
    if (batch.length === 10_000) {
      writeSync(fd, `${batch.join("\n")}\n`);
      batch = [];
    }
  };
  try {
    if (typeof events === "string") {
      let start = 0;
      let lineNo = 0;
      while (start < events.length) {
        let end = events.indexOf("\n", start);
        if (end < 0) end = events.length;
        lineNo++;
        const line = events.slice(start, end).trim();
        start = end + 1;
        if (line === "") continue;
        if (!line.startsWith("{") || !line.endsWith("}")) {
          throw new Error(`line ${lineNo} of the events is not a JSON object: ${line.slice(0, 80)}`);
        }
        push(line);
      }
    } else {
      for (const event of events) push(JSON.stringify(event));
    }
    if (batch.length > 0) writeSync(fd, `${batch.join("\n")}\n`);
  } finally {
    closeSync(fd);
  }
  return count;
}

async function loadTables(
  conn: DuckDBConnection,
  file: string,
  total: number,
): Promise<{ person: number; auction: number; bid: number }> {
  const columns = Object.entries(EVENT_COLUMNS)
    .map(([name, type]) => `"${name}": '${type}'`)
    .join(", ");
  const path = file.replaceAll("'", "''");
  const source =
    total === 0
      ? `(SELECT ${Object.entries(EVENT_COLUMNS)
          .map(([name, type]) => `CAST(NULL AS ${type}) AS "${name}"`)
          .join(", ")} WHERE false)`
      : `read_json('${path}', format = 'newline_delimited', records = true, columns = {${columns}})`;
  await conn.run(`CREATE TABLE events AS SELECT * FROM ${source}`);
  // Views rather than copies: filtering by type per query is cheap, copying 1M rows is not.
  for (const [table, cols] of Object.entries(TABLE_COLUMNS)) {
    const list = cols.map((c) => `"${c}"`).join(", ");
    await conn.run(`CREATE VIEW ${table} AS SELECT ${list} FROM events WHERE type = '${table}'`);
  }
  const [row] = await runSql(
    conn,
    `SELECT count(*) AS total,
       count(*) FILTER (WHERE type = 'person') AS person,
       count(*) FILTER (WHERE type = 'auction') AS auction,
       count(*) FILTER (WHERE type = 'bid') AS bid
     FROM events`,
  );
  const counts = { person: Number(row?.person), auction: Number(row?.auction), bid: Number(row?.bid) };
  const known = counts.person + counts.auction + counts.bid;
  if (Number(row?.total) !== total || known !== total) {
    throw new Error(
      `loaded ${known} of ${total} events: every event needs "type" of "person", "auction" or "bid"` +
        ` (DuckDB read ${Number(row?.total)} rows)`,
    );
  }
  return counts;
}

async function runSql(conn: DuckDBConnection, sql: string): Promise<OracleRow[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => {
    const out: OracleRow = {};
    for (const [key, value] of Object.entries(row)) out[key] = toPlain(value, key);
    return out;
  });
}

/** DuckDB's JS values to plain ones: BIGINT/HUGEINT to numbers, timestamps to epoch milliseconds. */
function toPlain(value: unknown, column: string): unknown {
  if (typeof value === "bigint") {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error(`column ${column}: ${value} is not a safe JS integer`);
    return n;
  }
  if (value instanceof Date) return value.getTime();
  return value;
}

/**
 * Compares two row multisets and returns human-readable differences (empty when equal). Rows must
 * have exactly the same keys; strings, booleans and null compare exactly; two integers compare
 * exactly; any other pair of numbers compares within `relTol` (default 1e-9) relative to the larger
 * magnitude. Order does not matter; multiplicity does.
 */
export function compareMultisets(
  actual: readonly Record<string, unknown>[],
  expected: readonly Record<string, unknown>[],
  opts?: { relTol?: number },
): string[] {
  const relTol = opts?.relTol ?? 1e-9;
  const diffs: string[] = [];
  const actualKeys = keySets(actual);
  const expectedKeys = keySets(expected);
  for (const keys of actualKeys) {
    if (!expectedKeys.has(keys)) diffs.push(`actual rows have keys [${keys}], which no expected row has`);
  }
  for (const keys of expectedKeys) {
    if (!actualKeys.has(keys)) diffs.push(`expected rows have keys [${keys}], which no actual row has`);
  }

  // Pass 1: exact matches by canonical form.
  const pending = new Map<string, { row: Record<string, unknown>; count: number }>();
  for (const row of expected) {
    const key = canonical(row);
    const entry = pending.get(key);
    if (entry) entry.count++;
    else pending.set(key, { row, count: 1 });
  }
  const unmatchedActual: Record<string, unknown>[] = [];
  for (const row of actual) {
    const entry = pending.get(canonical(row));
    if (entry && entry.count > 0) entry.count--;
    else unmatchedActual.push(row);
  }
  const unmatchedExpected: Record<string, unknown>[] = [];
  for (const { row, count } of pending.values()) for (let i = 0; i < count; i++) unmatchedExpected.push(row);

  // Pass 2: the rest within the numeric tolerance, grouped by keys and non-numeric values.
  const groups = new Map<string, { actual: Record<string, unknown>[]; expected: Record<string, unknown>[] }>();
  const groupOf = (row: Record<string, unknown>) => {
    const sig = signature(row);
    let group = groups.get(sig);
    if (!group) {
      group = { actual: [], expected: [] };
      groups.set(sig, group);
    }
    return group;
  };
  for (const row of unmatchedActual) groupOf(row).actual.push(row);
  for (const row of unmatchedExpected) groupOf(row).expected.push(row);
  const extra: Record<string, unknown>[] = [];
  const missing: Record<string, unknown>[] = [];
  for (const group of groups.values()) {
    if (group.actual.length * group.expected.length <= 4_000_000) {
      const left = [...group.expected];
      for (const row of group.actual) {
        const at = left.findIndex((candidate) => rowsClose(row, candidate, relTol));
        if (at >= 0) left.splice(at, 1);
        else extra.push(row);
      }
      missing.push(...left);
    } else {
      // Too many leftovers for all pairs: merge the two lists sorted by their numbers.
      const a = [...group.actual].sort(compareNumbers);
      const e = [...group.expected].sort(compareNumbers);
      let i = 0;
      let j = 0;
      while (i < a.length && j < e.length) {
        const x = a[i] as Record<string, unknown>;
        const y = e[j] as Record<string, unknown>;
        if (rowsClose(x, y, relTol)) {
          i++;
          j++;
        } else if (compareNumbers(x, y) < 0) {
          extra.push(x);
          i++;
        } else {
          missing.push(y);
          j++;
        }
      }
      extra.push(...a.slice(i));
      missing.push(...e.slice(j));
    }
  }

  if (missing.length > 0 || extra.length > 0) {
    diffs.push(
      `${actual.length} actual rows vs ${expected.length} expected: ` +
        `${missing.length} expected rows missing, ${extra.length} unexpected rows`,
    );
  }
  const limit = 20;
  for (const row of missing.slice(0, limit)) diffs.push(`missing: ${formatRow(row)}`);
  if (missing.length > limit) diffs.push(`... and ${missing.length - limit} more missing rows`);
  for (const row of extra.slice(0, limit)) diffs.push(`unexpected: ${formatRow(row)}`);
  if (extra.length > limit) diffs.push(`... and ${extra.length - limit} more unexpected rows`);
  return diffs;
}

function keySets(rows: readonly Record<string, unknown>[]): Set<string> {
  const sets = new Set<string>();
  for (const row of rows) sets.add(Object.keys(row).sort().join(", "));
  return sets;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

function canonical(row: Record<string, unknown>): string {
  return Object.keys(row)
    .sort()
    .map((key) => {
      const value = row[key];
      const n = numeric(value);
      return `${JSON.stringify(key)}:${n !== undefined ? `n${n}` : valueText(value)}`;
    })
    .join(",");
}

function signature(row: Record<string, unknown>): string {
  return Object.keys(row)
    .sort()
    .map((key) => {
      const value = row[key];
      return `${JSON.stringify(key)}:${numeric(value) !== undefined ? "n" : valueText(value)}`;
    })
    .join(",");
}

function valueText(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `s${JSON.stringify(value)}`;
  return `v${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`;
}

/** Orders rows of one group (same keys) by their numeric values, keys in sorted order. */
function compareNumbers(a: Record<string, unknown>, b: Record<string, unknown>): number {
  for (const key of Object.keys(a).sort()) {
    const x = numeric(a[key]);
    const y = numeric(b[key]);
    if (x === undefined || y === undefined || x === y) continue;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Same keys and non-numeric values are given (same group); compares the numbers. */
function rowsClose(a: Record<string, unknown>, b: Record<string, unknown>, relTol: number): boolean {
  for (const key of Object.keys(a)) {
    const x = numeric(a[key]);
    const y = numeric(b[key]);
    if (x === undefined || y === undefined) continue;
    if (!numbersClose(x, y, relTol)) return false;
  }
  return true;
}

function numbersClose(x: number, y: number, relTol: number): boolean {
  if (x === y) return true;
  if (Number.isNaN(x) && Number.isNaN(y)) return true;
  if (Number.isInteger(x) && Number.isInteger(y)) return false;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= relTol * Math.max(Math.abs(x), Math.abs(y));
}

function formatRow(row: Record<string, unknown>): string {
  const parts = Object.keys(row).map((key) => {
    const value = row[key];
    let text: string;
    if (typeof value === "number") text = String(value);
    else if (typeof value === "bigint") text = `${value}n`;
    else if (value === undefined) text = "undefined";
    else text = JSON.stringify(value);
    return `${key}: ${text}`;
  });
  return `{ ${parts.join(", ")} }`;
}

/** Rows with their values named by position (`c0`, `c1`, …): riffle's and DuckDB's column names may differ. */
export const positional = (rows: readonly Record<string, unknown>[]): Record<string, unknown>[] =>
  rows.map((r) => Object.fromEntries(Object.values(r).map((v, i) => [`c${i}`, v])));

/** {@link compareMultisets} of sink `out`'s folded changelog and `expected`, column by position. */
export const positionalDiff = (out: ReadonlyMap<string, readonly unknown[]>, expected: Record<string, unknown>[]) =>
  compareMultisets(positional(foldChangelog(out.get("out") ?? [])), positional(expected));
