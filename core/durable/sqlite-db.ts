/**
 * A state directory: one SQLite database (`<dir>/riffle.db`, `node:sqlite`) that
 * holds a job's changelog, keyed state and checkpoint bookkeeping. It runs in WAL
 * mode with `synchronous=NORMAL`: every committed write survives the process being
 * killed at any point (a power loss may lose the last commits).
 *
 * Opening never changes a file it does not recognize: an existing database is
 * first checked through a read-only connection, and only a riffle state dir of the
 * same job (or an empty database, when creating) is opened for writing.
 */

import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import { describeCause, RiffleError } from "../errors.ts";
import { CHECKPOINT_STORE_SCHEMA, SqliteCheckpointStore } from "./sqlite-checkpoint-store.ts";
import { SqliteStateStore, STATE_STORE_SCHEMA, transaction } from "./sqlite-state-store.ts";
import { SqliteTableStore } from "./sqlite-table-store.ts";

/**
 * `node:sqlite`, loaded on first use: importing it prints an ExperimentalWarning, which
 * programs that import riffle but never open a state dir should not see.
 */
function sqlite(): typeof import("node:sqlite") {
  return process.getBuiltinModule("node:sqlite");
}

/** Version of the database layout; bumped on every incompatible change. */
export const STATE_DIR_SCHEMA_VERSION = 1;
/** Name of the database file inside a state dir. */
export const STATE_DB_FILE = "riffle.db";

/** A state dir cannot be used: missing, not a riffle state dir, another job's, or unreadable. */
export class StateDirError extends RiffleError {
  /** The state dir. */
  readonly dir: string;
  constructor(dir: string, problem: string, options?: { cause?: unknown }) {
    super("state-dir", `state dir '${dir}' ${problem}`, options);
    this.dir = dir;
  }
}

/** An open state dir: the database and the two stores on it. */
export interface StateDir {
  readonly dir: string;
  readonly db: DatabaseSync;
  readonly stateStore: SqliteStateStore;
  readonly checkpointStore: SqliteCheckpointStore;
  /** The job's dynamic tables. */
  readonly tableStore: SqliteTableStore;
  /** Closes the database (idempotent). The stores must not be used afterwards. */
  close(): void;
}

/** Options of {@link openStateDir}. */
export interface OpenStateDirOptions {
  /** Create the directory and the database when missing. */
  readonly create: boolean;
  /** The job the state dir belongs to; opening another job's dir fails. */
  readonly job: string;
  /**
   * Open through a read-only connection (with `create: false`): nothing in the dir
   * is written, so it works on a read-only dir. The stores then only read.
   */
  readonly readOnly?: boolean;
}

/**
 * Opens (or with `create`, creates) the state dir `dir` of `job`. Throws
 * {@link StateDirError} when the dir is missing (without `create`), is not a riffle
 * state dir, or belongs to another job; in those cases nothing is written.
 */
export function openStateDir(dir: string, options: OpenStateDirOptions): StateDir {
  const file = join(dir, STATE_DB_FILE);
  if (!existsSync(dir)) {
    if (!options.create) throw new StateDirError(dir, "does not exist");
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new StateDirError(dir, `cannot be created: ${describeCause(e)}`, { cause: e });
    }
  } else if (!statSync(dir).isDirectory()) {
    throw new StateDirError(dir, "is not a directory");
  }

  if (existsSync(file)) {
    const found = inspect(dir, file);
    if (found === "empty") {
      if (!options.create) throw new StateDirError(dir, `is not a riffle state dir: ${STATE_DB_FILE} is empty`);
    } else {
      checkMeta(dir, found, options.job);
    }
  } else if (!options.create) {
    throw new StateDirError(dir, `is not a riffle state dir: it has no ${STATE_DB_FILE}`);
  } else {
    refuseForeignFiles(dir);
  }

  const readOnly = options.readOnly === true && !options.create;
  let db: DatabaseSync;
  try {
    db = readOnly ? openReadOnly(file) : new (sqlite().DatabaseSync)(file, { timeout: 5000 });
  } catch (e) {
    throw new StateDirError(dir, `cannot be opened: ${describeCause(e)}`, { cause: e });
  }
  try {
    if (!readOnly) initialize(db, options.job);
    checkMeta(dir, readMeta(db), options.job);
  } catch (e) {
    db.close();
    throw e instanceof StateDirError
      ? e
      : new StateDirError(dir, `cannot be opened: ${describeCause(e)}`, { cause: e });
  }

  const stateStore = new SqliteStateStore(db);
  const checkpointStore = new SqliteCheckpointStore(db);
  const tableStore = new SqliteTableStore(db);
  return {
    dir,
    db,
    stateStore,
    checkpointStore,
    tableStore,
    close() {
      if (db.isOpen) db.close();
    },
  };
}

/**
 * Files riffle itself keeps in a state dir (besides the database): the CLI's progress
 * marker, dead letters, run lock and savepoint requests, and SQLite's side files.
 */
const OWN_FILES = new Set([
  "output.json",
  "dlq.jsonl",
  "run.lock",
  "requests",
  `${STATE_DB_FILE}-wal`,
  `${STATE_DB_FILE}-shm`,
]);

/**
 * Refuses to make a state dir of a directory that holds anything else (a mistyped
 * path to a project folder): riffle would write its files among the user's.
 */
function refuseForeignFiles(dir: string): void {
  const foreign = readdirSync(dir).filter((f) => !OWN_FILES.has(f));
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 3).join(", ") + (foreign.length > 3 ? `, … (${foreign.length} in all)` : "");
  throw new StateDirError(
    dir,
    `is not a riffle state dir: it has no ${STATE_DB_FILE} but holds other files (${shown}); give a new or empty dir`,
  );
}

/** WAL mode, and the schema if the database is new (a concurrent creator may have won). */
function initialize(db: DatabaseSync, job: string): void {
  db.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  transaction(db, "IMMEDIATE", () => {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()) {
      db.exec(`CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
        ${STATE_STORE_SCHEMA}
        ${CHECKPOINT_STORE_SCHEMA}`);
      const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
      put.run("schema", String(STATE_DIR_SCHEMA_VERSION));
      put.run("job", job);
    }
  });
}

/**
 * The job the state dir `dir` belongs to, read without changing anything. Throws
 * {@link StateDirError} when `dir` is missing or is not a riffle state dir.
 */
export function stateDirJob(dir: string): string {
  if (!existsSync(dir)) throw new StateDirError(dir, "does not exist");
  if (!statSync(dir).isDirectory()) throw new StateDirError(dir, "is not a directory");
  const file = join(dir, STATE_DB_FILE);
  if (!existsSync(file)) throw new StateDirError(dir, `is not a riffle state dir: it has no ${STATE_DB_FILE}`);
  const found = inspect(dir, file);
  if (found === "empty") throw new StateDirError(dir, `is not a riffle state dir: ${STATE_DB_FILE} is empty`);
  checkMeta(dir, found, found.job ?? "");
  return found.job as string;
}

interface Meta {
  readonly schema: string | undefined;
  readonly job: string | undefined;
}

/** Reads an existing database through a read-only connection: its meta, or "empty". */
function inspect(dir: string, file: string): Meta | "empty" {
  let db: DatabaseSync | undefined;
  try {
    db = openReadOnly(file);
    const objects = db.prepare("SELECT COUNT(*) AS c FROM sqlite_master").get()?.c as number;
    if (objects === 0) return "empty";
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()) {
      throw new StateDirError(dir, `is not a riffle state dir: ${STATE_DB_FILE} has no riffle schema`);
    }
    return readMeta(db);
  } catch (e) {
    if (e instanceof StateDirError) throw e;
    throw new StateDirError(dir, `is not a riffle state dir: ${describeCause(e)}`, { cause: e });
  } finally {
    db?.close();
  }
}

/**
 * A read-only connection to `file`. Without a write-ahead log next to it (a cleanly
 * closed or a non-WAL database) it is opened as immutable, so that not even the WAL
 * index files get created.
 */
function openReadOnly(file: string): DatabaseSync {
  let location: string | URL = file;
  if (!existsSync(`${file}-wal`)) {
    location = pathToFileURL(file);
    location.searchParams.set("immutable", "1");
  }
  return new (sqlite().DatabaseSync)(location, { readOnly: true, timeout: 5000 });
}

function readMeta(db: DatabaseSync): Meta {
  const meta = new Map<string, string>();
  for (const row of db.prepare("SELECT key, value FROM meta").all()) meta.set(String(row.key), String(row.value));
  return { schema: meta.get("schema"), job: meta.get("job") };
}

function checkMeta(dir: string, meta: Meta, job: string): void {
  if (meta.schema === undefined || meta.job === undefined) {
    throw new StateDirError(dir, `is not a riffle state dir: ${STATE_DB_FILE} has no schema version or job`);
  }
  if (meta.schema !== String(STATE_DIR_SCHEMA_VERSION)) {
    throw new StateDirError(
      dir,
      `has schema version ${meta.schema}; this riffle reads version ${STATE_DIR_SCHEMA_VERSION}`,
    );
  }
  if (meta.job !== job) throw new StateDirError(dir, `belongs to job '${meta.job}', not '${job}'`);
}
