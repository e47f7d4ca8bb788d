/**
 * The `riffle` CLI as a user runs it: child processes, exit codes, files.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { click } from "../../examples/page-views.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");

function riffle(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), "riffle-cli-"));

describe("riffle run", () => {
  it("runs the demo job twice to byte-identical output files that match the oracle", () => {
    const dir = tmp();
    const a = riffle(["run", "examples/page-views.ts", "--out", join(dir, "a.jsonl"), "-p", "3", "--work-dir", dir]);
    const b = riffle(["run", "examples/page-views.ts", "--out", join(dir, "b.jsonl"), "-p", "3", "--work-dir", dir]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stderr).toMatch(/page-views finished in .* 12 to 'views'/);
    const fa = readFileSync(join(dir, "a.jsonl"), "utf8");
    expect(fa).toBe(readFileSync(join(dir, "b.jsonl"), "utf8"));

    const views = new Map<string, number>();
    for (let i = 0; i < 200_000; i++) {
      const c = click(i);
      if (c.ms < 900) views.set(c.user, (views.get(c.user) ?? 0) + 1);
    }
    const rows = fa
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { sink: string; value: { user: string; views: number } });
    expect(rows.every((r) => r.sink === "views")).toBe(true);
    expect(new Map(rows.map((r) => [r.value.user, r.value.views]))).toEqual(views);
  });

  it("prints a table with --format table", () => {
    const r = riffle(["run", "examples/page-views.ts", "--format", "table", "--work-dir", tmp()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/views \(12 rows\)\nuser\s+views\s+distinctPages\s+topPage/);
  });

  it.each([
    [["run", "examples/page-views.ts", "--bogus"], /^riffle: unknown option '--bogus'\n$/],
    [
      ["run", "examples/page-views.ts", "-p", "0"],
      /^riffle: invalid parallelism '0': expected an integer from 1 to 1024\n$/,
    ],
    [["run", "examples/page-views.ts", "-p", "two"], /^riffle: invalid parallelism 'two'/],
    [["run", "test/fixtures/not-a-job.ts"], /^riffle: 'test\/fixtures\/not-a-job.ts' does not export a job/],
    [["run", "missing.ts"], /^riffle: cannot find job file 'missing.ts'\n$/],
    [["run"], /^riffle: missing required argument 'job'\n$/],
    [["launch"], /^riffle: unknown command 'launch'/],
    [
      ["run", "examples/page-views.ts", "--format", "xml"],
      /^riffle: option '--format <format>' argument 'xml' is invalid/,
    ],
    [
      ["run", "examples/page-views.ts", "--format", "table", "--out", "x.jsonl"],
      /^riffle: --format table prints to stdout/,
    ],
    [
      ["run", "examples/clicks.ts"],
      /^riffle: job 'clicks' reads the ingest source 'clicks', which only the HTTP API feeds: run it with `riffle dev`\n$/,
    ],
    [
      ["run", "test/fixtures/untimed-window.ts"],
      /^riffle: event-time operator 'sums' \(window.reduce\) gets records from source 'elements-0' without event times: /,
    ],
    [["plan", "test/fixtures/untimed-window.ts"], /^riffle: event-time operator 'sums' /],
    [
      ["dev", "examples/clicks.ts", "--runtime", "aws-local", "--state-dir", "x"],
      /^riffle: --state-dir and --from-savepoint apply to --runtime embedded; aws-local resumes by --prefix\n$/,
    ],
    [["dev", "examples/clicks.ts", "--from-savepoint", "x"], /^riffle: --from-savepoint needs --state-dir\n$/],
    [["nexmark", "run", "--query", "q99", "--events", "10"], /^riffle: unknown query 'q99': expected one of q0, /],
    [["nexmark", "run", "--query", "q1"], /^riffle: give exactly one of --events N or --input FILE\n$/],
    [["nexmark", "generate", "--events", "ten"], /^riffle: invalid --events 'ten': expected a non-negative integer\n$/],
    [
      ["nexmark", "run", "--query", "q1", "--input", "test/fixtures/not-nexmark.jsonl"],
      /^riffle: input file 'test\/fixtures\/not-nexmark.jsonl' line 3 is not JSON: Unexpected token/,
    ],
    [
      ["nexmark", "run", "--query", "q1", "--input", "test/fixtures"],
      /^riffle: cannot read input file 'test\/fixtures'/,
    ],
  ])("rejects %j with a one-line error and exit code 2", (args, message) => {
    const r = riffle(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("dead-letters a failing record, finishes the rest, and lists it with `riffle dlq list`", () => {
    const dir = tmp();
    const out = join(dir, "out.jsonl");
    const r = riffle(["run", "test/fixtures/poison-job.ts", "--out", out, "--work-dir", dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/1 record\(s\) dead-lettered; see `riffle dlq list poison-cli`/);
    const values = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).value);
    expect(values).toEqual([100, 200, 300, 500]);
    const list = riffle(["dlq", "list", "poison-cli", "--work-dir", dir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/map-1 {2}after 3 attempts: four is poison\n {4}value: 4\n1 dead letter\(s\)/);
    const json = riffle(["dlq", "list", "test/fixtures/poison-job.ts", "--json", "--work-dir", dir]);
    expect(JSON.parse(json.stdout)).toMatchObject({ operator: "map-1", value: 4, task: "elements-0", partition: 0 });
    expect(riffle(["dlq", "list", "other-job", "--work-dir", dir]).stdout).toBe(
      "no dead letters for job 'other-job'\n",
    );
  });

  it("counts in its summary only records whose commit succeeded", () => {
    const dir = tmp();
    // The dead-letter file is over the file-size limit: the commit that appends the
    // poison record's letter fails (EFBIG), after the records' commit began.
    mkdirSync(join(dir, "poison-cli"));
    writeFileSync(join(dir, "poison-cli", "dlq.jsonl"), "\n".repeat(64 * 1024));
    const args = ["run", "test/fixtures/poison-job.ts", "--out", join(dir, "out.jsonl"), "--work-dir", dir];
    const r = spawnSync("/bin/sh", ["-c", 'ulimit -f 16 && exec "$@"', "sh", process.execPath, BIN, ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/job 'poison-cli' failed: could not commit output to .*EFBIG/);
    expect(r.stderr).toMatch(/poison-cli ended in .* nothing committed/);
  });

  it("commits the same JSON for undefined with and without a state dir, and sets a bigint aside", () => {
    const dir = tmp();
    const job = "test/fixtures/undefined-job.ts";
    const plain = riffle(["run", job, "--work-dir", dir]);
    const durable = riffle(["run", job, "--state-dir", join(dir, "state")]);
    for (const r of [plain, durable]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/1 record\(s\) dead-lettered/);
    }
    expect(plain.stdout).toBe(
      ['{"sink":"out","value":null}', '{"sink":"out","value":{"b":2}}', '{"sink":"out","value":3}', ""].join("\n"),
    );
    expect(durable.stdout).toBe(plain.stdout);
    const letter = riffle(["dlq", "list", job, "--json", "--state-dir", join(dir, "state")]);
    expect(JSON.parse(letter.stdout)).toMatchObject({ value: 4, error: "a sink value must be JSON, got a bigint" });
  });

  it("stops an unbounded job cleanly on Ctrl-C", async () => {
    const dir = tmp();
    const child: ChildProcess = spawn(process.execPath, [BIN, "run", "test/fixtures/unbounded.ts", "--work-dir", dir], {
      cwd: ROOT,
    });
    let lines = 0;
    let tail = "";
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const enough = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no output within 20 s: ${stderr}`)), 20_000);
      child.stdout?.on("data", (d: Buffer) => {
        const text = d.toString();
        for (const ch of text) if (ch === "\n") lines++;
        tail = (tail + text).slice(-4096);
        if (lines > 50) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    await enough;
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(stderr).toMatch(/forever stopped in/);
    const last = tail.trim().split("\n").at(-1) ?? "";
    expect(JSON.parse(last)).toMatchObject({ sink: "sums" }); // no torn line
  });
});

describe("riffle plan", () => {
  it("prints the task graph as text and as JSON", () => {
    const text = riffle(["plan", "examples/page-views.ts", "-p", "4"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("job page-views: 2 tasks, maxParallelism 128");
    expect(text.stdout).toContain("task process-2  ×4  (keyed)");
    expect(text.stdout).toContain("in  ← generator-0 (hash)");
    const json = riffle(["plan", "examples/page-views.ts", "--json"]);
    const plan = JSON.parse(json.stdout);
    expect(plan.tasks.map((t: { id: string }) => t.id)).toEqual(["generator-0", "process-2"]);
    expect(plan.tasks[1].operators.map((o: { kind: string }) => o.kind)).toEqual(["process", "sink"]);
  });
});

describe("riffle nexmark", () => {
  it("generates byte-identical events, and a query over the file equals the query over the generator", () => {
    const dir = tmp();
    const a = riffle(["nexmark", "generate", "--events", "1000", "--seed", "7"]);
    const b = riffle(["nexmark", "generate", "--events", "1000", "--seed", "7"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const kinds = a.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect([kinds.filter((k) => k === "person").length, kinds.filter((k) => k === "auction").length]).toEqual([20, 60]);
    const file = join(dir, "events.jsonl");
    writeFileSync(file, a.stdout);
    const fromFile = riffle(["nexmark", "run", "--query", "q5", "--input", file, "--out", join(dir, "f.jsonl")]);
    const generated = riffle([
      "nexmark",
      "run",
      "--query",
      "q5",
      "--events",
      "1000",
      "--seed",
      "7",
      "-p",
      "2",
      "--out",
      join(dir, "g.jsonl"),
    ]);
    expect(fromFile.code).toBe(0);
    expect(generated.code).toBe(0);
    const rows = (f: string) => readFileSync(join(dir, f), "utf8").trim().split("\n").sort();
    expect(rows("f.jsonl")).toEqual(rows("g.jsonl"));
    expect(rows("f.jsonl").length).toBeGreaterThan(0);
  });
});
