/**
 * The simulation in CI: every scenario under 100 seeded fault schedules must
 * commit exactly the oracle's output. `npm run sim -- --seeds N` runs more.
 */
import { describe, expect, it } from "vitest";
import { scenarios } from "./scenarios.ts";
import { simulate } from "./simulate.ts";

const SEEDS = 100;
const BLOCK = 25;

describe("simulation: crashes, duplicates, redelivery, zombies and failovers change nothing", () => {
  for (const scenario of scenarios()) {
    for (let from = 1; from <= SEEDS; from += BLOCK) {
      it(`${scenario.name}, seeds ${from}-${from + BLOCK - 1}`, async () => {
        let restarts = 0;
        let checkpoints = 0;
        let objects = 0;
        for (let seed = from; seed < from + BLOCK; seed++) {
          const r = await simulate(scenario, seed);
          expect(r.diffs, `seed ${seed}`).toEqual([]);
          restarts += r.restarts;
          checkpoints += r.checkpoints;
          objects += r.payloadObjects;
        }
        // The schedules really did fail jobs over and complete checkpoints.
        expect(restarts).toBeGreaterThan(0);
        expect(checkpoints).toBeGreaterThan(BLOCK);
        // Half the seeds committed segment payloads through the blob store.
        expect(objects).toBeGreaterThan(0);
      });
    }
  }
});
