/**
 * Regressions of the state dir found by hostile testing: what an operator does to a
 * stopped or failing `riffle run --state-dir` must lose nothing and double nothing,
 * or be refused with one clear line that changes nothing.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/kill-job.ts";
const REPRO = join(ROOT, "test/fixtures/repro-compacted-through");
const tmp = () => mkdtempSync(join(tmpdir(), "riffle-recovery-"));

function riffle(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).sort() : []);

/**
 * Runs `args` until its job has committed output (the state dir's progress marker
 * changed) and `ms` more have passed, then sends `signal`; resolves with the exit
 * code and stderr. Waiting for progress, not wall time, keeps it right on a busy machine.
 */
async function runFor(args: string[], state: string, ms: number, signal: NodeJS.Signals) {
  const marker = join(state, "output.json");
  const before = existsSync(marker) ? readFileSync(marker, "utf8") : undefined;
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      done = true;
      resolve(code);
    }),
  );
  while (!done && (!existsSync(marker) || readFileSync(marker, "utf8") === before)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!done) await new Promise((r) => setTimeout(r, ms));
  if (!done) child.kill(signal);
  return { code: await exited, stderr };
}

let expected: string[] = [];
beforeAll(() => {
  const dir = tmp();
  const ref = riffle(["run", JOB, "--state-dir", join(dir, "s"), "--out", join(dir, "out.jsonl"), "--no-progress"]);
  expect(ref.code, ref.stderr).toBe(0);
  expected = lines(join(dir, "out.jsonl"));
  expect(expected.length).toBeGreaterThan(3000);
}, 120_000);

describe("riffle run --state-dir: recovery", () => {
  it("resumes the state dir whose final checkpoint's cut had moved back below what compaction folded", () => {
    const dir = tmp();
    const state = join(dir, "state");
    mkdirSync(state);
    for (const f of ["riffle.db", "output.json"]) copyFileSync(join(REPRO, f), join(state, f));
    const out = join(dir, "out.jsonl");
    const committed = (JSON.parse(readFileSync(join(state, "output.json"), "utf8")) as { outBytes: number }).outBytes;
    writeFileSync(out, `${"x".repeat(committed - 1)}\n`); // stands in for what the interrupted run had written
    const job = join(ROOT, "test/fixtures/repro-compacted-through/job.ts");
    const r = riffle(["run", job, "-p", "3", "--state-dir", state, "--out", out, "--no-progress"]);
    expect(r.stderr).toMatch(/resuming 'c7-eo' from checkpoint 32/);
    expect(r.stderr).toMatch(/c7-eo finished/);
    expect(r.code, r.stderr).toBe(0);
  });

  it("refuses a deleted or emptied riffle.db when the output says the job ran, and changes nothing", () => {
    const dir = tmp();
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    expect(riffle(["run", JOB, "--state-dir", state, "--out", out, "--no-progress"]).code).toBe(0);
    const before = readFileSync(out, "utf8");
    for (const damage of ["delete", "truncate"] as const) {
      if (damage === "delete") rmSync(join(state, "riffle.db"));
      else writeFileSync(join(state, "riffle.db"), "");
      const r = riffle(["run", JOB, "--state-dir", state, "--out", out, "--no-progress"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/has committed output of job 'kill-me' .* but its riffle\.db is (missing|empty)/);
      expect(readFileSync(out, "utf8")).toBe(before);
      // Nothing changed: a deleted riffle.db is not created, an emptied one stays empty.
      if (damage === "delete") expect(existsSync(join(state, "riffle.db"))).toBe(false);
      else expect(statSync(join(state, "riffle.db")).size).toBe(0);
    }
  });

  it("refuses a deleted riffle.db after a savepoint restore reset the published marks (found by the chaos fuzzer)", () => {
    const dir = tmp();
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    expect(riffle(["run", JOB, "--state-dir", state, "--out", out, "--no-progress"]).code).toBe(0);
    // What a savepoint restore writes before its first checkpoint: no marks, the files' committed lengths.
    const marker = JSON.parse(readFileSync(join(state, "output.json"), "utf8")) as { outBytes: number };
    expect(marker.outBytes).toBeGreaterThan(0);
    writeFileSync(join(state, "output.json"), JSON.stringify({ ...marker, cut: {} }));
    rmSync(join(state, "riffle.db"));
    const r = riffle(["run", JOB, "--state-dir", state, "--out", out, "--no-progress", "--from-savepoint", "x"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/has committed output of job 'kill-me' .* but its riffle\.db is missing/);
    expect(existsSync(join(state, "riffle.db"))).toBe(false);
  });

  it("a rerun of a --from-savepoint run with the same flags resumes from its last checkpoint", async () => {
    const dir = tmp();
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    const base = ["run", JOB, "--state-dir", state, "--out", out, "--no-progress"];
    const first = await runFor([...base, "--stop-with-savepoint", "half"], state, 300, "SIGTERM");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/kill-me stopped/);
    const restored = await runFor([...base, "--from-savepoint", "half"], state, 300, "SIGTERM");
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).not.toMatch(/resuming/);
    expect(restored.stderr).toMatch(/kill-me stopped/);
    const again = riffle([...base, "--from-savepoint", "half"]);
    expect(again.stderr).toMatch(/resuming 'kill-me' from checkpoint/);
    expect(again.code, again.stderr).toBe(0);
    expect(lines(out)).toEqual(expected);
  });
});

describe("riffle run --state-dir: a changed uid", () => {
  it("is reported as a changed uid, not as a rescale, on resume and on a savepoint restore", () => {
    const state = join(tmp(), "state");
    const job = "test/fixtures/uid-job.ts";
    const run = (uid: string, extra: string[] = []) => {
      const r = spawnSync(process.execPath, [BIN, "run", job, "--state-dir", state, "--no-progress", ...extra], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, RIFFLE_TEST_UID: uid },
      });
      return { code: r.status, stderr: r.stderr };
    };
    expect(run("summer").code).toBe(0);
    const resumed = run("adder");
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(/cannot resume from its last run: operator uid 'summer' is gone and 'adder' is new/);
    expect(resumed.stderr).not.toMatch(/rescale/);
    expect(riffle(["savepoint", job, "--state-dir", state, "--name", "y"]).code).toBe(0);
    const restored = run("adder", ["--from-savepoint", "y"]);
    expect(restored.code).toBe(2);
    expect(restored.stderr).toMatch(
      /savepoint 'y' holds state the job has no operator for: operator uid 'summer' is gone/,
    );
  });
});

describe("riffle run --out on a full disk", () => {
  const mnt = join(tmpdir(), `riffle-full-${process.pid}`);
  beforeAll(() => {
    mkdirSync(mnt, { recursive: true });
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=32k", "tmpfs", mnt], { encoding: "utf8" });
    if (m.status !== 0) throw new Error(`this test needs root to mount a small tmpfs: ${m.stderr}`);
  });
  afterAll(() => {
    spawnSync("umount", [mnt]);
  });

  it("commits no short write: the run fails clearly, and after space is freed the rerun completes the output exactly", () => {
    const state = join(tmp(), "state");
    const out = join(mnt, "out.jsonl");
    const args = ["run", JOB, "--state-dir", state, "--out", out, "--no-progress"];
    const full = riffle(args);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/could not commit output to .*out\.jsonl: .*ENOSPC/);
    const marker = JSON.parse(readFileSync(join(state, "output.json"), "utf8")) as { outBytes: number };
    expect(statSync(out).size).toBe(marker.outBytes);
    for (const l of lines(out)) expect(() => JSON.parse(l)).not.toThrow();
    expect(spawnSync("mount", ["-o", "remount,size=4m", mnt]).status).toBe(0);
    const rerun = riffle(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(lines(out)).toEqual(expected);
  });
});
