/**
 * `riffle savepoint` and `riffle checkpoints` as a user runs them (child processes):
 * a savepoint asked of a running job is checked before the job is asked, and the
 * listing works on a read-only state dir.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const tmp = () => mkdtempSync(join(tmpdir(), "riffle-cp-"));

function riffle(args: string[], o: { uid?: number; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...o.env },
    ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.uid }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Savepoint names listed by `riffle checkpoints`. */
function savepointNames(state: string): string[] {
  const listed = riffle(["checkpoints", "--state-dir", state]);
  expect(listed.code, listed.stderr).toBe(0);
  const [, tail = ""] = listed.stdout.split("\nsavepoints:\n");
  return tail
    .split("\n")
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/)[0] as string);
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("riffle savepoint of a running job", () => {
  it("refuses a taken name and another job's file before asking the running job", async () => {
    const dir = tmp();
    const state = join(dir, "state");
    const job = "test/fixtures/unbounded.ts";
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, "run", job, "--state-dir", state, "--out", join(dir, "out.jsonl"), "--no-progress"],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      await until("the run lock", () => existsSync(join(state, "run.lock")));
      const first = riffle(["savepoint", job, "--state-dir", state, "--name", "a"]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^savepoint 'a' of job 'forever' taken at checkpoint \d+ by pid \d+\n$/);

      const again = riffle(["savepoint", job, "--state-dir", state, "--name", "a"]);
      expect([again.code, again.stdout, again.stderr]).toEqual([
        2,
        "",
        "riffle: job 'forever' already has a savepoint named 'a'\n",
      ]);

      const foreign = riffle(["savepoint", "examples/word-count.ts", "--state-dir", state, "--name", "b"]);
      expect([foreign.code, foreign.stderr]).toEqual([
        2,
        `riffle: state dir '${state}' belongs to job 'forever', not 'word-count'\n`,
      ]);
      expect(existsSync(join(state, "requests", "b.savepoint"))).toBe(false);

      // A later savepoint completes after anything asked before it.
      expect(riffle(["savepoint", job, "--state-dir", state, "--name", "c"]).code).toBe(0);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited, stderr).toBe(0);
    expect(savepointNames(state)).toEqual(["a", "c"]);
  });
});

describe("riffle savepoint of a job that stops first", () => {
  it("answers once the job has exited, not after its timeout, and takes back its request", async () => {
    const dir = tmp();
    const state = join(dir, "state");
    const job = "test/fixtures/unbounded.ts";
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, "run", job, "--state-dir", state, "--out", join(dir, "out.jsonl"), "--no-progress"],
      { cwd: ROOT, stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    await until("the run lock", () => existsSync(join(state, "run.lock")));
    child.kill("SIGSTOP"); // it cannot serve the request
    const t0 = Date.now();
    const asked = spawn(process.execPath, [BIN, "savepoint", job, "--state-dir", state, "--name", "late"], {
      cwd: ROOT,
    });
    let stderr = "";
    asked.stderr.on("data", (d) => {
      stderr += d;
    });
    const answered = new Promise<number | null>((resolve) => asked.on("exit", resolve));
    await until("the request", () => existsSync(join(state, "requests", "late.savepoint")));
    child.kill("SIGKILL");
    await exited;
    expect(await answered).toBe(2);
    expect(Date.now() - t0).toBeLessThan(30_000); // its timeout is 60 s
    expect(stderr).toMatch(
      /^riffle: the job \(pid \d+\) stopped before it took savepoint 'late'; nothing was taken\n$/,
    );
    expect(existsSync(join(state, "requests", "late.savepoint"))).toBe(false);
  }, 60_000);
});

describe("riffle savepoint from the last checkpoint", () => {
  it("refuses a job whose uid changed, naming the uid, instead of leaving its state out", () => {
    const dir = tmp();
    const state = join(dir, "state");
    const job = "test/fixtures/uid-job.ts";
    expect(riffle(["run", job, "--state-dir", state, "--no-progress"]).code).toBe(0);
    const renamed = riffle(["savepoint", job, "--state-dir", state, "--name", "x"], {
      env: { RIFFLE_TEST_UID: "adder" },
    });
    expect(renamed.code).toBe(2);
    expect(renamed.stderr).toMatch(
      /^riffle: job 'uid-job' cannot take savepoint 'x' from checkpoint \d+: operator uid 'summer' is gone and 'adder' is new: a uid changed/,
    );
    expect(renamed.stderr.trim().split("\n")).toHaveLength(1);
    expect(savepointNames(state)).toEqual([]);
    const same = riffle(["savepoint", job, "--state-dir", state, "--name", "x"]);
    expect(same.stdout).toMatch(/taken from checkpoint \d+ \(2 values\)/);
  });
});

describe("riffle checkpoints", () => {
  it("lists a read-only state dir and writes nothing into it", () => {
    const dir = tmp();
    const state = join(dir, "state");
    const run = riffle(["run", "examples/word-count.ts", "--state-dir", state, "--no-progress"]);
    expect(run.code, run.stderr).toBe(0);
    const before = readdirSync(state).sort();
    for (const f of before) chmodSync(join(state, f), 0o444);
    chmodSync(state, 0o555);
    chmodSync(dir, 0o755);
    // root ignores file modes: read as nobody then.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const listed = riffle(["checkpoints", "--state-dir", state], uid === undefined ? {} : { uid });
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^job word-count: \d+ checkpoint\(s\)\n/);
    expect(listed.stdout).toMatch(/completed \(final\)/);
    expect(readdirSync(state).sort()).toEqual(before);
  });

  it("says why a job failed: a plain map that returned a Promise fails `riffle run` at once, naming the operator", () => {
    const state = join(tmp(), "state");
    const run = riffle(["run", "test/fixtures/promise-map-job.ts", "--state-dir", state, "--no-progress"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/operator 'lookup': map returned a Promise.*AsyncDataStream/);
    expect(run.stderr).not.toMatch(/restart|dead.letter/i);
    const listed = riffle(["checkpoints", "--state-dir", state]);
    expect(listed.code, listed.stderr).toBe(0);
    const [head, failed] = listed.stdout.split("\n");
    expect(head).toMatch(/^job promise-map: \d+ checkpoint\(s\)$/);
    expect(failed).toMatch(/^failed: job 'promise-map' failed: .*operator 'lookup': map returned a Promise/);
  });
});
