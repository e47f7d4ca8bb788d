/**
 * The layered warehouse of examples/warehouse/layers.ts and its correction
 * (examples/warehouse/correction.ts): three jobs run at once on one table store (ODS →
 * DWD → DWS, each fed by the table below). The planted bug shows in an OLAP query, and
 * DWS equals DuckDB over the input with the wrong euro rate; the DWD job is stopped with
 * a savepoint and the fixed job restored from it replays the retained ODS while the DWS
 * job keeps running, and DWS ends equal to DuckDB over the corrected input (the orders
 * with the right rates table). Once without faults, once with runners of every job
 * crashing (the table-reading sources among them), which must change nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedOptions } from "../../core/runtime/embedded.ts";
import { runCorrection } from "../../examples/warehouse/correction.ts";
import { ORDERS } from "../../examples/warehouse/layers.ts";

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

/** Crashes about one batch in `every` of any job's runners (a container lost: memory gone, the committed cut kept). */
function crashes(every: number, seed: number) {
  let x = seed;
  const crashed: string[] = [];
  const options: Pick<EmbeddedOptions, "beforeBatch"> = {
    beforeBatch: (runner) => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      if (x % every !== 0) return;
      crashed.push(runner.task.id);
      runner.crash();
    },
  };
  return { options, crashed };
}

describe("the layered warehouse's correction", () => {
  it.each([
    ["without faults", undefined],
    ["with runners crashing", crashes(8, 7)],
  ])(
    "%s: rewrites the bad DWD rows from the retained ODS and DWS ends equal to DuckDB over the corrected input",
    async (_, faults) => {
      const run = await runCorrection(() => {}, faults?.options);
      // Crashes hit every layer's table-reading sources (the DWD job's reads ODS, the DWS job's reads DWD).
      if (faults) expect([...new Set(faults.crashed)], "crashed tasks").toEqual(expect.arrayContaining(["ods", "dwd"]));
      expect(run.ods).toHaveLength(ORDERS);
      const wrong = await oracle(run.ods, 92);
      const right = await oracle(run.ods, 108);
      expect(wrong).not.toEqual(right);
      // The bug, found by the OLAP query over DWD, and DWS equal to DuckDB over the input with it.
      expect(run.ratesBefore).toContainEqual({ currency: "EUR", rate: 92 });
      expect(run.dwsBefore).toEqual(wrong);
      // After the correction: DWS equals DuckDB over the corrected input, and the same DWS job ran on.
      expect(run.ratesAfter).toContainEqual({ currency: "EUR", rate: 108 });
      expect(run.dwsAfter).toEqual(right);
      expect(run.dwsCheckpoints[1]).toBeGreaterThan(run.dwsCheckpoints[0]);
    },
    180_000,
  );
});
