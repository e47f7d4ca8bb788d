/**
 * The Postgres database is the oracle: a random write workload runs on table `src`
 * while `riffle run --state-dir` snapshots it and streams its changes into table
 * `dst` through the exactly-once sink. The job is SIGKILLed once during the
 * snapshot and once while it streams, and resumed each time; the last run ends at
 * the WAL position after the workload stopped. Then `src EXCEPT dst` and
 * `dst EXCEPT src` are both empty, and the workload never waited on a lock.
 *
 * The source reads as a role with REPLICATION and SELECT only, whose reads of
 * `src` a row-level security policy slows (a short sleep per row): each chunk's
 * SELECT then spans many of the workload's commits, so a snapshot that did not
 * reconcile its chunks with the changes between the watermarks would leave stale
 * rows in `dst`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";
import { finish, killRun, runCdcJob, until } from "./run-job.ts";
import { seed, startWorkload } from "./workload.ts";

const ROWS = 20_000;
const COLUMNS = "id int PRIMARY KEY, grp int NOT NULL, v text NOT NULL, n int NOT NULL";

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

const count = async (table: string) => (await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const runJob = (state: string, env: Record<string, string> = {}) =>
  runCdcJob(state, server.url.replace("postgres@", "cdc@"), server.url, env);

describe("Postgres CDC into the exactly-once Postgres sink", () => {
  it("survives a SIGKILL in the snapshot and one while streaming: dst equals src, and no write waited on a lock", async () => {
    await db.query(`CREATE TABLE src (${COLUMNS})`);
    await db.query("ALTER TABLE src REPLICA IDENTITY FULL");
    await db.query(`CREATE TABLE dst (${COLUMNS})`);
    await db.query("CREATE ROLE cdc LOGIN REPLICATION");
    await db.query("GRANT SELECT ON src TO cdc");
    await db.query("CREATE PUBLICATION riffle_cdc_pub FOR TABLE src"); // the table's owner publishes it
    await db.query("ALTER TABLE src ENABLE ROW LEVEL SECURITY");
    await db.query("CREATE POLICY slow_reads ON src FOR SELECT TO cdc USING (pg_sleep(0.0002) IS NOT NULL)");
    await seed(db, "src", ROWS);
    const writer = await server.connect();
    const workload = await startWorkload(writer, "src", ROWS, Number(process.env.RIFFLE_KILL_SEED ?? 17));
    const state = join(mkdtempSync(join(tmpdir(), "riffle-cdc-")), "state");

    // Run 1: killed once part of the snapshot is committed.
    const first = runJob(state);
    await until("a snapshot chunk is committed", async () => (await count("dst")) >= 300, first);
    const atKill1 = await count("dst");
    await killRun(first);
    expect(atKill1, "the first kill lands in the snapshot").toBeLessThan(ROWS / 2);

    // Run 2: resumes the snapshot, finishes it, and is killed while it streams.
    const second = runJob(state);
    await until(
      "the snapshot is committed",
      async () =>
        (await db.query("SELECT count(*)::int AS n FROM (SELECT * FROM src EXCEPT SELECT * FROM dst) d")).rows[0].n <
        200,
      second,
    );
    await sleep(700);
    await killRun(second);
    expect(second.stderr()).toMatch(/resuming 'cdc' from checkpoint/);

    // Changes pile up while nothing runs; then the workload stops and the last run ends at its end.
    await sleep(500);
    await workload.stop();
    await writer.end();
    const end = (await db.query("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0].lsn as string;
    const last = runJob(state, { RIFFLE_CDC_UNTIL: end });
    const code = await finish(last);
    expect(last.stderr()).toMatch(/resuming 'cdc' from checkpoint/);
    expect(code, last.stderr()).toBe(0);

    const { stats } = workload;
    expect(stats.errors).toEqual([]);
    expect(stats.lockWaits, "a write of the workload waited on a lock").toBe(0);
    for (const n of [stats.inserts, stats.updates, stats.deletes, stats.keyUpdates]) expect(n).toBeGreaterThan(20);
    const missing = await db.query("SELECT * FROM src EXCEPT SELECT * FROM dst ORDER BY id LIMIT 5");
    const extra = await db.query("SELECT * FROM dst EXCEPT SELECT * FROM src ORDER BY id LIMIT 5");
    expect(missing.rows).toEqual([]);
    expect(extra.rows).toEqual([]);
    expect(await count("dst")).toBe(await count("src"));
  }, 240_000);
});
