/**
 * The worker thread behind `dynamodbSink`: writes a transaction handle in
 * `TransactWriteItems` batches fenced by the sink partition's progress item (see
 * `sink.ts`), and creates the progress table on first use when it is missing.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { serveSync } from "../shared/sync-call.ts";
import { clientConfig, type DynamoEndpoint } from "./api.ts";
import type { DynamoCommitRequest, DynamoCommitResult } from "./sink.ts";
import { fromWire, type WireItem } from "./wire.ts";

const MAX_ITEMS = 99; // TransactWriteItems takes 100 actions: 99 writes and the progress update
const MAX_BYTES = 3_500_000; // under its 4 MB

let client: DynamoDBClient | undefined;
const ready = new Set<string>();

async function ensureProgressTable(db: DynamoDBClient, table: string): Promise<void> {
  if (ready.has(table)) return;
  try {
    await db.send(new DescribeTableCommand({ TableName: table }));
  } catch (e) {
    if ((e as { name?: string }).name !== "ResourceNotFoundException") throw e;
    try {
      await db.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
    } catch (c) {
      if ((c as { name?: string }).name !== "ResourceInUseException") throw c; // another partition created it
    }
    await waitUntilTableExists({ client: db, maxWaitTime: 60 }, { TableName: table });
  }
  ready.add(table);
}

/** The handle's writes, deletes first, cut into batches that fit one transaction. */
function batches(table: string, deletes: WireItem[], puts: WireItem[]): TransactWriteItem[][] {
  const writes: { item: TransactWriteItem; bytes: number }[] = [
    ...deletes.map((k) => ({
      item: { Delete: { TableName: table, Key: fromWire(k) } },
      bytes: JSON.stringify(k).length,
    })),
    ...puts.map((p) => ({ item: { Put: { TableName: table, Item: fromWire(p) } }, bytes: JSON.stringify(p).length })),
  ];
  const out: TransactWriteItem[][] = [];
  let cur: TransactWriteItem[] = [];
  let size = 0;
  for (const w of writes) {
    if (cur.length > 0 && (cur.length >= MAX_ITEMS || size + w.bytes > MAX_BYTES)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(w.item);
    size += w.bytes;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The progress update of batch `b`: applies only over an earlier (checkpoint, batch). */
function progress(req: DynamoCommitRequest, b: number): TransactWriteItem {
  const { txn } = req;
  return {
    Update: {
      TableName: req.progressTable,
      Key: { id: { S: `${txn.job}/${txn.sink}/${txn.partition}` } },
      UpdateExpression: "SET ckpt = :c, #b = :b",
      ConditionExpression: "attribute_not_exists(id) OR ckpt < :c OR (ckpt = :c AND #b < :b)",
      ExpressionAttributeNames: { "#b": "batch" },
      ExpressionAttributeValues: { ":c": { N: String(txn.checkpoint) }, ":b": { N: String(b) } },
    },
  };
}

async function commit(req: DynamoCommitRequest, where: DynamoEndpoint): Promise<DynamoCommitResult> {
  client ??= new DynamoDBClient({ ...clientConfig(where), maxAttempts: 8 });
  await ensureProgressTable(client, req.progressTable);
  let applied = 0;
  let skipped = 0;
  for (const [b, writes] of batches(req.table, req.txn.deletes, req.txn.upserts).entries()) {
    try {
      await client.send(new TransactWriteItemsCommand({ TransactItems: [progress(req, b), ...writes] }));
      applied++;
    } catch (e) {
      const fenced =
        e instanceof TransactionCanceledException && e.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed";
      if (!fenced) throw e;
      skipped++; // this batch (or a later checkpoint) was applied already
    }
  }
  return { applied, skipped };
}

serveSync(commit);
