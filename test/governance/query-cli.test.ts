/**
 * `riffle query --principals FILE --as NAME` as a user runs it over a state dir: the
 * principal's row policy and masks apply (classified columns masked without `unmask`),
 * a missing grant is one line and exit code 2, and both reads are in the dir's audit log.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStateDirAuditLog } from "../../core/durable/sqlite-audit-log.ts";
import { openStateDir } from "../../core/durable/sqlite-db.ts";
import { hashKey } from "../../core/governance/principals-config.ts";
import type { TableSpec } from "../../core/ports/table-store.ts";
import { keyOf } from "../../core/tables/fold.ts";
import { dataset } from "./fixtures.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const SQL = "SELECT region, COUNT(*) AS n, MIN(card) AS card FROM orders GROUP BY region";

function riffle(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function stateDir(): Promise<{ dir: string; principals: string }> {
  const dir = mkdtempSync(join(tmpdir(), "riffle-query-as-"));
  const spec: TableSpec = {
    name: "orders",
    columns: "id BIGINT, customer VARCHAR, region VARCHAR, amount BIGINT, card VARCHAR, email VARCHAR",
    primaryKey: ["id"],
  };
  const sd = openStateDir(join(dir, "state"), { create: true, job: "shop" });
  const rows = dataset().orders;
  await sd.tableStore.write(
    "shop",
    "orders",
    1,
    rows.map((r) => ({ key: keyOf(["id"], { ...r }), row: { ...r } })),
  );
  await sd.tableStore.seal("shop", { checkpoint: 1, time: 1, tables: [spec] });
  sd.close();
  const principals = join(dir, "principals.json");
  const entry = (name: string, grants: string[], policies = {}) => ({
    name,
    keySha256: [hashKey(name)],
    grants,
    policies,
  });
  writeFileSync(
    principals,
    JSON.stringify({
      principals: [
        entry("north", ["read:orders"], { orders: { rows: "region = 'north'" } }),
        entry("nobody", ["monitor"]),
      ],
    }),
  );
  return { dir: join(dir, "state"), principals };
}

describe("riffle query --as", () => {
  it("reads as the principal: its rows, masked, fingerprinted and audited; a missing grant is exit 2", async () => {
    const { dir, principals } = await stateDir();
    const north = riffle(["query", SQL, "--state-dir", dir, "--principals", principals, "--as", "north"]);
    expect([north.code, north.stderr]).toEqual([
      0,
      expect.stringMatching(/^riffle: shop at checkpoint 1 as north \(fingerprint [0-9a-f]{64}\)/),
    ]);
    const rows = north.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual([{ region: "north", n: 10, card: expect.stringMatching(/^\*+\d{4}$/) }]);

    const owner = riffle(["query", SQL, "--state-dir", dir]);
    expect(owner.stdout.trim().split("\n")).toHaveLength(3);
    expect(owner.stdout).toMatch(/"card":"\d+"/);

    const nobody = riffle(["query", SQL, "--state-dir", dir, "--principals", principals, "--as", "nobody"]);
    expect([nobody.code, nobody.stderr]).toEqual([
      2,
      "riffle: principal 'nobody' lacks grant 'read:orders' needed to read table 'orders'\n",
    ]);
    const half = riffle(["query", SQL, "--state-dir", dir, "--as", "north"]);
    expect([half.code, half.stderr]).toEqual([2, "riffle: give --principals FILE and --as NAME together\n"]);

    const audit = openStateDirAuditLog(dir);
    try {
      expect(await audit.log.read()).toMatchObject([
        {
          principal: "north",
          route: "riffle query",
          predicates: ["orders: region = 'north'"],
          masked: ["orders.card", "orders.email"],
          rows: 1,
          outcome: "allowed",
          checkpoint: 1,
          fingerprint: expect.any(String),
        },
        { principal: "nobody", outcome: "denied", grant: "read:orders" },
      ]);
    } finally {
      audit.close();
    }
  }, 120_000);
});
