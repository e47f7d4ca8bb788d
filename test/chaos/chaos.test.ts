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
import { reproduction, type SeedResult } from "./report.ts";

const EMBEDDED_SEEDS = [1, 2];
const AWS_SEED = 1;
const OPS = 8;

const dir = (seed: number) => mkdtempSync(join(tmpdir(), `riffle-chaos-${seed}-`));

/** Fails with the reproduction of every seed that broke the oracle. */
function expectClean(results: readonly SeedResult[]): void {
  const bad = results.filter((r) => r.violations.length > 0);
  expect(bad.length, bad.map((r) => reproduction(r, OPS)).join("\n")).toBe(0);
}

let aws: AwsChaos | undefined;
afterAll(async () => {
  await aws?.stop();
});

describe("chaos: operator sequences leave the committed output exactly as the oracle says", () => {
  it.concurrent(`embedded, seeds ${EMBEDDED_SEEDS.join(", ")}`, async () => {
    const results: SeedResult[] = [];
    for (const seed of EMBEDDED_SEEDS) {
      results.push(await runEmbeddedSeed({ seed, ops: OPS, records: 1200, pace: 1, dir: dir(seed) }));
    }
    expectClean(results);
    for (const r of results) expect(r.ops.length).toBeGreaterThan(OPS);
  }, 150_000);

  it.concurrent(`aws-local, seed ${AWS_SEED}`, async () => {
    aws = await startAwsChaos();
    expectClean([await aws.runSeed({ seed: AWS_SEED, ops: OPS, dir: dir(AWS_SEED), patienceMs: 20_000 })]);
  }, 150_000);
});
