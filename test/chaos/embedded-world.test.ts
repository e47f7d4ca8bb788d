/**
 * The embedded driver's eras on hand-made files: a restoring run first publishes the
 * output the run before it committed but did not publish (a kill, a full disk); those
 * lines are the era before's, and the restore's era begins where the progress marker
 * says (embedded seeds 4 and 5 of the soak misread them as a loss and a duplicate).
 */

import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChaosRow } from "./dataset.ts";
import { checkExit } from "./embedded-ops.ts";
import { EmbeddedWorld, SINK } from "./embedded-world.ts";
import { unmountAll } from "./files.ts";
import type { Child } from "./proc.ts";

const dirs: string[] = [];
afterEach(() => {
  unmountAll(); // the world mounts a tmpfs under its out dir where it may
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const line = (key: string, n: number) => `${JSON.stringify({ sink: SINK, value: { key, n, id: n } as ChaosRow })}\n`;

describe("embedded chaos world: eras", () => {
  it("gives the lines a restoring run published before the restore to the era before", () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-chaos-world-"));
    dirs.push(dir);
    const w = new EmbeddedWorld({ seed: 1, ops: 1, records: 40, pace: 0, dir });
    const marker = join(w.stateDir, "output.json");
    const mark = (outBytes: number, restoredAt?: number) =>
      writeFileSync(marker, JSON.stringify({ cut: {}, outBytes, dlqBytes: 0, ...(restoredAt ? { restoredAt } : {}) }));
    const era0 = [line("a", 1), line("a", 2), line("a", 3)];
    writeFileSync(w.out, era0.join(""));
    mkdirSync(w.stateDir, { recursive: true });
    mark(Buffer.byteLength(era0.join("")));
    w.savepoints.set("sp1", { era: 0, atRequest: new Map([["a", 1]]) });
    const before = era0.map((l) => l.slice(0, -1));
    w.run = {
      child: {} as Child,
      before,
      restore: "sp1",
      prior: undefined,
      era: undefined,
      reported: false,
      restoredAt: undefined,
      sawFullDisk: false,
    };
    w.observe();
    expect(w.eras.map((e) => e.line)).toEqual([0, 3]);
    // The restoring run publishes the killed run's committed tail (a=4, 5), then restores sp1 (a=2 again).
    appendFileSync(w.out, line("a", 4) + line("a", 5));
    const restoredAt = Buffer.byteLength(era0.join("") + line("a", 4) + line("a", 5));
    mark(restoredAt, restoredAt);
    appendFileSync(w.out, line("a", 2) + line("a", 3));
    const f = w.observe();
    expect(w.eras.map((e) => [e.line, e.bound])).toEqual([
      [0, undefined],
      [5, true],
    ]);
    const eras = w.oracleEras(f);
    expect(eras.map((e) => e.rows.map((r) => r.n))).toEqual([
      [1, 2, 3, 4, 5],
      [2, 3],
    ]);
    expect(w.j.violations).toEqual([]);
  });
});

describe("embedded chaos world: a full disk", () => {
  const enospc =
    "riffle: job 'chaos-counter' failed: could not commit output to out.jsonl: ENOSPC: no space left on device, write\n";
  const world = () => {
    const dir = mkdtempSync(join(tmpdir(), "riffle-chaos-world-"));
    dirs.push(dir);
    const w = new EmbeddedWorld({ seed: 1, ops: 1, records: 40, pace: 0, dir });
    const child = { stderr: () => enospc, exit: () => ({ code: 1, signal: null }) } as unknown as Child;
    return { w, child };
  };
  // What startRun does, without spawning riffle.
  const attach = (w: EmbeddedWorld, child: Child) => {
    w.run = {
      child,
      before: [],
      restore: undefined,
      prior: undefined,
      era: undefined,
      reported: false,
      restoredAt: undefined,
      sawFullDisk: w.diskFull,
    };
  };

  it("accepts an ENOSPC exit noticed after the disk was freed, if the disk was full while the job ran (seed 10)", () => {
    const { w, child } = world();
    attach(w, child);
    w.setDiskFull(true);
    w.setDiskFull(false);
    checkExit(w, { code: 1, signal: null }, "natural", w.j.begin("final-wait"));
    expect(w.j.violations).toEqual([]);
  });

  it("still counts an ENOSPC exit of a run that never saw the disk full", () => {
    const { w, child } = world();
    w.setDiskFull(true);
    w.setDiskFull(false);
    attach(w, child);
    checkExit(w, { code: 1, signal: null }, "natural", w.j.begin("final-wait"));
    expect(w.j.violations.map((v) => v.message)).toEqual(["the run ended with exit 1"]);
  });
});
