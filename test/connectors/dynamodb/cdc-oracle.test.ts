/**
 * The DynamoDB table is the oracle: a random write workload (puts, replacing puts,
 * updates that set and remove attributes, deletes) runs on table `src` on DynamoDB
 * Local while `riffle run --state-dir` scans it and streams its changes into table
 * `dst` through the exactly-once sink. The job is SIGKILLed once during the scan and
 * once while it streams, and resumed each time; the last run ends once the stream
 * is read to its end, after the workload stopped. Then the two tables are equal,
 * item for item.
 *
 * The scan reads small pages (`scanLimit` 10 per segment), so it spans many of the
 * workload's writes: a snapshot that did not read the stream from before its scan
 * began, or did not pass its rows on before the stream's, would leave stale or
 * missing items in `dst`. DynamoDB Local keeps one shard per stream (it never
 * splits them), so shard lineage is tested over a fake stream (`cdc-reader.test.ts`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DynamoLocal, startDynamoLocal, uniquePrefix } from "../../support/dynamo-local.ts";
import { canonical, createTable, itemsOf, localClient } from "./local.ts";
import { seedTable, startDynamoWorkload } from "./workload.ts";

const ROOT = join(import.meta.dirname, "../../..");
const BIN = join(ROOT, "bin/riffle.js");
const JOB = "test/fixtures/ddb-cdc-job.ts";
const ROWS = 3000;

let local: DynamoLocal;
let db: DynamoDBClient;
beforeAll(async () => {
  local = await startDynamoLocal({ readyTimeoutMs: 90_000 }); // a loaded machine starts it slowly
  db = localClient(local.endpoint);
}, 120_000);
afterAll(async () => {
  db?.destroy();
  await local?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The keys whose items differ between the two tables. */
async function differing(a: string, b: string): Promise<string[]> {
  const [x, y] = await Promise.all([itemsOf(db, a), itemsOf(db, b)]);
  const out: string[] = [];
  for (const k of new Set([...x.keys(), ...y.keys()]))
    if (canonical(x.get(k) ?? null) !== canonical(y.get(k) ?? null)) out.push(k);
  return out;
}

/** A run of the job; resolves its exit code and stderr. */
function runJob(state: string, tables: { src: string; dst: string }, env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, "run", JOB, "--state-dir", state, "--no-progress"], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: "riffle",
      AWS_SECRET_ACCESS_KEY: "riffle",
      AWS_REGION: "us-east-1",
      RIFFLE_DDB_ENDPOINT: local.endpoint,
      RIFFLE_DDB_SRC: tables.src,
      RIFFLE_DDB_DST: tables.dst,
      RIFFLE_DDB_SCAN_LIMIT: "10",
      ...env,
    },
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (c) => {
      code = c;
      resolve(c);
    }),
  );
  return { child, exited, stderr: () => stderr, ended: () => code !== undefined };
}

/** Waits until `check` holds, failing after `ms` with `what`. */
async function until(what: string, check: () => Promise<boolean>, ended: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (ended()) throw new Error(`the job ended while waiting until ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe("DynamoDB Streams CDC into the exactly-once DynamoDB sink", () => {
  it("survives a SIGKILL in the scan and one while streaming: dst equals src item for item", async () => {
    const prefix = uniquePrefix("cdc");
    const tables = { src: `${prefix}-src`, dst: `${prefix}-dst` };
    await createTable(db, tables.src, true);
    await createTable(db, tables.dst);
    await seedTable(db, tables.src, ROWS);
    const workload = startDynamoWorkload(db, tables.src, ROWS, Number(process.env.RIFFLE_KILL_SEED ?? 17));
    const state = join(mkdtempSync(join(tmpdir(), "riffle-ddb-cdc-")), "state");
    const dstSize = async () => (await itemsOf(db, tables.dst)).size;

    // Run 1: killed once part of the scan is committed.
    const first = runJob(state, tables);
    await until("a part of the scan is committed", async () => (await dstSize()) >= 300, first.ended);
    first.child.kill("SIGKILL");
    await first.exited;
    const atKill1 = await dstSize();
    expect(atKill1, "the first kill lands in the scan").toBeLessThan(ROWS / 2);

    // Run 2: resumes the scan, finishes it, and is killed while it streams.
    const second = runJob(state, tables);
    await until(
      "the scan is committed",
      async () => (await differing(tables.src, tables.dst)).length < 100,
      second.ended,
    );
    await sleep(1000);
    second.child.kill("SIGKILL");
    await second.exited;
    expect(second.stderr()).toMatch(/resuming 'ddb-cdc' from checkpoint/);

    // Changes pile up while nothing runs; then the workload stops and the last run reads the stream to its end.
    await sleep(1000);
    await workload.stop();
    const last = runJob(state, tables, { RIFFLE_DDB_STOP_AT_END: "1" });
    const timer = setTimeout(() => last.child.kill("SIGKILL"), 120_000);
    const code = await last.exited;
    clearTimeout(timer);
    expect(last.stderr()).toMatch(/resuming 'ddb-cdc' from checkpoint/);
    expect(code, last.stderr()).toBe(0);

    const { stats } = workload;
    expect(stats.errors).toEqual([]);
    for (const n of [stats.puts, stats.replaces, stats.updates, stats.deletes]) expect(n).toBeGreaterThan(20);
    const [src, dst] = await Promise.all([itemsOf(db, tables.src), itemsOf(db, tables.dst)]);
    expect(src.size).toBeGreaterThan(ROWS / 2);
    expect([...dst.keys()]).toEqual([...src.keys()]);
    expect(await differing(tables.src, tables.dst)).toEqual([]);
  }, 400_000);
});
