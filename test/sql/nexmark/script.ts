/**
 * The public Nexmark SQL as `riffle sql` runs it: ddl_gen.sql with its `${…}` placeholders
 * filled in (the nexmark connector's options), ddl_views.sql over it, then the query, whose
 * `blackhole` sink becomes `print` so that its rows can be read.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const here = import.meta.dirname;
const read = (name: string) => readFileSync(join(here, `${name}.sql`), "utf8");

/**
 * The whole script of query `q` over `events` generated events at `rate` events/s (seed `seed`);
 * `vars` fills the query's other `${…}` placeholders (q10's output directory, q13's side input).
 */
export function nexmarkScript(
  q: string,
  events: number,
  rate: number,
  seed = 7,
  vars: Record<string, string> = {},
): string {
  let query = read(q).replace("'connector' = 'blackhole'", "'connector' = 'print'");
  for (const [k, v] of Object.entries(vars)) query = query.replaceAll(`\${${k}}`, v);
  return `${nexmarkTables(events, rate, seed)};\n${query}`;
}

/** ddl_gen.sql and ddl_views.sql over `events` generated events at `rate` events/s: the tables person, auction, bid. */
export function nexmarkTables(events: number, rate: number, seed = 7): string {
  const ddl = read("ddl_gen")
    .replaceAll(`\${TPS}`, String(rate))
    .replaceAll(`\${EVENTS_NUM}`, String(events))
    .replaceAll(`\${PERSON_PROPORTION}`, "1")
    .replaceAll(`\${AUCTION_PROPORTION}`, "3")
    .replaceAll(`\${BID_PROPORTION}`, "46")
    .replace("'connector' = 'nexmark',", `'connector' = 'nexmark',\n    'seed' = '${seed}',`);
  const views = read("ddl_views").replaceAll(`\${NEXMARK_TABLE}`, "datagen");
  return `${ddl};\n${views}`;
}
