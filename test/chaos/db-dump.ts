/**
 * A fingerprint of a state dir that ignores how SQLite lays its bytes out (a
 * read-only open may fold the write-ahead log into the database on close): the
 * rows of every table of `riffle.db`, plus every other file.
 */

import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { fingerprint } from "./files.ts";

const DB = "riffle.db";

/** The rows of every table of the database at `file`, hashed; `absent` or `empty` when there is none. */
export function dumpDatabase(file: string): string {
  if (!existsSync(file)) return "absent";
  if (statSync(file).size === 0) return "empty";
  const sqlite = loadSqlite();
  const url = pathToFileURL(file);
  url.searchParams.set("mode", "ro");
  let db: InstanceType<typeof sqlite.DatabaseSync> | undefined;
  try {
    db = new sqlite.DatabaseSync(url, { readOnly: true, timeout: 5000 });
    const hash = createHash("sha256");
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    for (const t of tables) {
      const name = String(t.name);
      hash.update(`#${name}\n`);
      const rows = db.prepare(`SELECT * FROM "${name}"`).all().map(stable);
      for (const row of rows.sort()) hash.update(row);
    }
    return hash.digest("hex").slice(0, 16);
  } catch (e) {
    return `unreadable: ${(e as Error).message}`;
  } finally {
    db?.close();
  }
}

/** `node:sqlite` without its ExperimentalWarning on stderr. */
function loadSqlite(): typeof import("node:sqlite") {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return process.getBuiltinModule("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
}

function stable(row: Record<string, unknown>): string {
  return `${JSON.stringify(row, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : typeof v === "bigint" ? String(v) : v))}\n`;
}

/**
 * Fingerprint of a stopped job's files: the state dir's database by content, its
 * other files and `extra` files by bytes. The run lock and SQLite's side files are
 * left out.
 */
export function stateFingerprint(stateDir: string, extra: readonly string[]): Map<string, string> {
  const fp = fingerprint([stateDir, ...extra], (f) => f.startsWith(DB) || f === "run.lock");
  fp.set(join(stateDir, DB), dumpDatabase(join(stateDir, DB)));
  return fp;
}

/** The job record of the state dir's database (`undefined`: no database, no tables yet, or no job yet). */
export function jobRecord(stateDir: string): JobRecordView | undefined {
  const file = join(stateDir, DB);
  if (!existsSync(file) || statSync(file).size === 0) return undefined;
  const url = pathToFileURL(file);
  url.searchParams.set("mode", "ro");
  const db = new (loadSqlite().DatabaseSync)(url, { readOnly: true, timeout: 5000 });
  try {
    // A run killed while it started may leave a database without its tables yet.
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").get()) return undefined;
    const row = db.prepare("SELECT body FROM jobs LIMIT 1").get();
    return row ? (JSON.parse(String(row.body)) as JobRecordView) : undefined;
  } finally {
    db.close();
  }
}

/** What the driver reads of a job record. */
export interface JobRecordView {
  readonly generation: number;
  readonly parallelism: Readonly<Record<string, number>>;
  readonly restoredFrom?: { readonly savepoint: string; readonly generation: number };
}
