/**
 * Postgres CDC into the exactly-once Postgres sink, on the embedded runtime
 * (parallelism 1, one process) against a local Postgres started for the run:
 *
 * - snapshot: a table of `rows` rows read by the incremental snapshot and committed
 *   into the sink table, rows/s from the job's start until the sink holds them all;
 * - streaming: every row updated once, in transactions of 100 rows written as fast
 *   as one connection can, changes/s from the first write until the sink reflects
 *   the last;
 * - latency: single-row inserts at 20/s; per row, the time from its commit in the
 *   source table to its visibility in the sink table (polled every 5 ms), with a
 *   checkpoint every second, p50/p99.
 */
import type pg from "pg";
import { postgresCdc, postgresSink } from "../connectors/postgres/index.ts";
import { defineJob } from "../core/api/environment.ts";
import { startPostgres } from "../functions/local/postgres-local.ts";
import {
  CDC_CHECKPOINT_MS,
  type CdcFigure,
  cdcFigure,
  measureLatency,
  now,
  runEmbedded,
  waitUntil,
} from "./cdc-shared.ts";

/** Waits until `sql` (one row, a boolean `ok`) says so. */
function waitFor(db: pg.Client, sql: string, what: string): Promise<void> {
  return waitUntil(async () => (await db.query(sql)).rows[0].ok, "cdc bench", what, 5);
}

/** Runs the three measurements on a fresh Postgres. */
export async function measureCdc(rows: number, latencySeconds: number): Promise<CdcFigure> {
  const server = await startPostgres();
  const db = await server.connect();
  let stopJob: (() => Promise<void>) | undefined;
  try {
    await db.query("CREATE TABLE src (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL, at timestamptz)");
    await db.query("ALTER TABLE src REPLICA IDENTITY FULL");
    await db.query("CREATE TABLE dst (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL, at timestamptz)");
    await db.query("INSERT INTO src SELECT g, md5(g::text), 0, NULL FROM generate_series(1, $1::int) g", [rows]);
    const url = server.url;
    const job = defineJob("bench-cdc", (env) => {
      env.enableCheckpointing(CDC_CHECKPOINT_MS);
      env
        .fromSource(postgresCdc({ url, table: "src", slot: "bench", pollMs: 5 }))
        .addSink(postgresSink({ url, table: "dst", key: ["id"] }));
    });
    const t0 = now();
    stopJob = runEmbedded(job);
    await waitFor(db, `SELECT count(*) = ${rows} AS ok FROM dst`, "the snapshot is in the sink");
    const snapshotSeconds = (now() - t0) / 1000;

    const writer = await server.connect();
    const t1 = now();
    for (let a = 1; a <= rows; a += 100)
      await writer.query("UPDATE src SET n = n + 1 WHERE id BETWEEN $1 AND $2", [a, a + 99]);
    await waitFor(db, `SELECT count(*) = ${rows} AS ok FROM dst WHERE n = 1`, "every update is in the sink");
    const streamingSeconds = (now() - t1) / 1000;

    const latency = await measureLatency(
      {
        write: async (id) => {
          await writer.query("INSERT INTO src VALUES ($1, 'x', 0, now())", [id]);
        },
        seen: async (ids) =>
          (await db.query("SELECT id FROM dst WHERE id = ANY($1::int[])", [ids])).rows.map((r) => r.id as number),
      },
      rows,
      latencySeconds,
      "cdc bench",
    );
    await writer.end();
    return cdcFigure({
      note:
        "embedded runtime, parallelism 1, postgresCdc (chunks of 1024) → postgresSink on a local Postgres 15 (fsync off) " +
        "sharing the machine; snapshot and streaming rates are end to end, until the sink table holds the rows; latency = " +
        "commit in the source table → visible in the sink table, checkpoint every second",
      rows,
      snapshotSeconds,
      streamingSeconds,
      latency,
    });
  } finally {
    await stopJob?.();
    await db.end();
    await server.stop();
  }
}

// `node bench/cdc.ts [rows]`: this part alone.
if (import.meta.main) {
  const figure = await measureCdc(Number(process.argv[2] ?? 20_000), 5);
  process.stdout.write(`${JSON.stringify(figure, null, 2)}\n`);
}
