/**
 * Hashed map state (`mapState({ hashed: true })`, a hash trie once a key's map is large) survives
 * SIGKILLs of `riffle run --state-dir`: after two kills and a final run, each key's map equals
 * what counting the input gives.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COUNT, KEYS, valueAt } from "../fixtures/hashed-map-job.ts";
import { killRepeatedly } from "../support/kill-loop.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/hashed-map-job.ts";

/** Each key's summary, by counting the input: a value's count modulo 3, kept when not 0. */
function oracle(): string[] {
  const maps = new Map<string, Map<string, number>>();
  for (let i = 0; i < COUNT; i++) {
    const k = `k${i % KEYS}`;
    const m = maps.get(k) ?? new Map<string, number>();
    maps.set(k, m);
    const v = valueAt(i);
    const n = (m.get(v) ?? 0) + 1;
    if (n === 3) m.delete(v);
    else m.set(v, n);
  }
  return [...maps].map(([k, m]) => {
    const entries = [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([v, n]) => `${v}=${n}`);
    return JSON.stringify({ sink: "summary", value: { k, size: m.size, entries: entries.join(",") } });
  });
}

function lines(file: string): string[] {
  return readFileSync(file, "utf8").trim().split("\n").filter(Boolean);
}

describe("hashed map state", () => {
  it("keeps each key's map exact after SIGKILLs of riffle run --state-dir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-hashed-"));
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    const loop = await killRepeatedly({ job: JOB, jobName: "hashed-map", state, out, seed: 11, kills: 2 });
    expect(loop.kills, loop.finished?.stderr).toBe(2);
    const args = [BIN, "run", JOB, "--state-dir", state, "--out", out, "--no-progress"];
    const last = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(last.status, last.stderr).toBe(0);
    expect(last.stderr).toContain("resuming 'hashed-map'");
    expect(lines(out).sort()).toEqual(oracle().sort());
  }, 180_000);
});
