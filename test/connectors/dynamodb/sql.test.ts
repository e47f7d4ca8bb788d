/**
 * The SQL connectors `dynamodb-cdc` and `dynamodb` (registered by `riffle/dynamodb`):
 * on DynamoDB Local, `riffle sql` copies a table's scan and stream, projected and
 * filtered, into another table exactly once, ending once the stream is read to its
 * end.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteItemCommand, type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DynamoLocal, startDynamoLocal, uniquePrefix } from "../../support/dynamo-local.ts";
import { createTable, itemsOf, localClient } from "./local.ts";

const ROOT = join(import.meta.dirname, "../../..");

let local: DynamoLocal;
let db: DynamoDBClient;
beforeAll(async () => {
  local = await startDynamoLocal({ readyTimeoutMs: 90_000 });
  db = localClient(local.endpoint);
}, 120_000);
afterAll(async () => {
  db?.destroy();
  await local?.stop();
});

describe("SQL dynamodb-cdc and dynamodb connectors", () => {
  it("copies a table's items and changes, projected and filtered, into another table exactly once", async () => {
    const src = uniquePrefix("sqlsrc");
    const dst = uniquePrefix("sqldst");
    await createTable(db, src, true);
    await createTable(db, dst);
    const put = (sk: number, qty: number) =>
      db.send(
        new PutItemCommand({
          TableName: src,
          Item: { pk: { S: `c${sk % 5}` }, sk: { N: String(sk) }, qty: { N: String(qty) }, note: { S: `n${sk}` } },
        }),
      );
    for (let sk = 1; sk <= 120; sk++) await put(sk, sk % 10);
    for (let sk = 1; sk <= 120; sk += 4) await put(sk, 7); // updates: some rows enter the filter, some stay
    for (let sk = 2; sk <= 120; sk += 9) await put(sk, 0); // and some leave it
    for (let sk = 3; sk <= 120; sk += 13)
      await db.send(new DeleteItemCommand({ TableName: src, Key: { pk: { S: `c${sk % 5}` }, sk: { N: String(sk) } } }));
    const file = join(mkdtempSync(join(tmpdir(), "riffle-sql-ddb-")), "job.sql");
    writeFileSync(
      file,
      `CREATE TABLE carts (pk VARCHAR, sk INT, qty INT, note VARCHAR) WITH (
         'connector' = 'dynamodb-cdc', 'table-name' = '${src}', 'endpoint' = '${local.endpoint}',
         'region' = 'us-east-1', 'scan.stop-at-end' = 'true');
       CREATE TABLE big (pk VARCHAR, sk INT, qty INT, PRIMARY KEY (pk, sk) NOT ENFORCED) WITH (
         'connector' = 'dynamodb', 'table-name' = '${dst}', 'endpoint' = '${local.endpoint}', 'region' = 'us-east-1',
         'sink.progress-table' = '${dst}-progress');
       INSERT INTO big SELECT pk, sk, qty FROM carts WHERE qty >= 5;`,
    );
    const r = spawnSync(process.execPath, ["bin/riffle.js", "sql", file, "--no-progress"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, AWS_ACCESS_KEY_ID: "riffle", AWS_SECRET_ACCESS_KEY: "riffle" },
    });
    expect(r.status, r.stderr).toBe(0);
    const want = new Map(
      [...(await itemsOf(db, src))]
        .filter(([, item]) => Number((item.qty as { N: string }).N) >= 5)
        .map(([k, { pk, sk, qty }]) => [k, { pk, sk, qty }]),
    );
    const got = await itemsOf(db, dst);
    expect(want.size).toBeGreaterThan(40);
    expect([...got]).toEqual([...want]);
  }, 180_000);
});
