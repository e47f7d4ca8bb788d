/**
 * Nexmark against DuckDB: every query, run by riffle over generated events at
 * parallelism 1 and 4 and at two event rates, must return the same rows as
 * DuckDB running the reference SQL (test/oracle/qN.sql) over the same events.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { nexmarkConfig } from "../../core/nexmark/model.ts";
import { compareMultisets, type Oracle, openOracle } from "./duckdb-oracle.ts";
import { type NexmarkQuery, nexmarkJob } from "../../examples/nexmark/lib.ts";
import type { Scenario } from "../sim/scenarios.ts";
import { simulate } from "../sim/simulate.ts";
import { QUERIES, riffleRows } from "./queries.ts";

const EVENTS = Number(process.env.RIFFLE_ORACLE_EVENTS ?? 4000);
const RATES = [10_000, 1_000];
const here = import.meta.dirname;

for (const rate of RATES) {
  describe(`nexmark vs DuckDB, ${EVENTS} events at ${rate} events/s`, () => {
    let oracle: Oracle;
    beforeAll(async () => {
      const cfg = nexmarkConfig({ events: EVENTS, rate, seed: 7 });
      oracle = await openOracle(Array.from({ length: EVENTS }, (_, i) => nexmarkEvent(i, cfg)));
    });
    afterAll(() => oracle?.close());

    for (const q of QUERIES) {
      it.runIf(existsSync(join(here, "../../examples/nexmark", `${q}.ts`)))(`${q} at parallelism 1 and 4`, async () => {
        const expected = await oracle.run(q);
        for (const p of [1, 4]) {
          const actual = await riffleRows(q, EVENTS, rate, p);
          expect(compareMultisets(actual, expected), `${q} at parallelism ${p}`).toEqual([]);
        }
        expect(expected.length).toBeGreaterThan(0);
      });
    }
  });
}

describe("nexmark vs DuckDB under injected faults (crashes, duplicates, zombies, failovers)", () => {
  const FAULT_QUERIES = ["q3", "q5", "q7", "q17", "q18"];
  const events = 2000;
  let oracle: Oracle;
  beforeAll(async () => {
    const cfg = nexmarkConfig({ events, seed: 7 });
    oracle = await openOracle(Array.from({ length: events }, (_, i) => nexmarkEvent(i, cfg)));
  });
  afterAll(() => oracle?.close());

  for (const q of FAULT_QUERIES) {
    it(`${q}, seeds 1-3`, async () => {
      const expected = await oracle.run(q);
      const mod = (await import(join(here, "../../examples/nexmark", `${q}.ts`))) as { query: NexmarkQuery };
      for (const seed of [1, 2, 3]) {
        const scenario: Scenario = {
          name: q,
          job: nexmarkJob(`nexmark-${q}`, mod.query, { events, seed: 7 }),
          check: (out) => compareMultisets((out.get("result") ?? []) as Record<string, unknown>[], expected),
        };
        const r = await simulate(scenario, seed);
        expect(r.diffs, `${q} seed ${seed}`).toEqual([]);
      }
    });
  }
});
