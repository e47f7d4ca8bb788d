/**
 * The {@link AuditLog} of a state dir, in its `riffle.db` (`riffle dev --state-dir`):
 * one row per access, appended in its own committed write (WAL, so it survives the
 * process being killed once `append` resolves). The table is created on first use;
 * an entry is stored as JSON text beside its time.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { AuditEntry, AuditLog } from "../ports/audit-log.ts";

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
