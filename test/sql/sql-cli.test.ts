/** `riffle sql` as a user runs it: the public Nexmark files with placeholders defined, EXPLAIN, and one-line errors. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { nexmarkConfig } from "../../core/nexmark/model.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { compareMultisets, runOracle } from "../oracle/duckdb-oracle.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const NEXMARK = join(import.meta.dirname, "nexmark");

function riffle(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const DEFINES = (events: number) =>
  [
    "TPS=10000",
    `EVENTS_NUM=${events}`,
    "PERSON_PROPORTION=1",
    "AUCTION_PROPORTION=3",
    "BID_PROPORTION=46",
    "NEXMARK_TABLE=datagen",
  ].flatMap((d) => ["-D", d]);

/** The public query file with its blackhole sink made a print sink (seeded like the oracle's events). */
function printable(q: string, dir: string): string[] {
  const ddl = join(dir, "ddl_gen.sql");
  writeFileSync(
    ddl,
    readFileSync(join(NEXMARK, "ddl_gen.sql"), "utf8").replace(
      "'connector' = 'nexmark',",
      "'connector' = 'nexmark', 'seed' = '7',",
    ),
  );
  const query = join(dir, `${q}.sql`);
  writeFileSync(
    query,
    readFileSync(join(NEXMARK, `${q}.sql`), "utf8").replace("'connector' = 'blackhole'", "'connector' = 'print'"),
  );
  return [ddl, join(NEXMARK, "ddl_views.sql"), query];
}

describe("riffle sql", () => {
  it("runs the public q17 files (placeholders given with -D) to DuckDB's table, at parallelism 3", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-sql-"));
    const out = join(dir, "out.jsonl");
    const r = riffle([
      "sql",
      ...printable("q17", dir),
      ...DEFINES(3000),
      "-p",
      "3",
      "-o",
      out,
      "--no-progress",
      "--work-dir",
      dir,
    ]);
    expect(r.stderr).toMatch(/q17 finished in .* to 'nexmark_q17'/);
    expect(r.code).toBe(0);
    const records = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { value: unknown }).value);
    const cfg = nexmarkConfig({ events: 3000, seed: 7 });
    const expected = await runOracle(
      "q17",
      Array.from({ length: 3000 }, (_, i) => nexmarkEvent(i, cfg)),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(compareMultisets(foldChangelog(records), expected)).toEqual([]);
  });

  it("--explain prints the plans and runs nothing", () => {
    const r = riffle([
      "sql",
      join(NEXMARK, "ddl_gen.sql"),
      join(NEXMARK, "ddl_views.sql"),
      join(NEXMARK, "q2.sql"),
      ...DEFINES(10),
      "--explain",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("== Optimized Logical Plan ==");
    expect(r.stdout).toMatch(/Calc\(where=\[\(\(event_type = 2\) AND \(MOD\(bid\.auction, 123\) = 0\)\)\]/);
    expect(r.stderr).not.toMatch(/finished/);
  });

  it("refuses bad SQL, a missing placeholder and a missing file in one line with exit code 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-sql-"));
    const bad = join(dir, "bad.sql");
    writeFileSync(bad, "CREATE TABLE t (a BIGINT) WITH ('connector' = 'print');\nINSERT INTO t SELECT b FROM t;\n");
    const cases: [string[], RegExp][] = [
      [["sql", bad], /^riffle: .*bad\.sql: line 2, column 22: unknown column 'b' \(available: a\)\n$/],
      [["sql", join(NEXMARK, "ddl_gen.sql")], /^riffle: the script uses \$\{TPS\}: give it with --define TPS=VALUE\n$/],
      [["sql", join(dir, "nope.sql")], /^riffle: cannot find SQL file '.*nope\.sql'\n$/],
    ];
    for (const [args, stderr] of cases) {
      const r = riffle(args);
      expect(r.stderr).toMatch(stderr);
      expect(r.code).toBe(2);
    }
  });
});
