/**
 * Operations on a CDC source's slot outside a job: how far it lags (the WAL the
 * server keeps for it), and dropping it with its publication once the job is gone.
 */
import pg from "pg";
import { postgresError } from "./errors.ts";
import { dropSlot } from "./setup.ts";

/** A slot as the server sees it. */
export interface CdcSlotStatus {
  /** The LSN the slot is confirmed at (riffle confirms a completed checkpoint's). */
  readonly confirmedLsn: string;
  /** Bytes of WAL between the server's current position and the confirmed one. */
  readonly lagBytes: number;
  /** True while a stream reads from it. */
  readonly active: boolean;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (e) {
    throw postgresError("postgres-cdc: connecting", e);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The slot's confirmed LSN and lag, or `undefined` when there is no such slot. */
export function cdcSlotStatus(url: string, slot: string): Promise<CdcSlotStatus | undefined> {
  return withClient(url, async (c) => {
    const r = await c.query(
      `SELECT confirmed_flush_lsn::text AS lsn, active,
              pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag
         FROM pg_replication_slots WHERE slot_name = $1`,
      [slot],
    );
    const row = r.rows[0] as { lsn: string; active: boolean; lag: number } | undefined;
    return row && { confirmedLsn: row.lsn, lagBytes: row.lag, active: row.active };
  });
}

/**
 * Drops the slot and its publication (default `<slot>_pub`), so the server stops
 * keeping WAL for it. A job that reads from it again starts over with a snapshot.
 */
export function dropCdcSlot(url: string, slot: string, publication = `${slot}_pub`): Promise<void> {
  return withClient(url, (c) => dropSlot(c, slot, publication));
}
