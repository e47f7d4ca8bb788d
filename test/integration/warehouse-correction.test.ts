/**
 * The layered warehouse of examples/warehouse/layers.ts and its correction: three jobs
 * run at once on one table store (ODS → DWD → DWS, each fed by the table below). The
 * planted bug shows in an OLAP query (DWS equals DuckDB over the input with the wrong
 * euro rate, not the right one); the DWD job is stopped with a savepoint and the fixed
 * job restored from it replays the retained ODS while the DWS job keeps running, and
 * DWS ends equal to DuckDB over the corrected input.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { InMemoryTableStore } from "../../core/memory/in-memory-table-store.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { readTable } from "../../core/tables/read-table.ts";
import { dwdJob, dwsJob, ORDERS, odsJob } from "../../examples/warehouse/layers.ts";

type Row = Record<string, unknown>;
const dir = mkdtempSync(join(tmpdir(), "riffle-wh-correction-"));
let duck: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  duck = await DuckDBInstance.create(":memory:");
  conn = await duck.connect();
});
afterAll(() => {
  conn.closeSync();
  duck.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

/** DuckDB's sales per region over `ods` with euros at `eurRate` US cents per 100 (the input's rates table). */
async function oracle(ods: readonly Row[], eurRate: number): Promise<Row[]> {
  const file = join(dir, "ods.jsonl");
  writeFileSync(file, ods.map((r) => JSON.stringify(r)).join("\n"));
  await conn.run(`CREATE OR REPLACE TABLE ods AS SELECT * FROM read_json('${file}', format = 'newline_delimited')`);
  await conn.run(
    `CREATE OR REPLACE TABLE rates AS SELECT * FROM (VALUES ('USD', 100), ('EUR', ${eurRate}), ('GBP', 127)) r(currency, rate)`,
  );
  const sql = `SELECT region, COUNT(*) AS orders, SUM(amount * rate // 100) AS sales
    FROM ods JOIN rates USING (currency) WHERE status = 'paid' GROUP BY region ORDER BY region`;
  return (await conn.runAndReadAll(sql))
    .getRowObjectsJS()
    .map((r) => ({ region: r.region, orders: Number(r.orders), sales: Number(r.sales) }));
}

async function rows(store: InMemoryTableStore, job: string, table: string): Promise<Row[]> {
  const a = await readTable({ job, store }, { kind: "snapshot", table }).catch(() => undefined);
  if (a?.kind !== "snapshot") return [];
  return [...a.rows].sort((x, y) => String(x.region ?? x.order_id).localeCompare(String(y.region ?? y.order_id)));
}

/** Polls until `read` equals `want` (the last answer is compared, so a miss fails with a diff). */
async function until(read: () => Promise<unknown>, want: unknown, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  let got = await read();
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    got = await read();
  }
  expect(got).toEqual(want);
}

describe("the layered warehouse's correction", () => {
  it("rewrites the bad DWD rows from the retained ODS and DWS ends equal to DuckDB over the corrected input", async () => {
    const store = new InMemoryTableStore();
    const dwdState = { store: new InMemoryStateStore(), checkpoints: new InMemoryCheckpointStore() };
    const stopDws = new AbortController();
    const stopBuggy = new AbortController();
    const dws = new EmbeddedRuntime(dwsJob, { tables: store, signal: stopDws.signal }).run();
    const buggy = new EmbeddedRuntime(dwdJob("buggy"), {
      tables: store,
      ...dwdState,
      signal: stopBuggy.signal,
      stopWithSavepoint: "before-fix",
    }).run();
    await new EmbeddedRuntime(odsJob, { tables: store }).run();
    const ods = await rows(store, "wh-ods", "orders_ods");
    expect(ods).toHaveLength(ORDERS);

    // The bug, found by an OLAP query: DWS holds the wrong euro rate's totals, not the right ones.
    const wrong = await oracle(ods, 92);
    const right = await oracle(ods, 108);
    expect(wrong).not.toEqual(right);
    await until(() => rows(store, "wh-dws", "sales_dws"), wrong);

    stopBuggy.abort();
    await buggy;
    const newestDws = async () => (await store.sealed("wh-dws")).at(-1)?.checkpoint ?? 0;
    const dwsBefore = await newestDws();
    const stopFixed = new AbortController();
    const fixed = new EmbeddedRuntime(dwdJob("fixed"), {
      tables: store,
      ...dwdState,
      signal: stopFixed.signal,
      fromSavepoint: "before-fix",
    }).run();
    try {
      await until(() => rows(store, "wh-dws", "sales_dws"), right);
      expect(await newestDws()).toBeGreaterThan(dwsBefore); // the same DWS job took the correction in
      // DWD equals the corrected input row for row.
      const dwd = await readTable(
        { job: "wh-dwd", store },
        {
          kind: "query",
          sql: "SELECT region, COUNT(*) AS orders, SUM(amount_usd) AS sales FROM orders_dwd GROUP BY region",
        },
      );
      if (dwd.kind !== "query") throw new Error("query");
      expect([...dwd.rows].sort((a, b) => String(a.region).localeCompare(String(b.region)))).toEqual(right);
    } finally {
      stopFixed.abort();
      stopDws.abort();
      await fixed;
      await dws;
    }
  }, 180_000);
});
