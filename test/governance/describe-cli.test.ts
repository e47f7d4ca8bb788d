/** `riffle describe` as a user runs it: each column with what the classifier finds and the mask it gets; one-line errors. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeWarehouse } from "./fixtures.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");

function riffle(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("riffle describe", () => {
  it("shows the classification of every column of the script's tables", () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-describe-"));
    const file = join(dir, "tables.sql");
    writeFileSync(file, writeWarehouse().ddl);
    const r = riffle(["describe", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = r.stdout
      .split("\n")
      .filter((l) => /^(orders|customers) /.test(l))
      .map((l) => l.split(/\s+/));
    expect(rows).toHaveLength(10);
    const sensitive = rows.filter((c) => c[3] !== "-").map((c) => [c[0], c[1], c[3], c[5]]);
    expect(sensitive).toEqual([
      ["customers", "phone", "phone", "MASK_PHONE"],
      ["orders", "card", "card", "MASK_CARD"],
      ["orders", "email", "email", "MASK_EMAIL"],
    ]);
  });

  it("refuses bad SQL with exit code 2 and one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-describe-"));
    const file = join(dir, "bad.sql");
    writeFileSync(file, "CREATE TABLE t (a INT WITH ('connector' = 'filesystem')");
    const r = riffle(["describe", file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${file}: line 1`);
  });
});
