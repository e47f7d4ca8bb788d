/** The chaos driver's read of a state dir's job record, whatever state a killed run left it in. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jobRecord } from "./db-dump.ts";

const { DatabaseSync } = createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");

describe("chaos driver: jobRecord", () => {
  it("reads no job from a missing, empty or table-less riffle.db (a run killed while it started), and the job from a real one", () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-dbdump-"));
    expect(jobRecord(dir)).toBeUndefined();
    writeFileSync(join(dir, "riffle.db"), "");
    expect(jobRecord(dir)).toBeUndefined();
    const db = new DatabaseSync(join(dir, "riffle.db"));
    db.exec("CREATE TABLE other (x INTEGER)");
    expect(jobRecord(dir)).toBeUndefined();
    db.exec("CREATE TABLE jobs (id TEXT PRIMARY KEY, body TEXT)");
    db.prepare("INSERT INTO jobs VALUES (?, ?)").run("j", JSON.stringify({ generation: 3, parallelism: { t: 2 } }));
    db.close();
    expect(jobRecord(dir)).toMatchObject({ generation: 3 });
  });
});
