/**
 * Online learning survives real crashes: `riffle run --state-dir` of a job training
 * logistic regression and k-means, killed with SIGKILL at random points and started
 * again, commits exactly the model versions of an uninterrupted run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { killRepeatedly } from "../support/kill-loop.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/ml-kill-job.ts";

const riffle = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).sort() : []);

describe("online learning with riffle run --state-dir", () => {
  it("commits the very model versions of an uninterrupted run, whatever SIGKILLs it survived", async () => {
    const refDir = mkdtempSync(join(tmpdir(), "riffle-ml-ref-"));
    const ref = riffle([
      "run",
      JOB,
      "--state-dir",
      join(refDir, "state"),
      "--out",
      join(refDir, "out.jsonl"),
      "--no-progress",
    ]);
    expect(ref.status, ref.stderr).toBe(0);
    const expected = lines(join(refDir, "out.jsonl"));
    // 120 000 / 4000 logistic regression versions, and 60 000 / 4000 of k-means.
    expect(expected.filter((l) => l.startsWith('{"sink":"lr"'))).toHaveLength(30);
    expect(expected.filter((l) => l.startsWith('{"sink":"kmeans"'))).toHaveLength(15);

    const dir = mkdtempSync(join(tmpdir(), "riffle-ml-kill-"));
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    const seed = Number(process.env.RIFFLE_KILL_SEED ?? 19);
    const { kills, resumed, finished } = await killRepeatedly({
      job: JOB,
      jobName: "ml-kill-me",
      state,
      out,
      seed,
      kills: 4,
    });
    if (finished) expect(finished.code, finished.stderr).toBe(0); // it finished before we killed it
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(resumed).toBeGreaterThanOrEqual(1);
    const last = riffle(["run", JOB, "--state-dir", state, "--out", out, "--no-progress"]);
    expect(last.stderr).toMatch(/resuming 'ml-kill-me' from checkpoint/);
    expect(last.status, last.stderr).toBe(0);
    expect(lines(out)).toEqual(expected);
  }, 300_000);
});
