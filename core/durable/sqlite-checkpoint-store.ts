/**
 * SQLite implementation of the {@link CheckpointStore} port (`node:sqlite`, one
 * database per state directory; see `openStateDir`). Same semantics as
 * `InMemoryCheckpointStore`. Records are stored as JSON; a savepoint's keyed state
 * is stored one row per value, so savepoints of millions of values work.
 */

import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import type {
  CheckpointAck,
  CheckpointManifest,
  CheckpointStore,
  FinishedAck,
  JobRecord,
  Savepoint,
  SavepointInfo,
} from "../ports/checkpoint-store.ts";
import type { StateChange } from "../ports/state-store.ts";
import { transaction } from "./sqlite-state-store.ts";

/** DDL of the tables this store uses (run by `openStateDir` when it creates a state dir). */
export const CHECKPOINT_STORE_SCHEMA = `
CREATE TABLE jobs (
  job TEXT NOT NULL PRIMARY KEY, generation INTEGER NOT NULL, next_checkpoint INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE manifests (
  job TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (job, id)
);
CREATE TABLE acks (
  job TEXT NOT NULL, checkpoint INTEGER NOT NULL, task TEXT NOT NULL, part INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (job, checkpoint, task, part)
);
CREATE TABLE finished (
  job TEXT NOT NULL, generation INTEGER NOT NULL, task TEXT NOT NULL, part INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (job, generation, task, part)
);
CREATE TABLE savepoints (
  id INTEGER PRIMARY KEY, job TEXT NOT NULL, name TEXT NOT NULL,
  info TEXT NOT NULL, sources TEXT NOT NULL, tasks TEXT NOT NULL,
  UNIQUE (job, name)
);
CREATE TABLE savepoint_state (
  savepoint INTEGER NOT NULL, task TEXT NOT NULL,
  s TEXT NOT NULL, k TEXT NOT NULL, g INTEGER NOT NULL, v TEXT, d INTEGER NOT NULL
);
CREATE INDEX savepoint_state_by_savepoint ON savepoint_state (savepoint);
`;

type Row = Record<string, SQLOutputValue>;

/** The checkpoint store of a state directory. */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly db: DatabaseSync;
  private readonly q: ReturnType<typeof prepare>;

  /** `db` must carry {@link CHECKPOINT_STORE_SCHEMA}. */
  constructor(db: DatabaseSync) {
    this.db = db;
    this.q = prepare(db);
  }

  async loadJob(job: string): Promise<JobRecord | undefined> {
    return parsed<JobRecord>(this.q.job.get(job));
  }

  async saveJob(
    record: JobRecord,
    expected: { generation: number; nextCheckpoint: number } | undefined,
  ): Promise<boolean> {
    return transaction(this.db, "IMMEDIATE", () => {
      const cur = this.q.jobVersion.get(record.job);
      const matches =
        expected === undefined
          ? cur === undefined
          : cur !== undefined &&
            cur.generation === expected.generation &&
            cur.next_checkpoint === expected.nextCheckpoint;
      if (!matches) return false;
      this.q.putJob.run(record.job, record.generation, record.nextCheckpoint, JSON.stringify(record));
      return true;
    });
  }

  async putManifest(manifest: CheckpointManifest): Promise<void> {
    this.q.putManifest.run(manifest.job, manifest.id, JSON.stringify(manifest));
  }

  async getManifest(job: string, id: number): Promise<CheckpointManifest | undefined> {
    return parsed<CheckpointManifest>(this.q.manifest.get(job, id));
  }

  async listManifests(job: string): Promise<CheckpointManifest[]> {
    return this.q.manifests.all(job).map((r) => JSON.parse(r.body as string) as CheckpointManifest);
  }

  async ack(job: string, ack: CheckpointAck): Promise<void> {
    this.q.putAck.run(job, ack.checkpoint, ack.task, ack.partition, JSON.stringify(ack));
  }

  async acks(job: string, id: number): Promise<CheckpointAck[]> {
    return this.q.acks.all(job, id).map((r) => JSON.parse(r.body as string) as CheckpointAck);
  }

  async finished(job: string, ack: FinishedAck): Promise<void> {
    this.q.putFinished.run(job, ack.generation, ack.task, ack.partition, JSON.stringify(ack));
  }

  async finishedPartitions(job: string, generation: number): Promise<FinishedAck[]> {
    return this.q.finished.all(job, generation).map((r) => JSON.parse(r.body as string) as FinishedAck);
  }

  async putSavepoint(savepoint: Savepoint): Promise<boolean> {
    const { sources, state, ...info } = savepoint;
    return transaction(this.db, "IMMEDIATE", () => {
      if (this.q.savepointId.get(savepoint.job, savepoint.name)) return false;
      const tasks = Object.keys(state);
      const { lastInsertRowid } = this.q.putSavepoint.run(
        savepoint.job,
        savepoint.name,
        JSON.stringify(info),
        JSON.stringify(sources),
        JSON.stringify(tasks),
      );
      for (const task of tasks) {
        for (const c of state[task] ?? []) {
          const v = c.d || c.v === undefined ? null : JSON.stringify(c.v);
          this.q.putSavepointValue.run(lastInsertRowid, task, c.s, c.k, c.g, v, c.d ? 1 : 0);
        }
      }
      return true;
    });
  }

  async getSavepoint(job: string, name: string): Promise<Savepoint | undefined> {
    return transaction(this.db, "DEFERRED", () => {
      const row = this.q.savepoint.get(job, name);
      if (!row) return undefined;
      const state: Record<string, StateChange[]> = {};
      for (const task of JSON.parse(row.tasks as string) as string[]) state[task] = [];
      for (const r of this.q.savepointValues.iterate(row.id as number)) {
        const base = { s: r.s as string, k: r.k as string, g: r.g as number };
        const change: StateChange = r.d
          ? { ...base, d: true }
          : r.v === null
            ? base
            : { ...base, v: JSON.parse(r.v as string) };
        let list = state[r.task as string];
        if (!list) {
          list = [];
          state[r.task as string] = list;
        }
        list.push(change);
      }
      const info = JSON.parse(row.info as string) as SavepointInfo;
      return { ...info, sources: JSON.parse(row.sources as string), state } as Savepoint;
    });
  }

  async listSavepoints(job: string): Promise<SavepointInfo[]> {
    return this.q.savepointInfos
      .all(job)
      .map((r) => JSON.parse(r.info as string) as SavepointInfo)
      .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }

  async deleteSavepoint(job: string, name: string): Promise<boolean> {
    return transaction(this.db, "IMMEDIATE", () => {
      const row = this.q.savepointId.get(job, name);
      if (!row) return false;
      this.q.deleteSavepointValues.run(row.id as number);
      this.q.deleteSavepoint.run(row.id as number);
      return true;
    });
  }
}

function parsed<T>(row: Row | undefined): T | undefined {
  return row ? (JSON.parse(row.body as string) as T) : undefined;
}

function prepare(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    job: p("SELECT body FROM jobs WHERE job = ?"),
    jobVersion: p("SELECT generation, next_checkpoint FROM jobs WHERE job = ?"),
    putJob: p(
      "INSERT INTO jobs (job, generation, next_checkpoint, body) VALUES (?, ?, ?, ?) ON CONFLICT (job) DO UPDATE " +
        "SET generation = excluded.generation, next_checkpoint = excluded.next_checkpoint, body = excluded.body",
    ),
    putManifest: p(
      "INSERT INTO manifests (job, id, body) VALUES (?, ?, ?) ON CONFLICT (job, id) DO UPDATE SET body = excluded.body",
    ),
    manifest: p("SELECT body FROM manifests WHERE job = ? AND id = ?"),
    manifests: p("SELECT body FROM manifests WHERE job = ? ORDER BY id"),
    putAck: p("INSERT OR IGNORE INTO acks (job, checkpoint, task, part, body) VALUES (?, ?, ?, ?, ?)"),
    acks: p("SELECT body FROM acks WHERE job = ? AND checkpoint = ? ORDER BY rowid"),
    putFinished: p("INSERT OR IGNORE INTO finished (job, generation, task, part, body) VALUES (?, ?, ?, ?, ?)"),
    finished: p("SELECT body FROM finished WHERE job = ? AND generation = ? ORDER BY rowid"),
    savepointId: p("SELECT id FROM savepoints WHERE job = ? AND name = ?"),
    savepoint: p("SELECT id, info, sources, tasks FROM savepoints WHERE job = ? AND name = ?"),
    savepointInfos: p("SELECT info FROM savepoints WHERE job = ?"),
    putSavepoint: p("INSERT INTO savepoints (job, name, info, sources, tasks) VALUES (?, ?, ?, ?, ?)"),
    putSavepointValue: p("INSERT INTO savepoint_state (savepoint, task, s, k, g, v, d) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    savepointValues: p("SELECT task, s, k, g, v, d FROM savepoint_state WHERE savepoint = ? ORDER BY rowid"),
    deleteSavepointValues: p("DELETE FROM savepoint_state WHERE savepoint = ?"),
    deleteSavepoint: p("DELETE FROM savepoints WHERE id = ?"),
  };
}
