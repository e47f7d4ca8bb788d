/**
 * The exactly-once Postgres sink against a real Postgres: an epoch's changes fold
 * by key into upserts and deletes, a commit applies them with the progress row in
 * one transaction, and a repeated or older commit changes nothing.
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChangeRecord, postgresSink } from "../../../connectors/postgres/index.ts";
import type { TransactionContext } from "../../../core/api/two-phase-sink.ts";
import { type PostgresServer, startPostgres } from "../../support/postgres.ts";

let server: PostgresServer;
let db: pg.Client;
beforeAll(async () => {
  server = await startPostgres();
  db = await server.connect();
  await db.query("CREATE TABLE out (id int PRIMARY KEY, v text)");
}, 60_000);
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

const ctx = (checkpointId: number): TransactionContext => ({
  job: "j",
  operator: "sink",
  partition: 0,
  generation: 1,
  checkpointId,
});
const rows = async () => (await db.query("SELECT id, v FROM out ORDER BY id")).rows;

describe("postgresSink", () => {
  it("applies an epoch once: a replayed or older commit is a no-op", async () => {
    const sink = postgresSink({ url: server.url, table: "out", key: ["id"] });
    const epoch = (n: number, changes: ChangeRecord[]) => {
      const txn = sink.beginTransaction(ctx(n));
      sink.invoke(txn, changes);
      sink.preCommit(txn);
      return JSON.parse(JSON.stringify(txn)) as typeof txn; // the handle as riffle stores it
    };
    const t5 = epoch(5, [
      { kind: "+I", row: { id: 1, v: "a" } },
      { kind: "+I", row: { id: 2, v: "b" } },
      { kind: "-U", row: { id: 1, v: "a" } },
      { kind: "+U", row: { id: 1, v: "a2" } },
      { kind: "+I", row: { id: 3, v: "c" } },
      { kind: "-D", row: { id: 3, v: "c" } },
    ]);
    expect(await rows()).toEqual([]); // nothing visible before the commit
    sink.commit(t5);
    expect(await rows()).toEqual([
      { id: 1, v: "a2" },
      { id: 2, v: "b" },
    ]);
    await db.query("UPDATE out SET v = 'changed elsewhere' WHERE id = 2");
    sink.commit(t5); // riffle commits again after a restore
    const t4 = epoch(4, [{ kind: "+I", row: { id: 9, v: "old" } }]);
    sink.commit(t4);
    expect(await rows()).toEqual([
      { id: 1, v: "a2" },
      { id: 2, v: "changed elsewhere" },
    ]);
    // A primary-key update (-D old, +I new) and a delete in the next epoch.
    const t6 = epoch(6, [
      { kind: "-D", row: { id: 1, v: "a2" } },
      { kind: "+I", row: { id: 10, v: "a2" } },
      { kind: "-D", row: { id: 2 } },
    ]);
    sink.commit(t6);
    expect(await rows()).toEqual([{ id: 10, v: "a2" }]);
    const progress = await db.query("SELECT job, sink, partition, checkpoint::int FROM riffle_sink_progress");
    expect(progress.rows).toEqual([{ job: "j", sink: "sink", partition: 0, checkpoint: 6 }]);
  });

  it("fails a commit with a riffle error naming the table when the table is missing", () => {
    const sink = postgresSink({ url: server.url, table: "missing", key: ["id"] });
    const txn = sink.beginTransaction({ ...ctx(1), job: "another" });
    sink.invoke(txn, [{ kind: "+I", row: { id: 1 } }]);
    expect(() => sink.commit(txn)).toThrow(/postgres sink: committing: relation "missing" does not exist/);
  });
});
