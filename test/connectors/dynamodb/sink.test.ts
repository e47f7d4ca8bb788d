/**
 * The exactly-once DynamoDB sink on DynamoDB Local: a commit writes the epoch's
 * last change of each key in TransactWriteItems batches; a commit repeated after a
 * restore (all of it, or the rest of one cut short after its first batch) leaves
 * the batches already applied alone, which a hand-made change to the table shows.
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DynamoChange } from "../../../connectors/dynamodb/changes.ts";
import { DynamoSetupError, type DynamoSinkTxn, dynamodbSink } from "../../../connectors/dynamodb/index.ts";
import type { WireItem } from "../../../connectors/dynamodb/wire.ts";
import { type DynamoLocal, startDynamoLocal, uniquePrefix } from "../../support/dynamo-local.ts";
import { createTable, itemsOf, localClient } from "./local.ts";

let local: DynamoLocal;
beforeAll(async () => {
  local = await startDynamoLocal({ readyTimeoutMs: 90_000 }); // a loaded machine starts it slowly
}, 120_000);
afterAll(async () => {
  await local?.stop();
});

const key = (i: number): WireItem => ({ pk: { S: `k${i % 7}` }, sk: { N: String(i) } });
const put = (i: number, v: string): DynamoChange => ({ kind: "+I", row: { ...key(i), v: { S: v } }, key: key(i) });
const del = (i: number): DynamoChange => ({ kind: "-D", row: key(i), key: key(i) });
const ctx = (checkpointId: number) => ({ job: "j", operator: "sink", partition: 0, generation: 1, checkpointId });

describe("dynamodbSink", () => {
  it("commits an epoch in fenced batches; a repeated commit, whole or after its first batch, changes nothing again", async () => {
    const db = localClient(local.endpoint);
    const table = uniquePrefix("sink");
    await createTable(db, table);
    const sink = dynamodbSink({ table, endpoint: local.endpoint, progressTable: `${table}-progress` });
    const txn = (n: number, changes: DynamoChange[]) => {
      const t = sink.beginTransaction(ctx(n));
      sink.invoke(t, changes);
      sink.preCommit(t);
      return JSON.parse(JSON.stringify(t)) as DynamoSinkTxn;
    };
    const one = Array.from({ length: 250 }, (_, i) => put(i, "one"));
    const t1 = txn(1, [...one, put(3, "again"), { ...put(4, "old"), kind: "-U" }, put(4, "new")]);
    expect(t1.upserts).toHaveLength(250);
    sink.commit(t1);
    const after1 = await itemsOf(db, table);
    expect(after1.size).toBe(250);
    expect(after1.get("k3/3")?.v).toEqual({ S: "again" });

    const manual = async (i: number, v: string) =>
      db.send(new PutItemCommand({ TableName: table, Item: { pk: key(i).pk, sk: key(i).sk, v: { S: v } } as never }));
    await manual(5, "by hand");
    sink.commit(t1); // repeated after a restore: a no-op
    expect((await itemsOf(db, table)).get("k5/5")?.v).toEqual({ S: "by hand" });

    // Checkpoint 2 deletes 0..49 and rewrites 50..249: three batches. Its first batch alone commits first.
    const two = [
      ...Array.from({ length: 50 }, (_, i) => del(i)),
      ...Array.from({ length: 200 }, (_, i) => put(i + 50, "two")),
    ];
    const t2 = txn(2, two);
    sink.commit({ ...t2, upserts: t2.upserts.slice(0, 49) }); // batch 0: the 50 deletes and 49 puts
    await manual(60, "by hand"); // in batch 0
    await manual(200, "by hand"); // in a later batch
    sink.commit(t2);
    sink.commit(t1); // an older checkpoint, repeated: a no-op
    const after2 = await itemsOf(db, table);
    expect(after2.size).toBe(200);
    expect(after2.get("k4/60")?.v, "batch 0 was not applied twice").toEqual({ S: "by hand" });
    expect(after2.get("k4/200")?.v, "the later batches were applied").toEqual({ S: "two" });
    expect([...after2.values()].filter((x) => (x.v as { S: string }).S === "two")).toHaveLength(199);
    db.destroy();
  }, 60_000);

  it("fails with a setup error naming the fix when the table is missing", () => {
    const sink = dynamodbSink({ table: "no-such-table", endpoint: local.endpoint, progressTable: uniquePrefix("p") });
    const t = sink.beginTransaction(ctx(1));
    sink.invoke(t, [put(1, "x")]);
    expect(() => sink.commit(t)).toThrow(DynamoSetupError);
    expect(() => sink.commit(t)).toThrow(/create the table/);
  }, 60_000);
});
