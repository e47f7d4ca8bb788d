/**
 * Must-show: consistent reads of dynamic tables under crashes (embedded runtime). A job
 * keeps two riffle tables from one stream, the total per user and the grand total;
 * `riffle run --state-dir` is killed with SIGKILL at random points and started again,
 * while this test queries both tables over and over through a read-only connection to
 * the same state dir. Every answer must be consistent at the checkpoint it reports
 * (the per-user totals sum to the grand total), and the final tables equal an oracle.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStateDir, type StateDir } from "../../core/durable/sqlite-db.ts";
import { seededRandom } from "../../core/ml/random.ts";
import { readTable } from "../../core/tables/read-table.ts";
import { PURCHASES, purchase } from "../fixtures/tables-job.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/tables-job.ts";
const args = (state: string, out: string) => ["run", JOB, "--state-dir", state, "-o", out, "--no-progress"];
// A 1 ms pause every 4 records: a run lasts at least ~5 s even on a quiet machine, room for three kills.
const env = { ...process.env, RIFFLE_TABLES_PACE: "4" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One query that reads both tables, and the two read separately at the checkpoint it reported. */
const BOTH =
  "SELECT g.total AS grand, SUM(u.total) AS users FROM grand g JOIN (SELECT 1 AS one, total FROM per_user) u ON g.id = u.one GROUP BY g.total";

interface Checked {
  answers: number;
  checkpoints: Set<number>;
  partial: number;
}

/** Queries the tables in `state` until `stop()`; every answer is checked. `seen` grows as it goes. */
function queryWhileRunning(
  state: string,
  stop: () => boolean,
  final: number,
): { done: Promise<Checked>; seen: Set<number> } {
  const checked: Checked = { answers: 0, checkpoints: new Set(), partial: 0 };
  return { done: readLoop(state, stop, final, checked), seen: checked.checkpoints };
}

async function readLoop(state: string, stop: () => boolean, final: number, checked: Checked): Promise<Checked> {
  let sd: StateDir | undefined;
  try {
    while (!stop()) {
      await sleep(15);
      if (!sd) {
        if (!existsSync(join(state, "riffle.db"))) continue;
        try {
          sd = openStateDir(state, { create: false, job: "consistency", readOnly: true });
        } catch {
          continue; // the first run is still creating it
        }
      }
      const ctx = { job: "consistency", store: sd.tableStore };
      const both = await readTable(ctx, { kind: "query", sql: BOTH }).catch((e: Error) => e);
      if (both instanceof Error) {
        if (/no table snapshot yet/.test(both.message)) continue;
        throw both;
      }
      if (both.kind !== "query") throw new Error("not a query answer");
      const at = { at: both.checkpoint };
      const [grand, users] = await Promise.all([
        readTable(ctx, { kind: "lookup", table: "grand", key: ["1"], at }),
        readTable(ctx, { kind: "snapshot", table: "per_user", at }),
      ]);
      if (grand.kind !== "lookup" || users.kind !== "snapshot") throw new Error("wrong answers");
      const g = (grand.row?.total as number | undefined) ?? 0;
      const sum = users.rows.reduce((a, r) => a + (r.total as number), 0);
      expect(grand.checkpoint).toBe(both.checkpoint);
      expect(sum, `checkpoint ${both.checkpoint}`).toBe(g);
      for (const r of both.rows) expect(r.users, `checkpoint ${both.checkpoint}`).toBe(r.grand);
      if (both.rows.length === 1) expect(both.rows[0]?.grand).toBe(g);
      checked.answers++;
      checked.checkpoints.add(both.checkpoint);
      if (g > 0 && g < final) checked.partial++;
    }
  } finally {
    sd?.close();
  }
  return checked;
}

describe("dynamic tables read while riffle run is killed and resumed", () => {
  it("answer consistently at every reported checkpoint, and end equal to the oracle", async () => {
    const oracle = new Map<string, number>();
    for (let i = 0; i < PURCHASES; i++) {
      const p = purchase(i);
      oracle.set(p.user, (oracle.get(p.user) ?? 0) + p.amount);
    }
    const final = [...oracle.values()].reduce((a, n) => a + n, 0);
    const dir = mkdtempSync(join(tmpdir(), "riffle-tables-"));
    const state = join(dir, "state");
    const out = join(dir, "out.jsonl");
    let done = false;
    const reader = queryWhileRunning(state, () => done, final);
    const newest = () => Math.max(0, ...reader.seen);

    const rng = seededRandom(Number(process.env.RIFFLE_KILL_SEED ?? 16));
    let kills = 0;
    try {
      for (let attempt = 0; attempt < 12 && kills < 3; attempt++) {
        const child: ChildProcess = spawn(process.execPath, [BIN, ...args(state, out)], { cwd: ROOT, env });
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
        // Kill once this run has sealed a new checkpoint (a loaded machine starts it slowly), a little later.
        const before = newest();
        while (!ended && newest() <= before) await sleep(20);
        const delay = Math.floor(rng() * 1500);
        const winner = await Promise.race([exited, sleep(delay).then(() => "timer" as const)]);
        if (winner !== "timer") {
          expect(winner, stderr).toBe(0);
          break;
        }
        child.kill("SIGKILL");
        await exited;
        kills++;
      }
      // The last run goes to the end; the reader goes on meanwhile (no spawnSync).
      const last = spawn(process.execPath, [BIN, ...args(state, out)], { cwd: ROOT, env });
      let stderr = "";
      last.stderr?.on("data", (d) => {
        stderr += d;
      });
      const code = await new Promise<number | null>((resolve) => last.on("exit", (c) => resolve(c)));
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/resuming 'consistency' from checkpoint/);
    } finally {
      done = true;
    }
    const checked = await reader.done;
    expect(kills).toBe(3);
    expect(checked.answers).toBeGreaterThan(20);
    expect(checked.checkpoints.size).toBeGreaterThan(3);
    expect(checked.partial).toBeGreaterThan(3); // answers taken mid-stream, not only at the end

    const sd = openStateDir(state, { create: false, job: "consistency", readOnly: true });
    try {
      const ctx = { job: "consistency", store: sd.tableStore };
      const users = await readTable(ctx, { kind: "snapshot", table: "per_user" });
      if (users.kind !== "snapshot") throw new Error("snapshot");
      expect(new Map(users.rows.map((r) => [r.user as string, r.total as number]))).toEqual(oracle);
      const grand = await readTable(ctx, { kind: "lookup", table: "grand", key: ["1"] });
      expect(grand).toMatchObject({ row: { id: 1, total: final } });
    } finally {
      sd.close();
    }
    // The CLI reads the same state dir.
    const cli = spawnSync(
      process.execPath,
      [BIN, "query", "SELECT SUM(total) AS s FROM per_user", "--state-dir", state],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual({ s: final });
    expect(cli.stderr).toMatch(/^riffle: consistency at checkpoint \d+/);
  }, 300_000);
});
