/**
 * Schema evolution: columns added to the source table mid-stream arrive in the
 * sink table with their values. The job (`riffle run --state-dir`, src into dst) is
 * streaming a random workload when `score int` is added and written; it is
 * SIGKILLed right after, and `tag text` is added and written while it is down;
 * the resumed run is SIGKILLed once `tag` has reached dst, and the last run ends at
 * the WAL position after the workload stopped. Then src and dst are equal row for
 * row (`EXCEPT` both ways), with the added columns typed by their values.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";
import { finish, killRun, runCdcJob, until } from "./run-job.ts";
import { seed, startWorkload } from "./workload.ts";

const ROWS = 2_000;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const runJob = (state: string, env: Record<string, string> = {}) => runCdcJob(state, server.url, server.url, env);
const dstType = async (column: string) =>
  (
    await db.query("SELECT data_type FROM information_schema.columns WHERE table_name = 'dst' AND column_name = $1", [
      column,
    ])
  ).rows[0]?.data_type as string | undefined;
/** Rows of `a` not in `b` over `columns` (dst's score is numeric: compare by value). */
const except = async (a: string, b: string, columns = "id, grp, v, n, score::numeric, tag") =>
  (await db.query(`SELECT ${columns} FROM ${a} EXCEPT SELECT ${columns} FROM ${b} ORDER BY id LIMIT 5`)).rows;

describe("Postgres CDC schema evolution", () => {
  it("carries columns added mid-stream (one before a SIGKILL, one while the job is down) into the sink with their values", async () => {
    await db.query(`CREATE TABLE src (${COLUMNS})`);
    await db.query("ALTER TABLE src REPLICA IDENTITY FULL");
    await db.query(`CREATE TABLE dst (${COLUMNS})`);
    await seed(db, "src", ROWS);
    const writer = await server.connect();
    const workload = await startWorkload(writer, "src", ROWS, 29);
    const state = join(mkdtempSync(join(tmpdir(), "riffle-cdc-schema-")), "state");

    // Run 1: streams; `score` is added and written, and the job is killed right after.
    const first = runJob(state);
    await until("the snapshot is committed", async () => (await except("src", "dst", "*")).length < 5, first);
    await sleep(300);
    await db.query("ALTER TABLE src ADD COLUMN score int");
    await db.query("UPDATE src SET score = n * 10 + grp WHERE id % 3 = 0");
    await db.query(
      "INSERT INTO src (id, grp, v, n, score) SELECT g, 1, 's' || g, 0, g FROM generate_series(100001, 100050) g",
    );
    await sleep(150);
    await killRun(first);

    // While it is down: `tag` is added and written.
    await db.query("ALTER TABLE src ADD COLUMN tag text");
    await db.query("UPDATE src SET tag = 't' || id, score = score + 1 WHERE id % 5 = 0");

    // Run 2: resumes across both changes; killed once `tag` is in dst.
    const second = runJob(state);
    await until("dst has the tag column", async () => (await dstType("tag")) !== undefined, second);
    await db.query("UPDATE src SET tag = 'again' || id WHERE id % 7 = 0");
    await sleep(300);
    await killRun(second);
    expect(second.stderr()).toMatch(/resuming 'cdc' from checkpoint/);

    await workload.stop();
    await writer.end();
    const end = (await db.query("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0].lsn as string;
    const last = runJob(state, { RIFFLE_CDC_UNTIL: end });
    const code = await finish(last);
    expect(code, last.stderr()).toBe(0);

    expect(workload.stats.errors).toEqual([]);
    expect(await dstType("score")).toBe("numeric");
    expect(await dstType("tag")).toBe("text");
    expect(await except("src", "dst")).toEqual([]);
    expect(await except("dst", "src")).toEqual([]);
    const filled = await db.query("SELECT count(score)::int AS s, count(tag)::int AS t FROM dst");
    expect(filled.rows[0].s).toBeGreaterThan(500);
    expect(filled.rows[0].t).toBeGreaterThan(300);
  }, 180_000);
});
