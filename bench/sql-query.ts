/**
 * One Nexmark query in isolation, in CPU time: `node bench/sql-query.ts QUERY sql|ts [EVENTS]`
 * runs the public SQL of QUERY (test/sql/nexmark/, as `npm run bench -- sql` does) or its
 * hand-written TypeScript job (examples/nexmark/) once over 15,000 events to warm up, then over
 * EVENTS (default 300,000) at parallelism 1 on the embedded runtime, and prints one JSON line:
 * events per CPU-second of the process (user + system, GC included), events per wall-clock
 * second, and the records committed. The SQL is planned before the clock starts. One job per
 * process, so neither kind shares compiled code or inline caches with the other; run it under
 * `node --cpu-prof` for a profile of that job alone, and alternate two trees for a before/after.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "../core/api/environment.ts";
import { sqlJob } from "../core/sql/session.ts";
import { type NexmarkQuery, nexmarkJob } from "../examples/nexmark/lib.ts";
import { nexmarkScript } from "../test/sql/nexmark/script.ts";
import { time } from "./nexmark-sql.ts";

const [query, kind, eventsArg] = process.argv.slice(2);
const events = Number(eventsArg ?? 300_000);
if (!query || !/^q\d+$/.test(query) || (kind !== "sql" && kind !== "ts") || !Number.isInteger(events) || events <= 0) {
  console.error("usage: node bench/sql-query.ts QUERY sql|ts [EVENTS]");
  process.exit(2);
}

const file =
  kind === "ts"
    ? join(import.meta.dirname, "../examples/nexmark", `${query}.ts`)
    : join(import.meta.dirname, "../test/sql/nexmark", `${query}.sql`);
if (!existsSync(file)) {
  console.error(`bench/sql-query.ts: no ${kind === "ts" ? "TypeScript job" : "SQL"} for ${query} (${file})`);
  process.exit(2);
}

const vars = { NEXMARK_DIR: join("/tmp", `riffle-sql-query-${query}`), SUBMIT_TIME: "run", FLINK_HOME: "/tmp" };
const tsQuery = kind === "ts" ? ((await import(file)) as { query: NexmarkQuery }).query : undefined;
const jobOf = (n: number): Job =>
  tsQuery
    ? nexmarkJob(`bench-${query}`, tsQuery, { events: n, seed: 7 })
    : sqlJob(`bench-${query}`, nexmarkScript(query, n, 10_000, 7, vars));

await time(jobOf(15_000), 15_000);
const figures = await time(jobOf(events), events);
console.log(JSON.stringify({ query, kind, events, ...figures }));
