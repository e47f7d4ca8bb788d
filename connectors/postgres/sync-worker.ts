/**
 * The worker thread behind `SyncPostgres`: runs each request's statements in one
 * transaction on its own connection and answers with the result.
 */
import pg from "pg";
import { serveSync } from "../shared/sync-call.ts";
import type { SyncRequest, SyncResult } from "./sync-postgres.ts";

let client: pg.Client | undefined;

async function connected(url: string): Promise<pg.Client> {
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

async function run(req: SyncRequest, config: { url: string }): Promise<SyncResult> {
  const c = await connected(config.url);
  await c.query("BEGIN");
  try {
    const rows: unknown[][] = [];
    for (const [i, st] of req.statements.entries()) {
      const r = await c.query(st.text, st.values);
      rows.push(r.rows);
      if (i === req.guard && r.rowCount === 0) {
        await c.query("ROLLBACK");
        return { applied: false, rows };
      }
    }
    await c.query("COMMIT");
    return { applied: true, rows };
  } catch (e) {
    await c.query("ROLLBACK").catch(() => {
      client = undefined;
    });
    throw e;
  }
}

serveSync(run);
