/**
 * The CDC source's reader against a real Postgres: the changelog it produces
 * (snapshot, then +I/-U/+U/-D, a primary-key update as -D/+I), the slot confirmed
 * only at the position of a completed checkpoint (its lag visible, the slot dropped
 * on request), and a one-line error naming the
 * fix for each setup mistake.
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CdcPosition, ChangeRecord } from "../../../connectors/postgres/index.ts";
import {
  cdcSlotStatus,
  dropCdcSlot,
  PostgresConnectorError,
  PostgresSetupError,
  postgresCdc,
} from "../../../connectors/postgres/index.ts";
import { lsnValue } from "../../../connectors/postgres/lsn.ts";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";

let server: PostgresServer;
let db: pg.Client;
beforeAll(async () => {
  server = await startPostgres();
  db = await server.connect();
}, 60_000);
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

const context = { job: "t", currentProcessingTime: () => Date.now() };

function reader(table: string, slot: string, position?: unknown, url = server.url) {
  const source = postgresCdc({ url, table, slot, chunkSize: 2 });
  return source.reader(source.splits(1)[0] as { id: string }, position, context);
}

/** Reads until `n` records came (or 5 s passed); the records and the last position. */
async function readN(r: ReturnType<typeof reader>, n: number) {
  const records: ChangeRecord[] = [];
  let position: unknown;
  const deadline = Date.now() + 5_000;
  while (records.length < n && Date.now() < deadline) {
    const chunk = await r.read(100);
    records.push(...chunk.records);
    position = chunk.position;
    if (chunk.records.length === 0) await new Promise((res) => setTimeout(res, 20));
  }
  return { records, position: position as CdcPosition };
}

const slotLsn = async (slot: string) =>
  (await db.query("SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1", [slot]))
    .rows[0]?.l as string;

describe("postgresCdc", () => {
  it("snapshots in chunks, then streams +I, -U/+U, -D, and a key update as -D/+I", async () => {
    await db.query("CREATE TABLE kinds (id int PRIMARY KEY, v text)");
    await db.query("ALTER TABLE kinds REPLICA IDENTITY FULL");
    await db.query("INSERT INTO kinds VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const r = reader("kinds", "kinds_slot");
    const snap = await readN(r, 3);
    expect(snap.records).toEqual([
      { kind: "+I", row: { id: 1, v: "a" } },
      { kind: "+I", row: { id: 2, v: "b" } },
      { kind: "+I", row: { id: 3, v: "c" } },
    ]);
    await db.query("INSERT INTO kinds VALUES (4, 'd')");
    await db.query("UPDATE kinds SET v = 'B' WHERE id = 2");
    await db.query("UPDATE kinds SET id = 30 WHERE id = 3");
    await db.query("DELETE FROM kinds WHERE id = 1");
    const { records, position } = await readN(r, 6);
    expect(records).toEqual([
      { kind: "+I", row: { id: 4, v: "d" } },
      { kind: "-U", row: { id: 2, v: "b" } },
      { kind: "+U", row: { id: 2, v: "B" } },
      { kind: "-D", row: { id: 3, v: "c" } },
      { kind: "+I", row: { id: 30, v: "c" } },
      { kind: "-D", row: { id: 1, v: "a" } },
    ]);
    expect(position.snapshotted).toBe(true);
    await r.close?.();
    // A reader at that position starts after it: nothing again.
    const again = reader("kinds", "kinds_slot", position);
    await db.query("INSERT INTO kinds VALUES (5, 'e')");
    expect((await readN(again, 1)).records).toEqual([{ kind: "+I", row: { id: 5, v: "e" } }]);
    await again.close?.();
  });

  it("streams on while a transaction left open holds the snapshot back, and snapshots once it ends", async () => {
    await db.query("CREATE TABLE held (id int PRIMARY KEY, v text)");
    await db.query("INSERT INTO held VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const r = reader("held", "held_slot");
    expect((await readN(r, 2)).records.map((c) => c.row.id)).toEqual([1, 2]); // the first chunk
    const open = await server.connect();
    await open.query("BEGIN");
    await open.query("INSERT INTO held VALUES (4, 'd')"); // left open: the next chunk's fence cannot pass
    await db.query("UPDATE held SET v = 'A' WHERE id = 1");
    const during = await readN(r, 1);
    expect(during.records).toEqual([{ kind: "+U", row: { id: 1, v: "A" } }]);
    expect(during.position.key).toEqual([2]);
    await open.query("COMMIT");
    await open.end();
    const after: ChangeRecord[] = [];
    for (let i = 0; i < 100; i++) {
      const chunk = await r.read(100);
      after.push(...chunk.records);
      if ((chunk.position as CdcPosition).snapshotted) break;
    }
    // The committed insert streams, and the snapshot goes on with the rows after key 2.
    expect(after).toContainEqual({ kind: "+I", row: { id: 4, v: "d" } });
    expect(after).toContainEqual({ kind: "+I", row: { id: 3, v: "c" } });
    expect(after.every((c) => c.kind === "+I")).toBe(true);
    await r.close?.();
  });

  it("confirms the slot only at the position of a completed checkpoint", async () => {
    await db.query("CREATE TABLE confirm (id int PRIMARY KEY)");
    const r = reader("confirm", "confirm_slot");
    await r.read(10); // creates the slot
    const created = await slotLsn("confirm_slot");
    await db.query("INSERT INTO confirm VALUES (1)");
    const first = await readN(r, 1);
    r.snapshotState?.(1, first.position);
    await db.query("INSERT INTO confirm VALUES (2)");
    const second = await readN(r, 1);
    r.snapshotState?.(2, second.position);
    await new Promise((res) => setTimeout(res, 300));
    expect(await slotLsn("confirm_slot"), "read but not checkpointed").toBe(created);
    r.notifyCheckpointComplete?.(1);
    const deadline = Date.now() + 5_000;
    while ((await slotLsn("confirm_slot")) === created && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    expect(lsnValue(await slotLsn("confirm_slot"))).toBe(lsnValue(first.position.lsn as string));
    // The lag is the WAL since the confirmed LSN: the second insert at least.
    const status = await cdcSlotStatus(server.url, "confirm_slot");
    expect(status?.active).toBe(true);
    expect(status?.lagBytes).toBeGreaterThan(0);
    await r.close?.();
    await dropCdcSlot(server.url, "confirm_slot");
    expect(await cdcSlotStatus(server.url, "confirm_slot")).toBeUndefined();
    const pubs = await db.query("SELECT 1 FROM pg_publication WHERE pubname = 'confirm_slot_pub'");
    expect(pubs.rowCount).toBe(0);
  });

  it("names the fix when the table has no primary key, the role lacks REPLICATION, or the database is wrong", async () => {
    await db.query("CREATE TABLE nokey (v text)");
    await expect(reader("nokey", "nokey_slot").read(10)).rejects.toThrow(
      /table 'nokey' has no primary key.*ADD PRIMARY KEY/,
    );
    await db.query("CREATE TABLE guarded (id int PRIMARY KEY)");
    await db.query("CREATE ROLE plain LOGIN");
    await db.query("GRANT SELECT ON guarded TO plain");
    await db.query("CREATE PUBLICATION guarded_slot_pub FOR TABLE guarded");
    const denied = reader("guarded", "guarded_slot", undefined, server.url.replace("postgres@", "plain@"));
    const error = await Promise.resolve(denied.read(10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresSetupError);
    expect(String((error as Error).message)).toMatch(/permission denied.*REPLICATION/);
    expect((error as Error).message).not.toContain("\n");
    const wrongDb = reader("guarded", "x_slot", undefined, server.url.replace(/\/postgres$/, "/nope"));
    await expect(wrongDb.read(10)).rejects.toThrow(/database "nope" does not exist; check the connection string/);
    const down = reader("guarded", "x_slot", undefined, "postgres://postgres@127.0.0.1:1/postgres");
    await expect(down.read(10)).rejects.toBeInstanceOf(PostgresConnectorError);
  });

  it("names the fix when wal_level is not logical", async () => {
    const replica = await startPostgres({ wal_level: "replica", max_wal_senders: "0", max_replication_slots: "0" });
    try {
      const c = await replica.connect();
      await c.query("CREATE TABLE t (id int PRIMARY KEY)");
      await c.end();
      await expect(reader("t", "t_slot", undefined, replica.url).read(10)).rejects.toThrow(
        /wal_level is 'replica', CDC needs 'logical': set wal_level = logical in postgresql.conf and restart/,
      );
    } finally {
      await replica.stop();
    }
  });
});
