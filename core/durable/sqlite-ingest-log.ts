/**
 * The {@link IngestLog} of a state dir, in its `riffle.db`: what `riffle dev
 * --state-dir` accepted over HTTP survives the process, so a resumed job re-reads
 * its ingest sources from the positions in its last checkpoint. The table is created
 * on first use; values are stored as JSON text.
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { AppendedRange, IngestedRecord, IngestLog } from "../ports/ingest-log.ts";
import { transaction } from "./sqlite-state-store.ts";

const SCHEMA = `CREATE TABLE IF NOT EXISTS ingest_log (
  job TEXT NOT NULL, source TEXT NOT NULL, part INTEGER NOT NULL, seq INTEGER NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (job, source, part, seq)
) WITHOUT ROWID`;

/** The ingest log in a state dir's database. */
export class SqliteIngestLog implements IngestLog {
  private readonly db: DatabaseSync;
  private readonly headQuery: StatementSync;
  private readonly insert: StatementSync;
  private readonly range: StatementSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    db.exec(SCHEMA);
    this.headQuery = db.prepare(
      "SELECT COALESCE(MAX(seq), 0) AS head FROM ingest_log WHERE job = ? AND source = ? AND part = ?",
    );
    this.insert = db.prepare("INSERT INTO ingest_log (job, source, part, seq, value) VALUES (?, ?, ?, ?, ?)");
    this.range = db.prepare(
      "SELECT seq, value FROM ingest_log WHERE job = ? AND source = ? AND part = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
  }

  /** One transaction: the values get consecutive seqs after the partition's head, all or none. */
  async append(job: string, source: string, partition: number, values: readonly unknown[]): Promise<AppendedRange> {
    return transaction(this.db, "IMMEDIATE", () => {
      const head = this.headOf(job, source, partition);
      values.forEach((v, i) => {
        this.insert.run(job, source, partition, head + 1 + i, JSON.stringify(v) ?? "null");
      });
      return { first: head + 1, last: head + values.length };
    });
  }

  async read(job: string, source: string, partition: number, after: number, max: number): Promise<IngestedRecord[]> {
    if (max < 1) return [];
    const rows = this.range.all(job, source, partition, Math.max(0, Math.floor(after)), Math.floor(max));
    return rows.map((r) => ({ seq: Number(r.seq), value: JSON.parse(String(r.value)) as unknown }));
  }

  async head(job: string, source: string, partition: number): Promise<number> {
    return this.headOf(job, source, partition);
  }

  private headOf(job: string, source: string, partition: number): number {
    return Number(this.headQuery.get(job, source, partition)?.head ?? 0);
  }
}
