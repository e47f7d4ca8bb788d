/**
 * The SQL connectors `postgres-cdc` and `postgres` (registered by `riffle/postgres`):
 * `riffle sql` copies a table's snapshot and changes, filtered and projected, into
 * another table exactly once, ending at a given LSN; option mistakes are one-line
 * usage errors naming the option.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";

const ROOT = join(import.meta.dirname, "../../..");

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

/** Runs `riffle sql` on `script` (with ${URL} and ${END} defined); its status, stdout and stderr. */
function riffleSql(script: string, end: string) {
  const file = join(mkdtempSync(join(tmpdir(), "riffle-sql-cdc-")), "job.sql");
  writeFileSync(file, script);
  return spawnSync(
    process.execPath,
    ["bin/riffle.js", "sql", file, "--define", `URL=${server.url}`, "--define", `END=${end}`, "--no-progress"],
    { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
  );
}

const cdcTable = (extra = "") => `CREATE TABLE orders (id INT, item VARCHAR, qty INT) WITH (
  'connector' = 'postgres-cdc', 'url' = '\${URL}', 'table-name' = 'orders', 'slot.name' = 'sql_orders',
  'scan.incremental.snapshot.chunk.size' = '50', 'scan.until-lsn' = '\${END}'${extra});`;

describe("SQL postgres-cdc and postgres connectors", () => {
  it("copies a snapshot and its changes, filtered and projected, into a Postgres table exactly once", async () => {
    await db.query("CREATE TABLE orders (id int PRIMARY KEY, item text, qty int)");
    await db.query("ALTER TABLE orders REPLICA IDENTITY FULL");
    await db.query("CREATE TABLE big_orders (id int PRIMARY KEY, item text, twice int)");
    await db.query("INSERT INTO orders SELECT g, 'item' || g, g % 10 FROM generate_series(1, 400) g");
    // The publication and the slot exist before the changes, so the stream holds them all.
    await db.query("CREATE PUBLICATION sql_orders_pub FOR TABLE orders");
    await db.query("SELECT pg_create_logical_replication_slot('sql_orders', 'pgoutput')");
    await db.query("UPDATE orders SET qty = qty + 5 WHERE id % 3 = 0");
    await db.query("UPDATE orders SET id = id + 1000 WHERE id % 7 = 0");
    await db.query("DELETE FROM orders WHERE id % 11 = 0");
    await db.query("UPDATE orders SET qty = 0 WHERE id % 13 = 0"); // rows that leave the filter: -U alone
    await db.query("INSERT INTO orders SELECT g, 'new' || g, 9 FROM generate_series(2001, 2050) g");
    const end = (await db.query("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0].lsn as string;
    const r = riffleSql(
      `${cdcTable()}
       CREATE TABLE big_orders (id INT, item VARCHAR, twice INT, PRIMARY KEY (id) NOT ENFORCED)
         WITH ('connector' = 'postgres', 'url' = '\${URL}');
       INSERT INTO big_orders SELECT id, item, qty * 2 FROM orders WHERE qty >= 5;`,
      end,
    );
    expect(r.status, r.stderr).toBe(0);
    const diff = async (a: string, b: string) => (await db.query(`${a} EXCEPT ${b}`)).rows;
    const want = "SELECT id, item, qty * 2 FROM orders WHERE qty >= 5";
    const got = "SELECT id, item, twice FROM big_orders";
    expect(await diff(want, got)).toEqual([]);
    expect(await diff(got, want)).toEqual([]);
    expect((await db.query(`SELECT count(*)::int AS n FROM big_orders`)).rows[0].n).toBeGreaterThan(100);
  }, 150_000);

  it("refuses an unknown option, a missing one, and a sink table without a primary key, in one line", () => {
    const bad = riffleSql(
      `${cdcTable(", 'slot' = 'x'")}
       CREATE TABLE c (id INT, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'postgres', 'url' = 'u');
       INSERT INTO c SELECT id FROM orders;`,
      "0/0",
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/the postgres-cdc connector has no option 'slot'/);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    const noKey = riffleSql(
      `${cdcTable()}
       CREATE TABLE c (id INT) WITH ('connector' = 'postgres', 'url' = 'u');
       INSERT INTO c SELECT id FROM orders;`,
      "0/0",
    );
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/table 'c' needs PRIMARY KEY \(…\) NOT ENFORCED/);
    const noUrl = riffleSql(
      `${cdcTable()}
       CREATE TABLE c (id INT, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'postgres');
       INSERT INTO c SELECT id FROM orders;`,
      "0/0",
    );
    expect(noUrl.status).toBe(2);
    expect(noUrl.stderr).toMatch(/the postgres connector needs option 'url'/);
  });
});
