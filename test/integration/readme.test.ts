/**
 * Every TypeScript and shell example in README.md runs, and what the README says it
 * prints is checked. Each block must be claimed by exactly one entry of `HOW` below,
 * so a new or changed example fails here until it runs. Shell blocks run in a scratch
 * directory that links to this repository (files they write land there); `8080`
 * becomes a free port; a command ending in `&` (a `riffle dev`) is started first and
 * waited for. TypeScript blocks are written to `.readme-examples/` (git-ignored), with
 * relative imports from the repository root and `expression; // <JSON>` lines turned
 * into checks, then typechecked and run. Blocks marked `<!-- readme-test: not run,
 * why -->` (they need an AWS account or LocalStack) are only parsed by bash, and the
 * npm scripts they call must exist.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { createTable, itemsOf, localClient } from "../connectors/dynamodb/local.ts";
import { startDynamoLocal } from "../support/dynamo-local.ts";
import { startPostgres } from "../support/postgres.ts";
import { requirePython } from "../support/python-function.ts";
import {
  checkedModule,
  matchesExpected,
  type ReadmeBlock,
  readmeBlocks,
  type ShellCommand,
  shellCommands,
} from "../support/readme-blocks.ts";

const ROOT = join(import.meta.dirname, "../..");
const BLOCKS = readmeBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));
const GEN = join(ROOT, ".readme-examples");
const PATH = `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}`;
const CHECKER = join(ROOT, "test/support/readme-blocks.ts");
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(GEN, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A scratch directory whose entries link to the repository's. */
function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), "riffle-readme-"));
  for (const name of readdirSync(ROOT)) {
    if (name !== ".git" && name !== ".readme-examples") symlinkSync(join(ROOT, name), join(dir, name));
  }
  return dir;
}

const until = async (what: string, ok: () => boolean, ms = 60_000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** Starts a background command (a `riffle dev`) and waits until it serves HTTP. */
async function background(command: string, cwd: string): Promise<{ stdout: () => string[]; stop: () => void }> {
  const child = spawn("bash", ["-c", `exec env ${command}`], { cwd, env: { ...process.env, PATH } });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const serving = () => /HTTP API on|riffle_sdk: listening on/.test(err) || child.exitCode !== null;
  await until(`'${command}' to serve HTTP (stderr: ${err})`, serving);
  if (child.exitCode !== null) throw new Error(`'${command}' exited ${child.exitCode}: ${err}`);
  return { stdout: () => out.split("\n").filter(Boolean), stop: () => child.kill("SIGKILL") };
}

/**
 * The CDC examples: a fresh Postgres with table `orders` (500 rows) and an empty
 * `orders_copy`; `./riffle <args(url)>` runs (with DATABASE_URL set) while orders
 * are updated, re-keyed and deleted, until the copy equals the table both ways.
 */
async function copiesOrders(args: (url: string) => string[]): Promise<void> {
  const pg = await startPostgres();
  const db = await pg.connect();
  try {
    await db.query("CREATE TABLE orders (id int PRIMARY KEY, item text, qty int)");
    await db.query("ALTER TABLE orders REPLICA IDENTITY FULL");
    await db.query("CREATE TABLE orders_copy (id int PRIMARY KEY, item text, qty int)");
    await db.query("INSERT INTO orders SELECT g, 'item' || g, g FROM generate_series(1, 500) g");
    const job = spawn(join(ROOT, "riffle"), args(pg.url), {
      cwd: ROOT,
      env: { ...process.env, PATH, DATABASE_URL: pg.url },
    });
    children.push(job);
    let err = "";
    job.stderr?.on("data", (d) => {
      err += d;
    });
    await db.query("UPDATE orders SET qty = qty + 1 WHERE id % 3 = 0");
    await db.query("UPDATE orders SET id = id + 1000 WHERE id % 7 = 0");
    await db.query("DELETE FROM orders WHERE id % 11 = 0");
    const differ = async () =>
      (
        await db.query(
          "SELECT count(*)::int AS n FROM ((TABLE orders EXCEPT TABLE orders_copy) UNION ALL (TABLE orders_copy EXCEPT TABLE orders)) d",
        )
      ).rows[0].n as number;
    const deadline = Date.now() + 60_000;
    while ((await differ()) > 0) {
      expect(job.exitCode, err).toBeNull();
      expect(Date.now(), `orders_copy never caught up with orders: ${err}`).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    job.kill("SIGKILL");
  } finally {
    await db.end();
    await pg.stop();
  }
}

/**
 * Runs a shell block: background commands first, then the rest in one bash (so
 * variables carry over), each command's output checked against the README's comment.
 */
async function runShell(
  block: ReadmeBlock,
  skip: Record<string, string> = {},
): Promise<{ cwd: string; outputs: string[] }> {
  const cwd = sandbox();
  const port = await freePort();
  const commands = shellCommands(block.code.replace(/\b8080\b/g, String(port)));
  const skipped = commands.filter((c) => skip[c.text] !== undefined).map((c) => c.text);
  expect(skipped.sort(), "every skipped command is in the block").toEqual(Object.keys(skip).sort());
  const servers: { stdout: () => string[]; stop: () => void; command: ShellCommand }[] = [];
  const rest: ShellCommand[] = [];
  for (const c of commands) {
    if (skip[c.text] !== undefined) continue;
    if (c.background) {
      expect(rest, "background commands come first").toEqual([]);
      servers.push({ ...(await background(c.text, cwd)), command: c });
    } else rest.push(c);
  }
  const script = rest.map((c, i) => `printf '\\n@@%d@@\\n' ${i}\n${c.text}`).join("\n");
  const r = spawnSync("bash", ["-e", "-c", script], {
    cwd,
    env: { ...process.env, PATH },
    encoding: "utf8",
    timeout: 240_000,
  });
  expect(r.status, `block at README line ${block.line} failed:\n${r.stderr}\n${r.stdout}`).toBe(0);
  const outputs = r.stdout.split(/\n@@\d+@@\n/).slice(1);
  for (const [i, c] of rest.entries()) {
    if (c.expected === undefined) continue;
    const got = (outputs[i] ?? "").trim();
    expect(matchesExpected(got, c.expected), `'${c.text}' printed ${got}; the README says ${c.expected}`).toBe(true);
    if (c.stdout !== undefined) {
      const want = c.stdout;
      const lines = () => servers.flatMap((s) => s.stdout());
      await until(`a server to print ${want}`, () => lines().some((l) => matchesExpected(l, want)));
    }
  }
  for (const s of servers) s.stop();
  return { cwd, outputs };
}

/** Writes a TypeScript block as a self-checking module in `.readme-examples/`. */
async function writeTs(block: ReadmeBlock): Promise<string> {
  mkdirSync(GEN, { recursive: true });
  const file = join(GEN, `line-${block.line}.ts`);
  writeFileSync(file, checkedModule(block.code, ROOT, await freePort(), CHECKER));
  return file;
}

const riffle = (args: string[], cwd = ROOT) =>
  spawnSync(join(ROOT, "riffle"), args, { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, PATH } });

/** How each README block is run, by a line that identifies it. */
const HOW: Record<string, (block: ReadmeBlock) => Promise<void>> = {
  "npm start               # runs examples/page-views.ts": async (b) => {
    const { outputs } = await runShell(b, {
      "npm ci": "installing: this test runs in the installed tree (a CI run does it: .ci/run)",
      "npm test": "the test suite this test is part of",
    });
    expect(outputs[0]).toMatch(/views/);
  },
  "// examples/word-count.ts": async (b) => {
    const example = readFileSync(join(ROOT, "examples/word-count.ts"), "utf8");
    expect(example.split("\n").slice(1).join("\n").trim()).toBe(b.code.split("\n").slice(1).join("\n").trim());
    const r = riffle(["run", await writeTs(b), "--no-progress"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(10);
  },
  "// examples/cdc-orders.ts": async (b) => {
    const example = readFileSync(join(ROOT, "examples/cdc-orders.ts"), "utf8");
    expect(example.trim()).toBe(b.code.trim());
    const file = await writeTs(b);
    const state = mkdtempSync(join(tmpdir(), "riffle-readme-cdc-"));
    await copiesOrders(() => ["run", file, "--state-dir", state, "--no-progress"]);
  },
  "./riffle sql examples/sql/cdc-orders.sql --define DATABASE_URL=": async (b) => {
    // The ```sql block that starts with the file's name is the example file, verbatim.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const sql = /```sql\n(-- examples\/sql\/cdc-orders\.sql[\s\S]*?)```/.exec(readme)?.[1];
    expect(sql).toBe(readFileSync(join(ROOT, "examples/sql/cdc-orders.sql"), "utf8"));
    const args = b.code.trim().split(/\s+/).slice(1);
    expect(args.slice(0, 3)).toEqual(["sql", "examples/sql/cdc-orders.sql", "--define"]);
    await copiesOrders((url) => [...args.slice(0, 3), `DATABASE_URL=${url}`, "--no-progress"]);
  },
  "// examples/cdc-dynamodb.ts": async (b) => {
    const example = readFileSync(join(ROOT, "examples/cdc-dynamodb.ts"), "utf8");
    expect(example.trim()).toBe(b.code.trim());
    const local = await startDynamoLocal({ readyTimeoutMs: 90_000 });
    const db = localClient(local.endpoint);
    try {
      await createTable(db, "carts", true);
      await createTable(db, "carts_copy");
      const put = (sk: number, qty: number) =>
        db.send(
          new PutItemCommand({
            TableName: "carts",
            Item: { pk: { S: `c${sk % 9}` }, sk: { N: String(sk) }, qty: { N: String(qty) } },
          }),
        );
      for (let sk = 1; sk <= 200; sk++) await put(sk, sk);
      const file = await writeTs(b);
      const state = mkdtempSync(join(tmpdir(), "riffle-readme-ddb-"));
      const job = spawn(join(ROOT, "riffle"), ["run", file, "--state-dir", state, "--no-progress"], {
        cwd: ROOT,
        env: {
          ...process.env,
          PATH,
          AWS_ENDPOINT_URL: local.endpoint,
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "riffle",
          AWS_SECRET_ACCESS_KEY: "riffle",
        },
      });
      children.push(job);
      let err = "";
      job.stderr?.on("data", (d) => {
        err += d;
      });
      for (let sk = 1; sk <= 200; sk += 3) await put(sk, 1000 + sk);
      for (let sk = 2; sk <= 200; sk += 11)
        await db.send(
          new DeleteItemCommand({ TableName: "carts", Key: { pk: { S: `c${sk % 9}` }, sk: { N: String(sk) } } }),
        );
      const same = async () =>
        JSON.stringify([...(await itemsOf(db, "carts"))]) === JSON.stringify([...(await itemsOf(db, "carts_copy"))]);
      const deadline = Date.now() + 90_000;
      while (!(await same())) {
        expect(job.exitCode, err).toBeNull();
        expect(Date.now(), `carts_copy never caught up with carts: ${err}`).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 200));
      }
      job.kill("SIGKILL");
    } finally {
      db.destroy();
      await local.stop();
    }
  },
  "// examples/ml-clicks.ts": async (b) => {
    expect(readFileSync(join(ROOT, "examples/ml-clicks.ts"), "utf8").trim()).toBe(b.code.trim());
    await writeTs(b); // typechecked with the others
  },
  "./riffle run examples/ml-clicks.ts --out ml.jsonl --no-progress": async (b) => {
    const { cwd } = await runShell(b);
    const scored = readFileSync(join(cwd, "ml.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.includes('"sink":"scored"'))
      .map((l) => (JSON.parse(l) as { value: { id: number; label: number; prediction: number; model: number } }).value);
    expect(scored.map((r) => r.id).sort((x, y) => x - y)).toEqual(Array.from({ length: 40_000 }, (_, i) => i));
    expect(scored.every((r) => r.model >= 1 && r.model <= 4)).toBe(true);
    expect(scored.filter((r) => r.prediction === r.label).length / scored.length).toBeGreaterThan(0.95);
  },
  'import { impression } from "./examples/ml-clicks.ts";': async (b) => {
    const r = spawnSync(process.execPath, [await writeTs(b)], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  },
  "./riffle run examples/word-count.ts --out counts.jsonl": async (b) => {
    const { cwd } = await runShell(b);
    const rows = readFileSync(join(cwd, "counts.jsonl"), "utf8").split("\n").filter(Boolean);
    expect(rows).toContain('{"sink":"counts","value":{"word":"be","count":2}}');
  },
  'defineJob("typed-counts"': async (b) => {
    const r = riffle(["run", await writeTs(b), "--no-progress"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual([1, 1, 2].map((n) => `{"sink":"counts","value":${n}}`));
  },
  'defineJob("weighted"': async (b) => {
    const r = riffle(["run", await writeTs(b), "--no-progress"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual([
      '{"sink":"scores","value":"ada: 9"}',
      '{"sink":"scores","value":"bob: -3"}',
    ]);
  },
  'import { OperatorHarness } from "riffle/testing";': async (b) => {
    const r = spawnSync(process.execPath, [await writeTs(b)], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  },
  'defineJob("clicks"': async (b) => {
    const port = await freePort();
    const file = await writeTs(b);
    const dev = await background(`env RIFFLE_API_KEYS=k ./riffle dev ${file} --port ${port}`, ROOT);
    const res = await fetch(`http://127.0.0.1:${port}/jobs/clicks/sources/clicks/events`, {
      method: "POST",
      headers: { "x-api-key": "k", "content-type": "application/json" },
      body: JSON.stringify([
        { user: "ada", page: "/a", ts: 1 },
        { user: "ada", page: "nope" },
      ]),
    });
    expect(res.status).toBe(422); // the schema refuses the second record, so neither is ingested
    await fetch(`http://127.0.0.1:${port}/jobs/clicks/sources/clicks/events`, {
      method: "POST",
      headers: { "x-api-key": "k", "content-type": "application/json" },
      body: JSON.stringify([{ user: "ada", page: "/a", ts: 1 }]),
    });
    await until("the click to commit", () => dev.stdout().length > 0);
    expect(dev.stdout()).toEqual(['{"sink":"counts","value":{"user":"ada","n":1}}']);
    dev.stop();
  },
  "RIFFLE_API_KEYS=dev-key ./riffle dev examples/clicks.ts --port 8080 &\ncurl": async (b) => {
    await runShell(b);
  },
  "RIFFLE_API_KEYS=ui-key ./riffle dev examples/clicks.ts --port 8080 &": async (b) => {
    const { outputs } = await runShell(b);
    expect(outputs[0]?.trim()).toBe("200 text/html; charset=utf-8");
    expect(outputs[1]?.split("\n").slice(0, 2)).toEqual(["retry: 1000", "event: snapshot"]);
  },
  "What `riffle dev` does for the embedded runtime": async (b) => {
    const r = spawnSync(process.execPath, [await writeTs(b)], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  },
  "KEY=dev-key; API=http://127.0.0.1:8080": async (b) => {
    await runShell(b);
  },
  'defineJob("configured"': async (b) => {
    const file = await writeTs(b);
    const plan = riffle(["plan", file]);
    expect(plan.stdout).toMatch(/task map-1 {2}×2/);
    const r = riffle(["run", file, "--no-progress"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(3);
  },
  "// examples/remote-count.ts": async (b) => {
    // Run by the shell block below it; here: the file is the block, verbatim.
    expect(readFileSync(join(ROOT, "examples/remote-count.ts"), "utf8").trim()).toBe(b.code.trim());
  },
  "python3 -m riffle_sdk functions 8080 &": async (b) => {
    // The ```python block above is the functions file, verbatim; the ```text block after is the output.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const python = /```python\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(python).toBe(readFileSync(join(ROOT, "examples/remote/functions.py"), "utf8"));
    requirePython();
    const printed = /riffle_sdk functions 8080 &[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)?.[1];
    const { outputs } = await runShell(b);
    expect(outputs[0]?.trim()).toBe(printed?.trim());
  },
  "./riffle sql examples/sql/busy-auctions.sql --format table --no-progress": async (b) => {
    // The ```sql block above it is the example file, verbatim.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const sql = /```sql\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(sql).toBe(readFileSync(join(ROOT, "examples/sql/busy-auctions.sql"), "utf8"));
    const { outputs } = await runShell(b);
    expect(outputs[0]).toMatch(/busy_auctions \(6 rows\)\nauction\s+bids\s+top_price\s+window_end/);
    expect(outputs[1]).toMatch(/WindowAggregate\(groupBy=\[auction, window_start, window_end\].*changelogMode=\[I\]/);
  },
  "./riffle run examples/warehouse/warehouse.ts --state-dir wh": async (b) => {
    const { outputs } = await runShell(b);
    expect(outputs[1]).toMatch(/warehouse at checkpoint \d+ \(4 rows\)\nregion\s+orders\s+sales\n/);
    expect(outputs[1]).toMatch(/\neast\s+1086\s+27148\n/);
    expect(outputs[2]?.trim()).toBe('{"orders":4343}');
  },
  "node examples/warehouse/correction.ts": async (b) => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const lines = (await runShell(b)).outputs[0]?.split("\n") ?? [];
    const said = [...readme.matchAll(/`(\{"(?:currency|region)":[^`]*\})`/g)];
    expect(said).toHaveLength(4);
    for (const s of said) {
      const want = s[1] as string;
      const where = want.startsWith('{"currency":"EUR","rate":92') || want.includes("1522772") ? "before" : "after";
      const hit = lines.findIndex((l) => l.endsWith(want));
      expect(hit, `${want} printed`).toBeGreaterThan(-1);
      expect(hit < lines.findIndex((l) => l.startsWith("DWD stopped")) ? "before" : "after", want).toBe(where);
    }
  },
  "npm run synth -- --job examples/clicks.ts --stage prod --parallelism 2": async (b) => {
    const { outputs } = await runShell(b);
    expect(outputs[0]).toMatch(/template: .*prod-riffle-clicks\.template\.json/);
  },
};

/** Blocks that are not run: bash must parse them, and the npm scripts they call must exist. */
function checkNotRun(block: ReadmeBlock): void {
  const parsed = spawnSync("bash", ["-n", "-c", block.code], { encoding: "utf8" });
  expect(parsed.status, parsed.stderr).toBe(0);
  const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;
  for (const m of block.code.matchAll(/npm run (\S+)/g)) expect(Object.keys(scripts)).toContain(m[1]);
}

describe("README examples", () => {
  it("has a way to run every block, and every way matches a block", () => {
    const claims = BLOCKS.filter((b) => !b.notRun).map((b) => Object.keys(HOW).filter((k) => b.code.includes(k)));
    for (const [i, c] of claims.entries()) expect(c, `README block at line ${BLOCKS[i]?.line}`).toHaveLength(1);
    expect(claims.flat().sort()).toEqual(Object.keys(HOW).sort());
    expect(BLOCKS.filter((b) => b.notRun).map((b) => b.notRun)).toEqual([
      "needs an AWS account",
      "needs an AWS account",
      "needs an AWS account",
      "needs LocalStack on port 4566",
      "needs an AWS account",
    ]);
  });

  it("typechecks every TypeScript block", async () => {
    for (const b of BLOCKS) if (b.lang === "ts" && !b.notRun) await writeTs(b);
    writeFileSync(
      join(GEN, "tsconfig.json"),
      JSON.stringify({ extends: "../tsconfig.json", include: ["*.ts"], compilerOptions: { noUnusedLocals: false } }),
    );
    const r = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["-p", GEN], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 180_000);

  for (const block of BLOCKS) {
    const first = block.code.split("\n").find((l) => l.trim() !== "") ?? "";
    const name = `line ${block.line} (${block.lang}): ${first.slice(0, 60)}`;
    if (block.notRun) {
      it(`${name} parses (not run: ${block.notRun})`, () => checkNotRun(block));
      continue;
    }
    const how = Object.entries(HOW).find(([k]) => block.code.includes(k))?.[1];
    it(name, async () => {
      expect(how, "a way to run it").toBeDefined();
      await (how as (b: ReadmeBlock) => Promise<void>)(block);
    }, 300_000);
  }
});
