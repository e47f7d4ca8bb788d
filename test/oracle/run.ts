/**
 * `npm run oracle -- [--events N] [--rate R] [--parallelism P] [--queries q0,q5]`:
 * runs every Nexmark query in riffle and in DuckDB over the same generated events
 * and prints, per query, the row counts and whether they match. Exit 1 on any mismatch.
 */
import { parseArgs } from "node:util";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { nexmarkConfig } from "../../core/nexmark/model.ts";
import { compareMultisets, openOracle } from "./duckdb-oracle.ts";
import { QUERIES, riffleRows } from "./queries.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    rate: { type: "string", default: "10000" },
    parallelism: { type: "string", default: "4" },
    queries: { type: "string" },
  },
});
const events = Number(values.events);
const rate = Number(values.rate);
const parallelism = Number(values.parallelism);
const queries = values.queries ? values.queries.split(",") : QUERIES;
const cfg = nexmarkConfig({ events, rate, seed: 7 });
const t0 = performance.now();
const oracle = await openOracle(Array.from({ length: events }, (_, i) => nexmarkEvent(i, cfg)));
console.error(`loaded ${events} events into DuckDB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
let failed = 0;
const results = [];
for (const q of queries) {
  const d0 = performance.now();
  const expected = await oracle.run(q);
  const d1 = performance.now();
  const actual = await riffleRows(q, events, rate, parallelism);
  const d2 = performance.now();
  const diffs = compareMultisets(actual, expected);
  if (diffs.length > 0) failed++;
  const r = {
    query: q,
    rows: expected.length,
    riffleRows: actual.length,
    match: diffs.length === 0,
    duckdbMs: Math.round(d1 - d0),
    riffleMs: Math.round(d2 - d1),
  };
  results.push(r);
  console.error(
    `${q}: ${r.match ? "match" : "MISMATCH"} (${r.rows} rows; riffle ${r.riffleMs} ms, duckdb ${r.duckdbMs} ms)${diffs.length ? `\n  ${diffs.slice(0, 3).join("\n  ")}` : ""}`,
  );
}
oracle.close();
console.log(JSON.stringify({ events, rate, parallelism, results }, null, 2));
process.exit(failed > 0 ? 1 : 0);
