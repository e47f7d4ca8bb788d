/**
 * A random write workload on a Postgres table `(id int primary key, grp int, v text,
 * n int)`: inserts, updates, deletes and updates of the primary key, one writer,
 * some statements grouped in a transaction. Its connection has a low `lock_timeout`,
 * so any wait on a lock (a lock taken by the CDC source) fails a statement and is
 * counted.
 */
import type pg from "pg";
import { seededRandom } from "../../../core/ml/random.ts";

/** What the workload did. */
export interface WorkloadStats {
  inserts: number;
  updates: number;
  deletes: number;
  keyUpdates: number;
  /** Statements that failed because they waited on a lock longer than `lock_timeout`. */
  lockWaits: number;
  /** Any other error (none is expected). */
  errors: string[];
}

/** A running workload; `stop()` waits for its last transaction. */
export interface Workload {
  readonly stats: WorkloadStats;
  stop(): Promise<void>;
}

/** Fills `table` with ids 1..rows. */
export async function seed(client: pg.Client, table: string, rows: number): Promise<void> {
  await client.query(`INSERT INTO ${table} SELECT g, g % 7, 'v' || g, g FROM generate_series(1, $1::int) g`, [rows]);
}

/** Starts the workload on `client` (which it owns until stopped) over ids 1..`rows`. */
export async function startWorkload(
  client: pg.Client,
  table: string,
  rows: number,
  seedValue: number,
): Promise<Workload> {
  const rng = seededRandom(seedValue);
  const ids: number[] = Array.from({ length: rows }, (_, i) => i + 1);
  let next = rows + 1;
  const stats: WorkloadStats = { inserts: 0, updates: 0, deletes: 0, keyUpdates: 0, lockWaits: 0, errors: [] };
  await client.query("SET lock_timeout = '20ms'");
  const pick = () => Math.floor(rng() * ids.length);
  const one = async (): Promise<void> => {
    const r = rng();
    if (r < 0.3 || ids.length === 0) {
      const id = next++;
      await client.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4)`, [id, id % 7, `i${id}`, 0]);
      ids.push(id);
      stats.inserts++;
    } else if (r < 0.7) {
      const id = ids[pick()] as number;
      await client.query(`UPDATE ${table} SET v = $2, n = n + 1 WHERE id = $1`, [id, `u${Math.floor(rng() * 1e6)}`]);
      stats.updates++;
    } else if (r < 0.85) {
      const at = pick();
      const id = ids[at] as number;
      await client.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
      ids.splice(at, 1);
      stats.deletes++;
    } else {
      const at = pick();
      const id = ids[at] as number;
      const to = next++;
      await client.query(`UPDATE ${table} SET id = $2 WHERE id = $1`, [id, to]);
      ids[at] = to;
      stats.keyUpdates++;
    }
  };
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const batch = rng() < 0.2 ? 1 + Math.floor(rng() * 5) : 1;
      try {
        if (batch > 1) await client.query("BEGIN");
        for (let i = 0; i < batch; i++) await one();
        if (batch > 1) await client.query("COMMIT");
      } catch (e) {
        if (batch > 1) await client.query("ROLLBACK").catch(() => {});
        if ((e as { code?: string }).code === "55P03") stats.lockWaits++;
        else stats.errors.push(String(e));
        // The ids this transaction touched may be off now: resync from the table.
        const rowsNow = await client.query(`SELECT id FROM ${table}`);
        ids.splice(0, ids.length, ...rowsNow.rows.map((x) => x.id as number));
      }
      await new Promise((res) => setTimeout(res, 1));
    }
  })();
  return {
    stats,
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}
