/**
 * Nexmark against DuckDB: every query, run by riffle over generated events at
 * parallelism 1 and 4 and at two event rates, must return the same rows as
 * DuckDB running the reference SQL (test/oracle/qN.sql) over the same events.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { nexmarkConfig } from "../../core/nexmark/model.ts";
import { type NexmarkQuery, nexmarkJob } from "../../examples/nexmark/lib.ts";
import type { Scenario } from "../sim/scenarios.ts";
import { simulate } from "../sim/simulate.ts";
import { compareMultisets, type Oracle, openOracle } from "./duckdb-oracle.ts";
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
      it(`${q} at parallelism 1 and 4`, async () => {
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

describe("nexmark q12 (processing time: no oracle)", () => {
  it("counts every bid exactly once across the processing-time windows of each bidder", async () => {
    const events = 3000;
    const rows = (await riffleRows("q12", events, 10_000, 2)) as {
      bidder: number;
      bid_count: number;
      starttime: number;
      endtime: number;
    }[];
    const cfg = nexmarkConfig({ events, seed: 7 });
    const perBidder = new Map<number, number>();
    for (let i = 0; i < events; i++) {
      const e = nexmarkEvent(i, cfg);
      if (e.type === "bid") perBidder.set(e.bidder, (perBidder.get(e.bidder) ?? 0) + 1);
    }
    const got = new Map<number, number>();
    for (const r of rows) {
      expect(r.endtime - r.starttime).toBe(10_000);
      got.set(r.bidder, (got.get(r.bidder) ?? 0) + r.bid_count);
    }
    expect(got).toEqual(perBidder);
  });
});
