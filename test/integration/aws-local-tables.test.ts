/**
 * Must-show on the AWS emulators: consistent reads of dynamic tables under crashes. A job
 * keeps two tables from one ingested stream (the total per user, the grand total) in
 * DynamoDB Local; `riffle dev --runtime aws-local` is killed with SIGKILL while batches
 * are in flight and started again, and between kills the tables are read many times
 * through the HTTP API: one query over both tables, then a lookup and a snapshot at the
 * checkpoint it reported. Every answer must be consistent at that checkpoint, and the
 * final tables equal the oracle.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../core/ml/random.ts";
import { readTable } from "../../core/tables/read-table.ts";
import { dynamoClient, tableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoTableStore } from "../../functions/aws/dynamo-table-store.ts";
import type { Purchase } from "../fixtures/tables-ingest-job.ts";
import { API_KEY, api, emulators, stopEmulators, until } from "../support/aws-local-harness.ts";
import { uniquePrefix } from "../support/dynamo-local.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const JOB = "test/fixtures/tables-ingest-job.ts";
const BOTH =
  "SELECT g.total AS grand, SUM(u.total) AS users FROM grand g JOIN (SELECT 1 AS one, total FROM per_user) u ON g.id = u.one GROUP BY g.total";

afterAll(stopEmulators);

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

async function startDev(prefix: string, port: number): Promise<{ child: ChildProcess; stderr: () => string }> {
  const { sqs, dynamo } = await emulators();
  const args = ["bin/riffle.js", "dev", JOB, "--runtime", "aws-local", "--port", String(port), "--prefix", prefix];
  const child = spawn(process.execPath, [...args, "-p", "2"], {
    cwd: ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL_SQS: sqs, AWS_ENDPOINT_URL_DYNAMODB: dynamo, RIFFLE_API_KEYS: API_KEY },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await Promise.race([
    until("riffle dev to serve HTTP", () => /HTTP API on/.test(err), 60_000),
    exited.then(() => {
      throw new Error(`riffle dev exited early:\n${err}`);
    }),
  ]);
  return { child, stderr: () => err };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Reads both tables through the HTTP API and checks they agree; the checkpoint read, or undefined before the first. */
async function checkedRead(base: string): Promise<{ checkpoint: number; grand: number } | undefined> {
  const q = await api(base, "/jobs/purchases/query", { body: JSON.stringify({ sql: BOTH }) });
  const body = (await q.json()) as { checkpoint: number; rows: { grand: number; users: number }[]; error?: string };
  if (q.status === 404 && body.error === "no-snapshot") return undefined;
  expect(q.status, JSON.stringify(body)).toBe(200);
  for (const r of body.rows) expect(r.users, `checkpoint ${body.checkpoint}`).toBe(r.grand);
  const at = body.checkpoint;
  const [g, u] = await Promise.all([
    api(base, `/jobs/purchases/tables/grand?key=1&at=${at}`).then((r) => r.json()),
    api(base, `/jobs/purchases/tables/per_user?at=${at}`).then((r) => r.json()),
  ]);
  const grand = ((g as { row: { total: number } | null }).row?.total as number | undefined) ?? 0;
  const users = (u as { rows: { total: number }[] }).rows.reduce((a, r) => a + r.total, 0);
  expect([(g as { checkpoint: number }).checkpoint, (u as { checkpoint: number }).checkpoint]).toEqual([at, at]);
  expect(users, `checkpoint ${at}`).toBe(grand);
  return { checkpoint: at, grand };
}

describe("aws-local: dynamic tables read while riffle dev is killed and restarted", () => {
  it("answer consistently at every reported checkpoint, and end equal to the oracle", async () => {
    const prefix = uniquePrefix("t");
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const rng = seededRandom(16);
    const want = new Map<string, number>();
    const batches: Purchase[][] = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 15 }, (_, i) => {
        const p = { user: `u${(b * 15 + i) % 7}`, amount: 1 + Math.floor(rng() * 9) };
        want.set(p.user, (want.get(p.user) ?? 0) + p.amount);
        return p;
      }),
    );
    const final = [...want.values()].reduce((a, n) => a + n, 0);
    let dev = await startDev(prefix, port);
    let kills = 0;
    const seen = new Set<number>();
    let partial = 0;
    try {
      for (let i = 0; i < batches.length; i++) {
        const res = await api(base, "/jobs/purchases/sources/purchases/events", { body: JSON.stringify(batches[i]) });
        expect(res.status).toBe(202);
        for (let r = 0; r < 3; r++) {
          const read = await checkedRead(base);
          if (read) {
            seen.add(read.checkpoint);
            if (read.grand > 0 && read.grand < final) partial++;
          }
          await new Promise((s) => setTimeout(s, 100));
        }
        if (i % 4 === 3) {
          await new Promise((s) => setTimeout(s, Math.floor(rng() * 200)));
          await kill(dev.child);
          kills++;
          dev = await startDev(prefix, port);
        }
      }
      const store = new DynamoTableStore(dynamoClient((await emulators()).dynamo), tableNames(prefix));
      const ctx = { job: "purchases", store };
      const grandNow = async () => {
        const g = await readTable(ctx, { kind: "lookup", table: "grand", key: ["1"] }).catch(() => undefined);
        return g?.kind === "lookup" ? ((g.row?.total as number | undefined) ?? 0) : 0;
      };
      await until("every purchase in the tables", async () => (await grandNow()) === final, 90_000);
      const users = await readTable(ctx, { kind: "snapshot", table: "per_user" });
      if (users.kind !== "snapshot") throw new Error("snapshot");
      expect(new Map(users.rows.map((r) => [r.user as string, r.total as number]))).toEqual(want);
      expect(await checkedRead(base)).toMatchObject({ grand: final });
      expect(kills).toBe(3);
      expect(seen.size).toBeGreaterThan(3);
      expect(partial).toBeGreaterThan(3);
    } finally {
      await kill(dev.child);
    }
  }, 300_000);
});
