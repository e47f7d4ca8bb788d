/**
 * The {@link TableStore} port in a state dir's database: one row per version
 * (`table_versions`, keyed by job, table, key and checkpoint) and one per sealed
 * checkpoint (`table_seals`). Reads work through a read-only connection too, so
 * `riffle query` reads a state dir while `riffle run` writes it (WAL).
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { SealedCheckpoint, TableStore, TableVersion, TaggedVersion } from "../ports/table-store.ts";
import { droppable } from "../tables/fold.ts";
import { transaction } from "./sqlite-state-store.ts";

/** DDL of the tables this store uses (idempotent: run on every open that may write). */
export const TABLE_STORE_SCHEMA = `
CREATE TABLE IF NOT EXISTS table_versions (
  job TEXT NOT NULL, tbl TEXT NOT NULL, k TEXT NOT NULL, cp INTEGER NOT NULL, row TEXT,
  PRIMARY KEY (job, tbl, k, cp)
);
CREATE INDEX IF NOT EXISTS table_versions_cp ON table_versions (job, tbl, cp);
CREATE TABLE IF NOT EXISTS table_seals (
  job TEXT NOT NULL, cp INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (job, cp)
);
`;

interface VersionRow {
  readonly k: string;
  readonly cp: number;
  readonly row: string | null;
}

const tagged = (r: VersionRow): TaggedVersion => ({
  key: r.k,
  checkpoint: r.cp,
  row: r.row === null ? null : (JSON.parse(r.row) as Record<string, unknown>),
});

/** The table store of a state dir. */
export class SqliteTableStore implements TableStore {
  private readonly db: DatabaseSync;
  private prepared: ReturnType<typeof prepare> | undefined;

  /**
   * Creates the schema unless the connection is read-only: then a dir without it reads
   * as empty until a writer creates it.
   */
  constructor(db: DatabaseSync) {
    this.db = db;
    try {
      db.exec(TABLE_STORE_SCHEMA);
    } catch {
      // a read-only connection to a dir whose writer has not created the tables (yet)
    }
  }

  /** The statements, once the schema exists. */
  private get q(): ReturnType<typeof prepare> | undefined {
    if (
      !this.prepared &&
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'table_seals'").get()
    )
      this.prepared = prepare(this.db);
    return this.prepared;
  }

  async write(job: string, table: string, checkpoint: number, versions: readonly TableVersion[]): Promise<void> {
    const q = this.need();
    transaction(this.db, "IMMEDIATE", () => {
      for (const v of versions) q.put.run(job, table, v.key, checkpoint, v.row === null ? null : JSON.stringify(v.row));
    });
  }

  async seal(job: string, sealed: SealedCheckpoint): Promise<void> {
    this.need().seal.run(job, sealed.checkpoint, JSON.stringify(sealed));
  }

  async sealed(job: string): Promise<SealedCheckpoint[]> {
    return (this.q?.seals.all(job) ?? []).map((r) => JSON.parse(r.body as string) as SealedCheckpoint);
  }

  async get(job: string, table: string, key: string, at: number): Promise<TaggedVersion | undefined> {
    const r = this.q?.get.get(job, table, key, at) as VersionRow | undefined;
    return r ? tagged(r) : undefined;
  }

  async scan(job: string, table: string, at: number): Promise<TaggedVersion[]> {
    return ((this.q?.scan.all(job, table, at) ?? []) as unknown as VersionRow[]).map(tagged);
  }

  async changes(job: string, table: string, after: number, through: number): Promise<TaggedVersion[]> {
    return ((this.q?.changes.all(job, table, after, through) ?? []) as unknown as VersionRow[]).map(tagged);
  }

  async retain(job: string, keep: readonly number[]): Promise<void> {
    const q = this.need();
    transaction(this.db, "IMMEDIATE", () => {
      let list: TaggedVersion[] = [];
      let at: { tbl: string; k: string } | undefined;
      const flush = () => {
        if (at) for (const v of droppable(list, keep)) q.drop.run(job, at.tbl, v.key, v.checkpoint);
      };
      for (const r of q.all.all(job) as unknown as (VersionRow & { tbl: string })[]) {
        if (!at || at.tbl !== r.tbl || at.k !== r.k) {
          flush();
          at = { tbl: r.tbl, k: r.k };
          list = [];
        }
        list.push(tagged(r));
      }
      flush();
      for (const r of q.seals.all(job)) if (!keep.includes(r.cp as number)) q.unseal.run(job, r.cp as number);
    });
  }

  private need(): ReturnType<typeof prepare> {
    if (!this.q) throw new Error("the state dir was opened read-only and has no dynamic tables");
    return this.q;
  }
}

function prepare(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    put: p("INSERT OR REPLACE INTO table_versions (job, tbl, k, cp, row) VALUES (?, ?, ?, ?, ?)"),
    seal: p("INSERT OR IGNORE INTO table_seals (job, cp, body) VALUES (?, ?, ?)"),
    seals: p("SELECT cp, body FROM table_seals WHERE job = ? ORDER BY cp"),
    unseal: p("DELETE FROM table_seals WHERE job = ? AND cp = ?"),
    get: p(
      "SELECT k, cp, row FROM table_versions WHERE job = ? AND tbl = ? AND k = ? AND cp <= ? ORDER BY cp DESC LIMIT 1",
    ),
    scan: p(`SELECT v.k, v.cp, v.row FROM table_versions v
      JOIN (SELECT k, MAX(cp) AS cp FROM table_versions WHERE job = ?1 AND tbl = ?2 AND cp <= ?3 GROUP BY k) m
        ON v.k = m.k AND v.cp = m.cp
      WHERE v.job = ?1 AND v.tbl = ?2 ORDER BY v.k`),
    changes: p("SELECT k, cp, row FROM table_versions WHERE job = ? AND tbl = ? AND cp > ? AND cp <= ? ORDER BY cp, k"),
    all: p("SELECT tbl, k, cp, row FROM table_versions WHERE job = ? ORDER BY tbl, k, cp"),
    drop: p("DELETE FROM table_versions WHERE job = ? AND tbl = ? AND k = ? AND cp = ?"),
  };
}
