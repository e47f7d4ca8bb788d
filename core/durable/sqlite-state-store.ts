/**
 * SQLite implementation of the {@link StateStore} port (`node:sqlite`, one database
 * per state directory; see `openStateDir`). Same semantics as `InMemoryStateStore`.
 *
 * Layout:
 * - `segments`: one row per live (uncompacted) segment, the segment as JSON without
 *   its state changes (those live in `state_changes`, so they are stored once).
 * - `bases`: the compacted {@link PartitionBase} of a partition, as JSON.
 * - `state_changes`: one row per state change of a live segment. `seq` grows with
 *   every insert, so the newest change of a key is the one with the highest `seq`.
 * - `state_base`: keyed values folded in by compaction or written by `putState`.
 * - `fences`: per partition, the generation below which appends are refused (set by
 *   `truncate`). Created on open when missing, so state dirs written before it work.
 *
 * A key's committed value is its newest live change, else its base value. Values are
 * stored as JSON text: what JSON cannot represent (`undefined` inside arrays,
 * `NaN`/`±Infinity`, `-0`, `Date`, `Map`…) does not round-trip.
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { PartitionNotEmptyError, SegmentConflictError, SegmentFencedError } from "../errors.ts";
import { compactionBound, foldBase } from "../log/compaction.ts";
import type { PartitionBase, Segment, StateChange, StateRef, StateStore } from "../ports/state-store.ts";

/** DDL of the generation fences (idempotent: also run on every open, for older state dirs). */
const FENCES_SCHEMA = `
CREATE TABLE IF NOT EXISTS fences (
  task TEXT NOT NULL, part INTEGER NOT NULL, generation INTEGER NOT NULL,
  PRIMARY KEY (task, part)
);
`;

/** DDL of the tables this store uses (run by `openStateDir` when it creates a state dir). */
export const STATE_STORE_SCHEMA = `
CREATE TABLE segments (
  task TEXT NOT NULL, part INTEGER NOT NULL, n INTEGER NOT NULL,
  sent INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (task, part, n)
);
CREATE TABLE bases (
  task TEXT NOT NULL, part INTEGER NOT NULL, through INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (task, part)
);
CREATE TABLE state_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  task TEXT NOT NULL, part INTEGER NOT NULL, n INTEGER NOT NULL,
  s TEXT NOT NULL, k TEXT NOT NULL, g INTEGER NOT NULL, v TEXT, d INTEGER NOT NULL
);
CREATE INDEX state_changes_key ON state_changes (task, s, k, seq);
CREATE INDEX state_changes_seg ON state_changes (task, part, n);
CREATE TABLE state_base (
  task TEXT NOT NULL, s TEXT NOT NULL, k TEXT NOT NULL, g INTEGER NOT NULL, v TEXT,
  PRIMARY KEY (task, s, k)
);
CREATE INDEX state_base_kg ON state_base (task, s, g);
${FENCES_SCHEMA}`;

/** A change row as read back. */
interface ChangeRow {
  readonly s: string;
  readonly k: string;
  readonly g: number;
  /** JSON text, `null` for a deletion (or a change without a value). */
  readonly v: string | null;
  readonly d: number;
}

/** The state store of a state directory. */
export class SqliteStateStore implements StateStore {
  /** Segments appended, for accounting. */
  appends = 0;
  /** JSON bytes appended (segment bodies, keys and values), for accounting. */
  bytesWritten = 0;
  private readonly db: DatabaseSync;
  private readonly q: ReturnType<typeof prepare>;

  /** `db` must carry {@link STATE_STORE_SCHEMA}. */
  constructor(db: DatabaseSync) {
    this.db = db;
    db.exec(FENCES_SCHEMA);
    this.q = prepare(db);
  }

  async append(task: string, partition: number, segment: Segment): Promise<number> {
    const { changes, ...rest } = segment;
    const body = JSON.stringify(rest);
    let bytes = Buffer.byteLength(body);
    transaction(this.db, "IMMEDIATE", () => {
      const fence = (this.q.fence.get(task, partition)?.generation as number | undefined) ?? 0;
      if (segment.gen < fence) throw new SegmentFencedError(task, partition, segment.n, segment.gen, fence);
      if (segment.n !== this.lastSegment(task, partition) + 1) {
        throw new SegmentConflictError(task, partition, segment.n);
      }
      this.q.insertSegment.run(task, partition, segment.n, segment.sentThrough, body);
      for (const c of changes) {
        const v = c.d || c.v === undefined ? null : JSON.stringify(c.v);
        this.q.insertChange.run(task, partition, segment.n, c.s, c.k, c.g, v, c.d ? 1 : 0);
        bytes += Buffer.byteLength(c.s) + Buffer.byteLength(c.k) + (v === null ? 0 : Buffer.byteLength(v));
      }
    });
    this.appends++;
    this.bytesWritten += bytes;
    return bytes;
  }

  async readSegments(task: string, partition: number, after: number): Promise<Segment[]> {
    return transaction(this.db, "DEFERRED", () => {
      const byN = new Map<number, StateChange[]>();
      for (const row of this.q.changesAfter.iterate(task, partition, after)) {
        const n = row.n as number;
        let list = byN.get(n);
        if (!list) {
          list = [];
          byN.set(n, list);
        }
        list.push(toChange(row as unknown as ChangeRow));
      }
      return this.q.segmentsAfter
        .all(task, partition, after)
        .map((row) => ({ ...(JSON.parse(row.body as string) as Segment), changes: byN.get(row.n as number) ?? [] }));
    });
  }

  async readBase(task: string, partition: number): Promise<PartitionBase | undefined> {
    const row = this.q.base.get(task, partition);
    return row ? (JSON.parse(row.body as string) as PartitionBase) : undefined;
  }

  async compact(task: string, partition: number, through: number): Promise<number> {
    return transaction(this.db, "IMMEDIATE", () => {
      const baseRow = this.q.base.get(task, partition);
      const base = baseRow ? (JSON.parse(baseRow.body as string) as PartitionBase) : undefined;
      const from = base?.through ?? 0;
      const stats = this.q.segmentStats.get(task, partition);
      const extent = {
        from,
        last: (stats?.last as number | null) ?? from,
        proven: Math.max(base?.sentThrough ?? 0, (stats?.sent as number | null) ?? 0),
      };
      const upTo = compactionBound(extent, through);
      if (upTo <= from) return from;
      const newBase = foldBase(
        base,
        this.q.segmentsUpTo
          .all(task, partition, upTo)
          .map((row) => ({ ...(JSON.parse(row.body as string) as Segment), changes: [] })),
        upTo,
      );

      // Fold the changes into the base values: the newest change of each key wins.
      const folded = new Map<string, Map<string, ChangeRow>>();
      for (const row of this.q.changesUpTo.iterate(task, partition, upTo)) {
        const c = row as unknown as ChangeRow;
        let byKey = folded.get(c.s);
        if (!byKey) {
          byKey = new Map();
          folded.set(c.s, byKey);
        }
        byKey.set(c.k, c);
      }
      for (const [s, byKey] of folded) {
        for (const [k, c] of byKey) {
          if (c.d) this.q.deleteBaseValue.run(task, s, k);
          else this.q.upsertBaseValue.run(task, s, k, c.g, c.v);
        }
      }
      this.q.deleteChangesUpTo.run(task, partition, upTo);
      this.q.deleteSegmentsUpTo.run(task, partition, upTo);
      this.q.upsertBase.run(task, partition, newBase.through, JSON.stringify(newBase));
      return upTo;
    });
  }

  async truncate(task: string, partition: number, through: number, generation: number): Promise<void> {
    transaction(this.db, "IMMEDIATE", () => {
      const from = (this.q.baseThrough.get(task, partition)?.through as number | undefined) ?? 0;
      if (through < from) {
        throw new Error(`cannot restore ${task}[${partition}] to segment ${through}: compacted through ${from}`);
      }
      this.q.deleteChangesAfter.run(task, partition, through);
      this.q.deleteSegmentsAfter.run(task, partition, through);
      this.q.raiseFence.run(task, partition, generation);
    });
  }

  async getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    return transaction(this.db, "DEFERRED", () =>
      refs.map((r) => {
        const change = this.q.latestChange.get(task, r.s, r.k);
        if (change) return change.d ? undefined : decode(change.v as string | null);
        const base = this.q.baseValue.get(task, r.s, r.k);
        return base ? decode(base.v as string | null) : undefined;
      }),
    );
  }

  async scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    return transaction(this.db, "DEFERRED", () => {
      const values = new Map<string, { g: number; v: string | null }>();
      for (const row of this.q.scanBase.iterate(task, s, kgStart, kgEnd)) {
        values.set(row.k as string, { g: row.g as number, v: row.v as string | null });
      }
      for (const row of this.q.scanChanges.iterate(task, s)) {
        const k = row.k as string;
        if (row.d) values.delete(k);
        else values.set(k, { g: row.g as number, v: row.v as string | null });
      }
      const out: [string, unknown][] = [];
      for (const [k, e] of values) if (e.g >= kgStart && e.g <= kgEnd) out.push([k, decode(e.v)]);
      return out;
    });
  }

  async exportState(
    task: string,
    partition: number,
    through: number,
    kgStart: number,
    kgEnd: number,
  ): Promise<StateChange[]> {
    return transaction(this.db, "DEFERRED", () => {
      const values = new Map<string, Map<string, { g: number; v: string | null }>>();
      const put = (s: string, k: string, g: number, v: string | null) => {
        let byKey = values.get(s);
        if (!byKey) {
          byKey = new Map();
          values.set(s, byKey);
        }
        byKey.set(k, { g, v });
      };
      for (const row of this.q.exportBase.iterate(task, kgStart, kgEnd)) {
        put(row.s as string, row.k as string, row.g as number, row.v as string | null);
      }
      for (const row of this.q.changesUpTo.iterate(task, partition, through)) {
        const c = row as unknown as ChangeRow;
        if (c.d) values.get(c.s)?.delete(c.k);
        else put(c.s, c.k, c.g, c.v);
      }
      const out: StateChange[] = [];
      for (const [s, byKey] of values) {
        for (const [k, e] of byKey) if (e.g >= kgStart && e.g <= kgEnd) out.push({ s, k, g: e.g, v: decode(e.v) });
      }
      return out;
    });
  }

  async resetTask(task: string): Promise<void> {
    transaction(this.db, "IMMEDIATE", () => {
      this.q.resetSegments.run(task);
      this.q.resetBases.run(task);
      this.q.resetChanges.run(task);
      this.q.resetBaseValues.run(task);
      this.q.resetFences.run(task);
    });
  }

  async dropLogs(task: string): Promise<void> {
    transaction(this.db, "IMMEDIATE", () => {
      this.q.resetSegments.run(task);
      this.q.resetBases.run(task);
      this.q.resetChanges.run(task);
      this.q.resetFences.run(task);
    });
  }

  async putBase(task: string, partition: number, base: PartitionBase): Promise<void> {
    transaction(this.db, "IMMEDIATE", () => {
      const last = this.q.lastSegment.get(task, partition)?.n as number | null | undefined;
      if (this.q.base.get(task, partition) || (last != null && last > base.through)) {
        throw new PartitionNotEmptyError(task, partition);
      }
      // A zombie's, below the base.
      this.q.deleteChangesUpTo.run(task, partition, base.through);
      this.q.deleteSegmentsUpTo.run(task, partition, base.through);
      this.q.upsertBase.run(task, partition, base.through, JSON.stringify(base));
    });
  }

  async putState(task: string, values: readonly StateChange[]): Promise<void> {
    transaction(this.db, "IMMEDIATE", () => {
      for (const c of values) {
        if (c.d) this.q.deleteBaseValue.run(task, c.s, c.k);
        else this.q.upsertBaseValue.run(task, c.s, c.k, c.g, c.v === undefined ? null : JSON.stringify(c.v));
      }
    });
  }

  /** Number of the last segment of `task[partition]` (compacted ones included; 0: none). */
  private lastSegment(task: string, partition: number): number {
    const n = this.q.lastSegment.get(task, partition)?.n as number | null | undefined;
    if (n != null) return n;
    return (this.q.baseThrough.get(task, partition)?.through as number | undefined) ?? 0;
  }
}

function prepare(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    lastSegment: p("SELECT MAX(n) AS n FROM segments WHERE task = ? AND part = ?"),
    segmentStats: p("SELECT MAX(n) AS last, MAX(sent) AS sent FROM segments WHERE task = ? AND part = ?"),
    insertSegment: p("INSERT INTO segments (task, part, n, sent, body) VALUES (?, ?, ?, ?, ?)"),
    insertChange: p("INSERT INTO state_changes (task, part, n, s, k, g, v, d) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    segmentsAfter: p("SELECT n, body FROM segments WHERE task = ? AND part = ? AND n > ? ORDER BY n"),
    segmentsUpTo: p("SELECT n, body FROM segments WHERE task = ? AND part = ? AND n <= ? ORDER BY n"),
    changesAfter: p("SELECT n, s, k, g, v, d FROM state_changes WHERE task = ? AND part = ? AND n > ? ORDER BY n, seq"),
    changesUpTo: p("SELECT s, k, g, v, d FROM state_changes WHERE task = ? AND part = ? AND n <= ? ORDER BY n, seq"),
    deleteSegmentsUpTo: p("DELETE FROM segments WHERE task = ? AND part = ? AND n <= ?"),
    deleteChangesUpTo: p("DELETE FROM state_changes WHERE task = ? AND part = ? AND n <= ?"),
    deleteSegmentsAfter: p("DELETE FROM segments WHERE task = ? AND part = ? AND n > ?"),
    deleteChangesAfter: p("DELETE FROM state_changes WHERE task = ? AND part = ? AND n > ?"),
    base: p("SELECT body FROM bases WHERE task = ? AND part = ?"),
    baseThrough: p("SELECT through FROM bases WHERE task = ? AND part = ?"),
    upsertBase: p(
      "INSERT INTO bases (task, part, through, body) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (task, part) DO UPDATE SET through = excluded.through, body = excluded.body",
    ),
    upsertBaseValue: p(
      "INSERT INTO state_base (task, s, k, g, v) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (task, s, k) DO UPDATE SET g = excluded.g, v = excluded.v",
    ),
    deleteBaseValue: p("DELETE FROM state_base WHERE task = ? AND s = ? AND k = ?"),
    latestChange: p("SELECT v, d FROM state_changes WHERE task = ? AND s = ? AND k = ? ORDER BY seq DESC LIMIT 1"),
    baseValue: p("SELECT v FROM state_base WHERE task = ? AND s = ? AND k = ?"),
    scanBase: p("SELECT k, g, v FROM state_base WHERE task = ? AND s = ? AND g BETWEEN ? AND ?"),
    scanChanges: p("SELECT k, g, v, d FROM state_changes WHERE task = ? AND s = ? ORDER BY seq"),
    exportBase: p("SELECT s, k, g, v FROM state_base WHERE task = ? AND g BETWEEN ? AND ?"),
    resetSegments: p("DELETE FROM segments WHERE task = ?"),
    resetBases: p("DELETE FROM bases WHERE task = ?"),
    resetChanges: p("DELETE FROM state_changes WHERE task = ?"),
    resetBaseValues: p("DELETE FROM state_base WHERE task = ?"),
    resetFences: p("DELETE FROM fences WHERE task = ?"),
    fence: p("SELECT generation FROM fences WHERE task = ? AND part = ?"),
    raiseFence: p(
      "INSERT INTO fences (task, part, generation) VALUES (?, ?, ?) " +
        "ON CONFLICT (task, part) DO UPDATE SET generation = MAX(generation, excluded.generation)",
    ),
  };
}

function decode(v: string | null): unknown {
  return v === null ? undefined : JSON.parse(v);
}

function toChange(c: ChangeRow): StateChange {
  if (c.d) return { s: c.s, k: c.k, g: c.g, d: true };
  return c.v === null ? { s: c.s, k: c.k, g: c.g } : { s: c.s, k: c.k, g: c.g, v: JSON.parse(c.v) };
}

/**
 * Runs `fn` in one transaction: `IMMEDIATE` takes the write lock up front (waiting up
 * to the busy timeout), `DEFERRED` gives reads one consistent snapshot.
 */
export function transaction<T>(db: DatabaseSync, mode: "IMMEDIATE" | "DEFERRED", fn: () => T): T {
  db.exec(`BEGIN ${mode}`);
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (e) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw e;
  }
}
