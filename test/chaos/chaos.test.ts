/**
 * A small slice of the chaos fuzzer in CI: two embedded sequences and one
 * aws-local sequence of operator actions (kills, stops, reruns, savepoints,
 * restores and rescales, poison and replays, a full disk, a deleted riffle.db,
 * concurrent API calls), each checked against the exact oracle. Any violation
 * fails the test with its reproduction. `npm run chaos -- --seeds N` runs more.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type AwsChaos, startAwsChaos } from "./aws.ts";
import { runEmbeddedSeed } from "./embedded.ts";
import { reproduction } from "./report.ts";

const EMBEDDED_SEEDS = [1, 2];
const AWS_SEED = 1;
const OPS = 8;

const dir = (seed: number) => mkdtempSync(join(tmpdir(), `riffle-chaos-${seed}-`));

let aws: AwsChaos | undefined;
afterAll(async () => {
  await aws?.stop();
});

describe("chaos: operator sequences leave the committed output exactly as the oracle says", () => {
  it.concurrent(`embedded, seeds ${EMBEDDED_SEEDS.join(", ")}`, async () => {
    for (const seed of EMBEDDED_SEEDS) {
      const r = await runEmbeddedSeed({ seed, ops: OPS, records: 1200, pace: 1, dir: dir(seed) });
      expect(r.violations.length, reproduction(r, OPS)).toBe(0);
      expect(r.ops.length).toBeGreaterThan(OPS);
    }
  }, 150_000);

  it.concurrent(`aws-local, seed ${AWS_SEED}`, async () => {
    aws = await startAwsChaos();
    const r = await aws.runSeed({ seed: AWS_SEED, ops: OPS, dir: dir(AWS_SEED), patienceMs: 30_000 });
    expect(r.violations, reproduction(r, OPS)).toEqual([]);
  }, 150_000);
});
