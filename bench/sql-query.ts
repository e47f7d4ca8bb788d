/**
 * One Nexmark query in a process of its own, as `npm run bench -- sql` runs each of its runs:
 * `node bench/sql-query.ts QUERY sql|ts [EVENTS] [DIR]` runs the public SQL of QUERY
 * (test/sql/nexmark/) or its hand-written TypeScript job (examples/nexmark/) once small to warm
 * up (EVENTS / 20, at least 1,000), then over EVENTS (default 300,000) at parallelism 1 on the
 * embedded runtime, from a collected heap under `node --expose-gc`, and prints one JSON line:
 * events per CPU-second of the process (user + system, GC included), events per wall-clock
 * second, and the records committed. The SQL is planned before the clock starts. DIR holds the
 * SQL's files (q13's side input; a temporary directory without). Run it under `node --cpu-prof`
 * for a profile of that job alone, and alternate two trees for a before/after.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Job } from "../core/api/environment.ts";
import { sqlBenchJob, time, tsBenchJob, writeSideInput } from "./nexmark-sql.ts";

const [query, kind, eventsArg, dirArg] = process.argv.slice(2);
const events = Number(eventsArg ?? 300_000);
if (!query || !/^q\d+$/.test(query) || (kind !== "sql" && kind !== "ts") || !Number.isInteger(events) || events <= 0) {
  console.error("usage: node bench/sql-query.ts QUERY sql|ts [EVENTS] [DIR]");
  process.exit(2);
}

const tsOf = kind === "ts" ? await tsBenchJob(query) : undefined;
const sqlFile = join(import.meta.dirname, "../test/sql/nexmark", `${query}.sql`);
if (kind === "ts" ? !tsOf : !existsSync(sqlFile)) {
  console.error(`bench/sql-query.ts: no ${kind === "ts" ? "TypeScript job" : "SQL"} for ${query}`);
  process.exit(2);
}
const dir = dirArg ?? mkdtempSync(join(tmpdir(), "riffle-sql-query-"));
if (dirArg === undefined) writeSideInput(dir);
try {
  const jobOf = (n: number): Job => (tsOf ? tsOf(n) : sqlBenchJob(query, n, dir));
  const warm = Math.max(1000, Math.round(events / 20));
  await time(jobOf(warm), warm);
  const figures = await time(jobOf(events), events);
  console.log(JSON.stringify({ query, kind, events, ...figures }));
} finally {
  if (dirArg === undefined) rmSync(dir, { recursive: true, force: true });
}
