/**
 * The public Nexmark SQL through riffle's SQL layer against DuckDB: each supported query file,
 * run by `sqlJob` over generated events at parallelism 1 and 4 and at two rates, ends in the same
 * table as DuckDB running the reference SQL (test/oracle/qN.sql) over the same events; and so it
 * does under injected faults (crashes, duplicates, zombies, failovers).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nexmarkEvent } from "../../../core/nexmark/generator.ts";
import { nexmarkConfig } from "../../../core/nexmark/model.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { runToCompletion } from "../../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../../core/sql/changelog.ts";
import { sqlJob } from "../../../core/sql/session.ts";
import { compareMultisets, type Oracle, openOracle } from "../../oracle/duckdb-oracle.ts";
import { simulate } from "../../sim/simulate.ts";
import { nexmarkScript } from "./script.ts";

/** The public queries riffle's SQL runs today. */
const SQL_QUERIES = ["q0", "q1", "q2", "q15", "q17"];
const EVENTS = 4000;

const sink = (q: string) => `nexmark_${q}`;

for (const rate of [10_000, 1_000]) {
  describe(`public Nexmark SQL vs DuckDB, ${EVENTS} events at ${rate} events/s`, () => {
    let oracle: Oracle;
    beforeAll(async () => {
      const cfg = nexmarkConfig({ events: EVENTS, rate, seed: 7 });
      oracle = await openOracle(Array.from({ length: EVENTS }, (_, i) => nexmarkEvent(i, cfg)));
    });
    afterAll(() => oracle?.close());

    for (const q of SQL_QUERIES) {
      it(`${q}.sql at parallelism 1 and 4`, async () => {
        const expected = await oracle.run(q);
        expect(expected.length).toBeGreaterThan(0);
        for (const parallelism of [1, 4]) {
          const job = sqlJob(`sql-${q}`, nexmarkScript(q, EVENTS, rate));
          const out = await runToCompletion(job, { clock: new ManualClock(), parallelism });
          const actual = foldChangelog(out.get(sink(q)) ?? []);
          expect(compareMultisets(actual, expected), `${q} at parallelism ${parallelism}`).toEqual([]);
        }
      });
    }
  });
}

describe("public Nexmark SQL vs DuckDB under injected faults", () => {
  const events = 2000;
  let oracle: Oracle;
  beforeAll(async () => {
    const cfg = nexmarkConfig({ events, seed: 7 });
    oracle = await openOracle(Array.from({ length: events }, (_, i) => nexmarkEvent(i, cfg)));
  });
  afterAll(() => oracle?.close());

  for (const q of ["q2", "q15", "q17"]) {
    it(`${q}.sql, seeds 1-2`, async () => {
      const expected = await oracle.run(q);
      for (const seed of [1, 2]) {
        const r = await simulate(
          {
            name: `sql-${q}`,
            job: sqlJob(`sql-${q}`, nexmarkScript(q, events, 10_000)),
            check: (out) => compareMultisets(foldChangelog(out.get(sink(q)) ?? []), expected),
          },
          seed,
        );
        expect(r.diffs, `${q} seed ${seed}`).toEqual([]);
      }
    });
  }
});
