/**
 * The {@link AuditLog} of a state dir, in its `riffle.db` (`riffle dev --state-dir`):
 * one row per access, appended in its own committed write (WAL, so it survives the
 * process being killed once `append` resolves). The table is created on first use;
 * an entry is stored as JSON text beside its time.
 */

import { join } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { AuditEntry, AuditLog } from "../ports/audit-log.ts";
import { STATE_DB_FILE } from "./sqlite-db.ts";

const SCHEMA = `CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, entry TEXT NOT NULL
)`;

/** The audit log in a state dir's database. */
export class SqliteAuditLog implements AuditLog {
  private readonly insert: StatementSync;
  private readonly all: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(SCHEMA);
    this.insert = db.prepare("INSERT INTO audit_log (time, entry) VALUES (?, ?)");
    this.all = db.prepare("SELECT entry FROM audit_log ORDER BY time, id");
  }

  async append(entry: AuditEntry): Promise<void> {
    this.insert.run(entry.time, JSON.stringify(entry));
  }

  async read(): Promise<AuditEntry[]> {
    return this.all.all().map((r) => JSON.parse(String(r.entry)) as AuditEntry);
  }
}

/**
 * The audit log of state dir `dir` on a connection of its own, for a reader that opens
 * the dir read-only (`riffle query --as`) while `riffle run` or `riffle dev` may hold it
 * (WAL: the append waits for their write, up to 5 s).
 */
export function openStateDirAuditLog(dir: string): { readonly log: AuditLog; readonly close: () => void } {
  const db = new (process.getBuiltinModule("node:sqlite").DatabaseSync)(join(dir, STATE_DB_FILE), { timeout: 5000 });
  return { log: new SqliteAuditLog(db), close: () => db.close() };
}
