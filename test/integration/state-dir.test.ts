/**
 * Durable embedded state: a `riffle run --state-dir` killed with SIGKILL at random
 * points and started again commits exactly the output of an uninterrupted run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { killRepeatedly } from "../support/kill-loop.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/kill-job.ts";
const tmp = () => mkdtempSync(join(tmpdir(), "riffle-state-"));

function riffle(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).sort() : []);

describe("riffle run --state-dir", () => {
  it("survives SIGKILL at random points: the final output equals an uninterrupted run", async () => {
    const refDir = tmp();
    const ref = riffle([
      "run",
      JOB,
      "--state-dir",
      join(refDir, "state"),
      "--out",
      join(refDir, "out.jsonl"),
      "--no-progress",
    ]);
    expect(ref.stderr).toMatch(/kill-me finished/);
    expect(ref.code).toBe(0);
    const expected = lines(join(refDir, "out.jsonl"));
    const perUser = new Map<string, number>();
    for (let i = 0; i < 300_000; i++)
      perUser.set(`u${(i * 7919) % 101}`, (perUser.get(`u${(i * 7919) % 101}`) ?? 0) + 1);
    expect(expected.length).toBe([...perUser.values()].reduce((a, n) => a + Math.floor(n / 100) + 1, 0));

    const dir = tmp();
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    const { kills, resumed, finished } = await killRepeatedly({
      job: JOB,
      jobName: "kill-me",
      state,
      out,
      seed: Number(process.env.RIFFLE_KILL_SEED ?? 42),
      kills: 4,
    });
    if (finished) expect(finished.code, finished.stderr).toBe(0); // it finished before we killed it
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(resumed).toBeGreaterThanOrEqual(1); // later runs start from the state dir (timing decides how many got that far)
    const last = riffle(["run", JOB, "--state-dir", state, "--out", out, "--no-progress"]);
    expect(last.stderr).toMatch(/resuming 'kill-me' from checkpoint/);
    expect(last.code).toBe(0);
    expect(lines(out)).toEqual(expected);

    const listed = riffle(["checkpoints", "--state-dir", state]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^job kill-me: \d+ checkpoint\(s\)\nid\s+status\s+triggered\s+duration\s+alignment\s+bytes\s+reason/,
    );
    expect(listed.stdout).toMatch(/completed \(final\)/);
  });

  it("rejects a missing, corrupt or foreign state dir and a missing savepoint, touching nothing", () => {
    const dir = tmp();
    const corrupt = join(dir, "corrupt");
    riffle(["run", "examples/word-count.ts", "--state-dir", join(dir, "wc"), "--no-progress"]);

    const missing = riffle(["checkpoints", "--state-dir", join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`riffle: state dir '${join(dir, "nope")}' does not exist\n`);

    writeFileSync(join(dir, "placeholder"), "");
    const bytes = "this is not a database".repeat(100);
    spawnSync("mkdir", [corrupt]);
    writeFileSync(join(corrupt, "riffle.db"), bytes);
    const bad = riffle(["run", "examples/word-count.ts", "--state-dir", corrupt, "--no-progress"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^riffle: state dir '.*corrupt' is not a riffle state dir/);
    expect(readFileSync(join(corrupt, "riffle.db"), "utf8")).toBe(bytes);

    // A directory of other files is not made a state dir: nothing is written into it.
    const project = join(dir, "project");
    spawnSync("mkdir", [project]);
    writeFileSync(join(project, "notes.txt"), "mine");
    const unrelated = riffle(["run", "examples/word-count.ts", "--state-dir", project, "--no-progress"]);
    expect(unrelated.code).toBe(2);
    expect(unrelated.stderr).toBe(
      `riffle: state dir '${project}' is not a riffle state dir: it has no riffle.db but holds other files (notes.txt); give a new or empty dir\n`,
    );
    expect(readdirSync(project)).toEqual(["notes.txt"]);

    const foreign = riffle(["run", "examples/page-views.ts", "--state-dir", join(dir, "wc"), "--no-progress"]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toBe(
      `riffle: state dir '${join(dir, "wc")}' belongs to job 'word-count', not 'page-views'\n`,
    );

    const nosp = riffle([
      "run",
      "examples/word-count.ts",
      "--state-dir",
      join(dir, "wc"),
      "--from-savepoint",
      "x",
      "--no-progress",
    ]);
    expect(nosp.code).toBe(2);
    expect(nosp.stderr).toBe("riffle: job 'word-count' has no savepoint named 'x' (it has none)\n");

    // A state dir held by a live process (here: this test's own pid) is refused.
    writeFileSync(join(dir, "wc", "run.lock"), String(process.pid));
    const busy = riffle(["run", "examples/word-count.ts", "--state-dir", join(dir, "wc"), "--no-progress"]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toBe(
      `riffle: state dir '${join(dir, "wc")}' is in use by a running riffle (pid ${process.pid})\n`,
    );

    const flags = riffle(["run", "examples/word-count.ts", "--from-savepoint", "x"]);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toBe("riffle: --from-savepoint and --stop-with-savepoint need --state-dir\n");
  });

  it("takes a savepoint offline and restores it at another parallelism", () => {
    const dir = tmp();
    const state = join(dir, "state");
    const job = "examples/page-views.ts";
    const first = riffle(["run", job, "--state-dir", state, "-p", "2", "--no-progress"]);
    expect(first.code).toBe(0);
    const sp = riffle(["savepoint", job, "--state-dir", state, "--name", "done"]);
    expect(sp.stdout).toMatch(/savepoint 'done' of job 'page-views' taken from checkpoint \d+ \(\d+ values\)/);
    const again = riffle(["savepoint", job, "--state-dir", state, "--name", "done"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe("riffle: job 'page-views' already has a savepoint named 'done'\n");
    const listed = riffle(["checkpoints", "--state-dir", state]);
    expect(listed.stdout).toMatch(/savepoints:\n {2}done {2}checkpoint \d+/);
    const rescaled = riffle(["run", job, "--state-dir", state, "--from-savepoint", "done", "-p", "3", "--no-progress"]);
    expect(rescaled.code).toBe(0);
    expect(rescaled.stderr).toMatch(/page-views finished/);
    // A refused run changes nothing, not even bytes past the marker in --out (chaos
    // embedded seed 20: the output store cut them before the parallelism check).
    const out = join(dir, "out.jsonl");
    writeFileSync(out, "written by a run killed before its commit\n");
    const noRescale = riffle(["run", job, "--state-dir", state, "-p", "1", "--out", out, "--no-progress"]);
    expect(noRescale.code).toBe(2);
    expect(noRescale.stderr).toMatch(
      /^riffle: .* last ran with parallelism .* to rescale, take a savepoint and start from it\n$/,
    );
    expect(readFileSync(out, "utf8")).toBe("written by a run killed before its commit\n");
  });
});
