/**
 * The worker thread behind `SyncPostgres`: runs each request's statements in one
 * transaction on its own connection, posts the result and wakes the waiting thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";
import type { SyncReply, SyncRequest } from "./sync-postgres.ts";

const { url, port, flag } = workerData as {
  url: string;
  port: import("node:worker_threads").MessagePort;
  flag: Int32Array;
};
let client: pg.Client | undefined;

async function connected(): Promise<pg.Client> {
  if (client) return client;
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {
    client = undefined; // reconnect on the next request
  });
  await c.connect();
  await c.query("SET synchronous_commit = on");
  client = c;
  return c;
}

async function run(req: SyncRequest): Promise<SyncReply> {
  const c = await connected();
  await c.query("BEGIN");
  try {
    const rows: unknown[][] = [];
    for (const [i, st] of req.statements.entries()) {
      const r = await c.query(st.text, st.values);
      rows.push(r.rows);
      if (i === req.guard && r.rowCount === 0) {
        await c.query("ROLLBACK");
        return { ok: true, applied: false, rows };
      }
    }
    await c.query("COMMIT");
    return { ok: true, applied: true, rows };
  } catch (e) {
    await c.query("ROLLBACK").catch(() => {
      client = undefined;
    });
    throw e;
  }
}

port.on("message", (req: SyncRequest) => {
  run(req)
    .catch((e: unknown): SyncReply => {
      const err = e as { message?: string; code?: string };
      return { ok: false, message: err.message ?? String(e), code: err.code };
    })
    .then((reply) => {
      port.postMessage(reply);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
});
parentPort?.postMessage("ready");
