/**
 * A user-written two-phase sink to files, under `riffle run --state-dir` killed
 * with SIGKILL at random points and started again, ends with exactly the output of
 * an uninterrupted run: no line lost, none twice.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../core/ml/random.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/two-phase-job.ts";
const tmp = () => mkdtempSync(join(tmpdir(), "riffle-2pc-"));

const args = (state: string) => ["run", JOB, "--state-dir", state, "--no-progress"];
// Paced (about 3 s of pauses over the job) so that three kills 100-400 ms into a run all land before it ends.
const env = (out: string) => ({ ...process.env, RIFFLE_2PC_DIR: out, RIFFLE_2PC_PACE: "20" });

/** Every committed line (files in done/), sorted. */
function committed(out: string): string[] {
  const done = join(out, "done");
  if (!existsSync(done)) return [];
  return readdirSync(done)
    .flatMap((f) => readFileSync(join(done, f), "utf8").split("\n").filter(Boolean))
    .sort();
}

describe("a user's TwoPhaseCommitSink under riffle run --state-dir", () => {
  it("survives three SIGKILLs: the committed files hold exactly the uninterrupted output", async () => {
    const refDir = tmp();
    const ref = spawnSync(process.execPath, [BIN, ...args(join(refDir, "state"))], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: env(join(refDir, "out")),
    });
    expect(ref.stderr).toMatch(/two-phase finished/);
    expect(ref.status).toBe(0);
    const expected = committed(join(refDir, "out"));
    const perUser = new Map<string, number>();
    for (let i = 0; i < 60_000; i++) perUser.set(`u${(i * 7919) % 53}`, (perUser.get(`u${(i * 7919) % 53}`) ?? 0) + 1);
    expect(expected.length).toBe([...perUser.values()].reduce((a, n) => a + Math.floor(n / 10), 0));
    expect(new Set(expected).size).toBe(expected.length);

    const dir = tmp();
    const state = join(dir, "state");
    const out = join(dir, "out");
    const rng = seededRandom(Number(process.env.RIFFLE_KILL_SEED ?? 7));
    let kills = 0;
    for (let attempt = 0; attempt < 12 && kills < 3; attempt++) {
      const child: ChildProcess = spawn(process.execPath, [BIN, ...args(state)], { cwd: ROOT, env: env(out) });
      let stderr = "";
      child.stderr?.on("data", (d) => {
        stderr += d;
      });
      let ended = false;
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code) => {
          ended = true;
          resolve(code);
        }),
      );
      const lock = join(state, "run.lock");
      const holds = () => existsSync(lock) && readFileSync(lock, "utf8").trim() === String(child.pid);
      while (!ended && !holds()) await new Promise((r) => setTimeout(r, 10));
      const delay = 100 + Math.floor(rng() * 300);
      const winner = await Promise.race([exited, new Promise<"timer">((r) => setTimeout(() => r("timer"), delay))]);
      if (winner !== "timer") {
        expect(winner, stderr).toBe(0);
        break; // it finished before we killed it
      }
      child.kill("SIGKILL");
      await exited;
      kills++;
    }
    expect(kills).toBe(3);
    const last = spawnSync(process.execPath, [BIN, ...args(state)], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: env(out),
    });
    expect(last.stderr).toMatch(/resuming 'two-phase' from checkpoint/);
    expect(last.status).toBe(0);
    expect(committed(out)).toEqual(expected);
  });
});
