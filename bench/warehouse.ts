/**
 * `npm run bench -- warehouse`: reads of dynamic tables. A snapshot of `rows` keyed rows
 * (written at checkpoint 1, a tenth updated at checkpoint 2) is kept by each table store:
 * in memory and SQLite (embedded), DynamoDB Local (the emulators). Measured per store:
 * point lookups through `readTable` (p50/p99 ms), and an aggregate over the snapshot
 * through `riffle query`'s path (rows scanned per second, read + bounded SQL job). The
 * same aggregate over the same snapshot in DuckDB (in memory, loaded once) is beside it,
 * and its answer must equal riffle's.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { openStateDir } from "../core/durable/sqlite-db.ts";
import { InMemoryTableStore } from "../core/memory/in-memory-table-store.ts";
import type { TableSpec, TableStore } from "../core/ports/table-store.ts";
import { keyOf } from "../core/tables/fold.ts";
import { readTable } from "../core/tables/read-table.ts";
import { dynamoClient, ensureTables, tableNames } from "../functions/aws/dynamo-client.ts";
import { DynamoTableStore } from "../functions/aws/dynamo-table-store.ts";
import type { BenchEmulators } from "./emulators.ts";
import { quantile } from "./stats.ts";

const JOB = "warehouse";
const SPEC: TableSpec = { name: "sales", columns: "id BIGINT, region VARCHAR, total BIGINT", primaryKey: ["id"] };
const QUERY = "SELECT region, COUNT(*) AS n, SUM(total) AS total FROM sales GROUP BY region";
const REGIONS = ["north", "south", "east", "west", "centre"];

/** One store's figures. */
export interface WarehouseStoreFigure {
  readonly store: string;
  readonly lookups: number;
  readonly lookupMsP50: number;
  readonly lookupMsP99: number;
  readonly queryMs: number;
  readonly rowsScannedPerSecond: number;
}

/** The part's figures. */
export interface WarehouseFigure {
  readonly note: string;
  readonly rows: number;
  readonly stores: WarehouseStoreFigure[];
  readonly duckdb: { readonly loadMs: number; readonly queryMs: number; readonly rowsScannedPerSecond: number };
}

const row = (id: number, version: number) => ({
  id,
  region: REGIONS[id % REGIONS.length],
  total: (id * 7 + version) % 1000,
});

async function fill(store: TableStore, rows: number): Promise<void> {
  for (let from = 0; from < rows; from += 1000) {
    const ids = Array.from({ length: Math.min(1000, rows - from) }, (_, i) => from + i);
    await store.write(
      JOB,
      SPEC.name,
      1,
      ids.map((id) => ({ key: keyOf(["id"], row(id, 1)), row: row(id, 1) })),
    );
  }
  const updated = Array.from({ length: Math.floor(rows / 10) }, (_, i) => i * 10);
  await store.write(
    JOB,
    SPEC.name,
    2,
    updated.map((id) => ({ key: keyOf(["id"], row(id, 2)), row: row(id, 2) })),
  );
  for (const checkpoint of [1, 2]) await store.seal(JOB, { checkpoint, time: checkpoint, tables: [SPEC] });
}

const sorted = (rows: readonly Record<string, unknown>[]) =>
  JSON.stringify([...rows].sort((a, b) => String(a.region).localeCompare(String(b.region))));

async function measureStore(name: string, store: TableStore, rows: number, lookups: number) {
  await fill(store, rows);
  const ctx = { job: JOB, store };
  const ms: number[] = [];
  for (let i = 0; i < lookups; i++) {
    const id = (i * 7919) % rows;
    const t = performance.now();
    const a = await readTable(ctx, { kind: "lookup", table: SPEC.name, key: [String(id)] });
    ms.push(performance.now() - t);
    if (a.kind !== "lookup" || a.row?.id !== id) throw new Error(`${name}: lookup of ${id} found ${JSON.stringify(a)}`);
  }
  const runs: number[] = [];
  let answer: Record<string, unknown>[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const q = await readTable(ctx, { kind: "query", sql: QUERY });
    runs.push(performance.now() - t);
    if (q.kind !== "query" || q.scanned !== rows) throw new Error(`${name}: the query scanned ${JSON.stringify(q)}`);
    answer = q.rows as Record<string, unknown>[];
  }
  const queryMs = quantile(runs, 0.5);
  const figure: WarehouseStoreFigure = {
    store: name,
    lookups,
    lookupMsP50: quantile(ms, 0.5),
    lookupMsP99: quantile(ms, 0.99),
    queryMs,
    rowsScannedPerSecond: Math.round(rows / (queryMs / 1000)),
  };
  return { figure, answer };
}

async function duckdb(rows: number): Promise<{ figure: WarehouseFigure["duckdb"]; answer: Record<string, unknown>[] }> {
  const dir = mkdtempSync(join(tmpdir(), "riffle-warehouse-"));
  const file = join(dir, "sales.jsonl");
  const snapshot = Array.from({ length: rows }, (_, id) =>
    row(id, id % 10 === 0 && id / 10 < Math.floor(rows / 10) ? 2 : 1),
  );
  writeFileSync(file, snapshot.map((r) => JSON.stringify(r)).join("\n"));
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    let t = performance.now();
    await conn.run(`CREATE TABLE sales AS SELECT * FROM read_json('${file}', format = 'newline_delimited')`);
    const loadMs = performance.now() - t;
    const runs: number[] = [];
    let answer: Record<string, unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      const reader = await conn.runAndReadAll(QUERY);
      runs.push(performance.now() - t);
      answer = reader
        .getRowObjectsJS()
        .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])));
    }
    const queryMs = quantile(runs, 0.5);
    return {
      figure: { loadMs: Number(loadMs.toFixed(1)), queryMs, rowsScannedPerSecond: Math.round(rows / (queryMs / 1000)) },
      answer,
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures every store (DynamoDB Local with `emulators`), and DuckDB over the same snapshot. */
export async function measureWarehouse(o: {
  rows: number;
  lookups: number;
  emulators?: BenchEmulators;
  log: (line: string) => void;
}): Promise<WarehouseFigure> {
  const stores: WarehouseStoreFigure[] = [];
  const answers: [string, Record<string, unknown>[]][] = [];
  const add = (r: { figure: WarehouseStoreFigure; answer: Record<string, unknown>[] }) => {
    stores.push(r.figure);
    answers.push([r.figure.store, r.answer]);
    o.log(
      `  ${r.figure.store}: lookup p50 ${r.figure.lookupMsP50} ms, p99 ${r.figure.lookupMsP99} ms; query ${r.figure.queryMs} ms`,
    );
  };
  add(await measureStore("embedded, in memory", new InMemoryTableStore(), o.rows, o.lookups));
  const dir = mkdtempSync(join(tmpdir(), "riffle-warehouse-"));
  const sd = openStateDir(join(dir, "state"), { create: true, job: JOB });
  try {
    add(await measureStore("embedded, state dir (SQLite)", sd.tableStore, o.rows, o.lookups));
  } finally {
    sd.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (o.emulators) {
    const client = dynamoClient(o.emulators.dynamo);
    const tables = tableNames(`wh${Date.now().toString(36)}`);
    await ensureTables(client, tables);
    try {
      add(await measureStore("aws-local, DynamoDB Local", new DynamoTableStore(client, tables), o.rows, o.lookups));
    } finally {
      client.destroy();
    }
  }
  const duck = await duckdb(o.rows);
  for (const [store, answer] of answers)
    if (sorted(answer) !== sorted(duck.answer))
      throw new Error(`${store} answered ${sorted(answer)}, DuckDB ${sorted(duck.answer)}`);
  return {
    note: "one table of `rows` rows (a tenth updated at a second checkpoint), read at the newest; lookup = readTable point lookup, one at a time; query = riffle query's path (read the snapshot, bounded SQL job on the embedded runtime), median of 3; DuckDB = the same aggregate over the same rows in an in-memory table (loaded once, load not counted), median of 3; both answers equal",
    rows: o.rows,
    stores,
    duckdb: duck.figure,
  };
}
