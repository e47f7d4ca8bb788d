/**
 * The DynamoDB CDC source's reader on DynamoDB Local: the changelog it produces
 * (the scan's items as +I, then the stream's +I, -U/+U, -D, each with its key),
 * a position that resumes a new reader without gap or duplicate, and a one-line
 * error naming the fix for a table without a usable stream.
 */
import { DeleteItemCommand, PutItemCommand, UpdateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DynamoChange } from "../../../connectors/dynamodb/changes.ts";
import { DynamoSetupError, dynamodbCdc } from "../../../connectors/dynamodb/index.ts";
import { type DynamoLocal, startDynamoLocal, uniquePrefix } from "../../support/dynamo-local.ts";
import { createTable, localClient } from "./local.ts";

let local: DynamoLocal;
beforeAll(async () => {
  local = await startDynamoLocal({ readyTimeoutMs: 90_000 }); // a loaded machine starts it slowly
}, 120_000);
afterAll(async () => {
  await local?.stop();
});

const context = { job: "t", currentProcessingTime: () => Date.now() };

function reader(table: string, position?: unknown) {
  const source = dynamodbCdc({ table, endpoint: local.endpoint, segments: 2, scanLimit: 2 });
  return source.reader(source.splits(1)[0] as { id: string }, position, context);
}

/** Reads until `n` records came (or 10 s passed); the records and the last position. */
async function readN(r: ReturnType<typeof reader>, n: number) {
  const records: DynamoChange[] = [];
  let position: unknown;
  const deadline = Date.now() + 10_000;
  while (records.length < n && Date.now() < deadline) {
    const chunk = await r.read(100);
    records.push(...chunk.records);
    position = chunk.position;
    if (chunk.records.length === 0) await new Promise((res) => setTimeout(res, 20));
  }
  return { records, position };
}

const brief = (c: DynamoChange) =>
  `${c.kind} ${c.key.sk && "N" in c.key.sk ? c.key.sk.N : "?"} ${JSON.stringify(c.row.v ?? null)}`;

describe("dynamodbCdc on DynamoDB Local", () => {
  it("scans, then streams +I, -U/+U and -D with keys; a new reader resumes at the position", async () => {
    const db = localClient(local.endpoint);
    const table = uniquePrefix("src");
    await createTable(db, table, true);
    const put = (sk: number, v: string) =>
      db.send(new PutItemCommand({ TableName: table, Item: { pk: { S: "a" }, sk: { N: String(sk) }, v: { S: v } } }));
    for (let sk = 1; sk <= 5; sk++) await put(sk, "old");
    const r = reader(table);
    const scanned = await readN(r, 5);
    expect(scanned.records.map(brief).sort()).toEqual([1, 2, 3, 4, 5].map((sk) => `+I ${sk} {"S":"old"}`));
    // The stream was recorded before the scan: the seed's writes are not read again.
    await put(6, "new");
    await put(1, "changed");
    await db.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: "a" }, sk: { N: "2" } } }));
    const streamed = await readN(r, 5);
    expect(streamed.records.map(brief)).toEqual([
      '+I 6 {"S":"new"}',
      '-U 1 {"S":"old"}',
      '+U 1 {"S":"changed"}',
      '-D 2 {"S":"old"}',
    ]);
    expect(streamed.records.every((c) => c.key.pk && "S" in c.key.pk && c.key.pk.S === "a")).toBe(true);
    await r.close?.();
    await put(7, "later");
    const resumed = await readN(reader(table, JSON.parse(JSON.stringify(streamed.position))), 1);
    expect(resumed.records.map(brief)).toEqual(['+I 7 {"S":"later"}']);
    db.destroy();
  }, 60_000);

  it("fails with one line naming the fix for a table without a stream or with a keys-only one", async () => {
    const db = localClient(local.endpoint);
    const table = uniquePrefix("plain");
    await createTable(db, table);
    const plain = reader(table).read(10);
    await expect(plain).rejects.toBeInstanceOf(DynamoSetupError);
    await expect(reader(table).read(10)).rejects.toThrow(/has no stream; enable one with NEW_AND_OLD_IMAGES/);
    await db.send(
      new UpdateTableCommand({
        TableName: table,
        StreamSpecification: { StreamEnabled: true, StreamViewType: "KEYS_ONLY" },
      }),
    );
    await expect(reader(table).read(10)).rejects.toThrow(/view type KEYS_ONLY; CDC needs NEW_AND_OLD_IMAGES/);
    await expect(reader("no-such-table").read(10)).rejects.toThrow(/create the table/);
    db.destroy();
  }, 60_000);
});
