/**
 * `node bench/sql-query.ts QUERY sql|ts [EVENTS] [DIR]` (one Nexmark query in isolation, as the SQL
 * bench runs each run): prints one JSON line of figures for the SQL and the TypeScript job (q13's
 * side input made for it without DIR), and refuses a usage error with exit code 2 and one line.
 * The shape is checked, never the speed.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const SCRIPT = join(ROOT, "bench", "sql-query.ts");

const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: "utf8" });

describe("bench/sql-query.ts", () => {
  it("prints events per CPU-second and per second and the records of one job", () => {
    for (const [query, kind] of [
      ["q1", "sql"],
      ["q1", "ts"],
      ["q13", "sql"],
    ] as const) {
      const r = run(query, kind, "3000");
      expect(r.status, r.stderr).toBe(0);
      const figures = JSON.parse(r.stdout.trim());
      expect(figures).toMatchObject({ query, kind, events: 3000, rows: expect.any(Number) });
      expect(figures.rows).toBeGreaterThan(0);
      expect(figures.eventsPerCpuSec).toBeGreaterThan(0);
      expect(figures.eventsPerSec).toBeGreaterThan(0);
    }
  }, 60_000);

  it("refuses a usage error and a query it has no job for with exit code 2 and one line", () => {
    for (const args of [[], ["q1", "java"], ["q1", "sql", "-5"], ["q99", "sql"], ["q6", "ts"]]) {
      const r = run(...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  }, 60_000);
});
