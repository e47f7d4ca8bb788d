/**
 * The layered warehouse example (examples/warehouse/warehouse.ts): at every checkpoint the
 * job sealed, its DWS layer equals DuckDB's aggregate over its ODS layer read at the same
 * checkpoint with the DWD cleaning rule, so the layers agree with each other mid-stream,
 * and at the end the ODS layer holds every generated order.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { InMemoryTableStore } from "../../core/memory/in-memory-table-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { readTable } from "../../core/tables/read-table.ts";
import job, { ORDERS, order } from "../../examples/warehouse/warehouse.ts";

const DWS_SQL =
  "SELECT region, COUNT(*) AS orders, SUM(amount) AS sales FROM ods WHERE status = 'paid' AND amount > 0 GROUP BY region ORDER BY region";

describe("the layered warehouse example", () => {
  it("keeps DWS equal to DuckDB over ODS at every sealed checkpoint", async () => {
    const store = new InMemoryTableStore();
    const clock = new ManualClock();
    await new EmbeddedRuntime(job, { tables: store, clock, beforeBatch: () => clock.advance(10) }).run();
    const ctx = { job: "warehouse", store };
    const list = await readTable(ctx, { kind: "list" });
    if (list.kind !== "list") throw new Error("list");
    expect(list.checkpoints.length).toBeGreaterThan(2);
    const dir = mkdtempSync(join(tmpdir(), "riffle-warehouse-"));
    const duck = await DuckDBInstance.create(":memory:");
    const conn = await duck.connect();
    try {
      for (const at of list.checkpoints) {
        const ods = await readTable(ctx, { kind: "snapshot", table: "orders_ods", at: { at } });
        const dws = await readTable(ctx, { kind: "snapshot", table: "sales_dws", at: { at } });
        if (ods.kind !== "snapshot" || dws.kind !== "snapshot") throw new Error("snapshot");
        const file = join(dir, `ods-${at}.jsonl`);
        writeFileSync(file, ods.rows.map((r) => JSON.stringify(r)).join("\n"));
        await conn.run("DROP TABLE IF EXISTS ods");
        if (ods.rows.length === 0) {
          expect(dws.rows).toEqual([]);
          continue;
        }
        await conn.run(`CREATE TABLE ods AS SELECT * FROM read_json('${file}', format = 'newline_delimited')`);
        const want = (await conn.runAndReadAll(DWS_SQL))
          .getRowObjectsJS()
          .map((r) => ({ region: r.region, orders: Number(r.orders), sales: Number(r.sales) }));
        const got = [...dws.rows].sort((a, b) => String(a.region).localeCompare(String(b.region)));
        expect(got, `checkpoint ${at}`).toEqual(want);
      }
    } finally {
      conn.closeSync();
      duck.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
    const ods = await readTable(ctx, { kind: "query", sql: "SELECT COUNT(*) AS n, SUM(amount) AS s FROM orders_ods" });
    const all = Array.from({ length: ORDERS }, (_, i) => order(i));
    expect(ods).toMatchObject({ rows: [{ n: ORDERS, s: all.reduce((a, o) => a + o.amount, 0) }] });
  }, 120_000);
});
