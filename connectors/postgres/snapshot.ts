/**
 * One chunk of the incremental snapshot (DBLog, as in Flink CDC 2.x): the rows
 * after a primary key, read between a low and a high watermark written into the
 * WAL as transactional logical decoding messages (a transaction of its own each,
 * committed with `synchronous_commit = on` so the stream sees it at once: PG 15
 * does not flush a non-transactional message). No lock is taken beyond the plain SELECT's
 * (ACCESS SHARE, which no INSERT, UPDATE or DELETE waits on).
 *
 * The reader reconciles: a key changed by a transaction that commits between the
 * watermarks is left out of the chunk (the change itself, in the stream, carries
 * the newer value), every other row of the chunk is what the table held at the
 * high watermark. That needs every transaction committed before the low watermark
 * to be visible to the SELECT; a commit record is in the WAL a moment before the
 * transaction leaves the running set, so after writing the low watermark the chunk
 * waits until the transactions running then have ended (the fence).
 */
import type pg from "pg";
import { query, type TableInfo } from "./setup.ts";

/** Prefix of the watermark messages (the content is `<chunk id>`). */
export const LOW_WATERMARK = "riffle.cdc.low";
export const HIGH_WATERMARK = "riffle.cdc.high";
/** Prefix of a message the reader writes to move the stream on when it waits for an end LSN. */
export const TICK = "riffle.cdc.tick";

/** A chunk read between its watermarks. */
export interface Chunk {
  readonly id: string;
  /** The rows, in primary-key order. */
  readonly rows: Record<string, unknown>[];
  /** True when the table has no rows after this chunk. */
  readonly last: boolean;
}

/** Commits a logical decoding message in a transaction of its own; its LSN. */
export async function emitMessage(client: pg.Client, prefix: string, content: string): Promise<string> {
  const r = await query(client, "writing a watermark", "SELECT pg_logical_emit_message(true, $1, $2) AS lsn", [
    prefix,
    content,
  ]);
  return r.rows[0]?.lsn as string;
}

/** How long a chunk waits for the transactions running at its low watermark. */
const FENCE_MS = 1_000;

/**
 * Waits until every transaction running now has ended (committed or aborted and out
 * of the running set); false if one is still running after {@link FENCE_MS}.
 */
async function fence(client: pg.Client): Promise<boolean> {
  const snap = (await query(client, "reading the running transactions", "SELECT pg_current_snapshot()::text AS s"))
    .rows[0]?.s as string;
  const deadline = Date.now() + FENCE_MS;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    const r = await query(
      client,
      "waiting for running transactions",
      `SELECT count(*)::int AS n FROM pg_snapshot_xip($1::pg_snapshot) AS x
        WHERE NOT pg_visible_in_snapshot(x, pg_current_snapshot())`,
      [snap],
    );
    if ((r.rows[0]?.n as number) === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((res) => setTimeout(res, wait));
  }
}

/**
 * Reads the chunk of up to `size` rows with a key after `after` (`null`: from the
 * start), between a low and a high watermark tagged `id`. `undefined` when a
 * transaction running at the low watermark stays open past the fence's wait (one
 * left idle in transaction): the caller streams on and tries again later, so an
 * open transaction delays the snapshot, never the stream or riffle's checkpoints.
 */
export async function readChunk(
  client: pg.Client,
  table: TableInfo,
  after: readonly unknown[] | null,
  size: number,
  id: string,
): Promise<Chunk | undefined> {
  await emitMessage(client, LOW_WATERMARK, id);
  if (!(await fence(client))) return undefined;
  const cols = table.key.map((k) => `"${k.replaceAll('"', '""')}"`);
  const tuple = `(${cols.join(", ")})`;
  const params = after ? after.map((_, i) => `$${i + 1}`) : [];
  const where = after ? `WHERE ${tuple} > (${params.join(", ")})` : "";
  const rows = (
    await query(
      client,
      `reading a snapshot chunk of '${table.name}'`,
      `SELECT * FROM ${table.sql} ${where} ORDER BY ${cols.join(", ")} LIMIT ${size}`,
      after ? [...after] : [],
    )
  ).rows as Record<string, unknown>[];
  await emitMessage(client, HIGH_WATERMARK, id);
  return { id, rows, last: rows.length < size };
}

/** The primary key of `row` as a list, in key order. */
export function keyOf(table: TableInfo, row: Record<string, unknown>): unknown[] {
  return table.key.map((k) => row[k]);
}

/** A canonical string of a key, for lookups. */
export function keyString(key: readonly unknown[]): string {
  return JSON.stringify(key);
}
