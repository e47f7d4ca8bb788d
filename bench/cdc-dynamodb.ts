/**
 * DynamoDB Streams CDC into the exactly-once DynamoDB sink, on the embedded runtime
 * (parallelism 1, one process) against a DynamoDB Local started for the run; the
 * same three figures as the Postgres part (`cdc.ts`):
 *
 * - snapshot: a table of `rows` items scanned (4 segments) and committed into the
 *   sink table, items/s from the job's start until the sink holds them all;
 * - streaming: every item updated once by 16 concurrent writers, changes/s from
 *   the first write until the sink reflects the last;
 * - latency: single-item puts at 20/s; per item, the time from its put returning to
 *   its visibility in the sink table (polled every 5 ms), checkpoint every second.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { dynamodbCdc, dynamodbSink } from "../connectors/dynamodb/index.ts";
import { defineJob } from "../core/api/environment.ts";
import { startDynamoLocal } from "../functions/local/dynamo-local.ts";
import {
  CDC_CHECKPOINT_MS,
  type CdcFigure,
  cdcFigure,
  measureLatency,
  now,
  runEmbedded,
  waitUntil,
} from "./cdc-shared.ts";

const WRITERS = 16;

async function createTable(db: DynamoDBClient, name: string, stream: boolean): Promise<void> {
  await db.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "N" }],
      BillingMode: "PAY_PER_REQUEST",
      ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" } } : {}),
    }),
  );
}

/** Items of `table` matching `filter` (`n = :n`), counted by a scan. */
async function count(db: DynamoDBClient, table: string, n?: number): Promise<number> {
  let total = 0;
  let start: ScanCommand["input"]["ExclusiveStartKey"];
  do {
    const r = await db.send(
      new ScanCommand({
        TableName: table,
        Select: "COUNT",
        ExclusiveStartKey: start,
        ...(n === undefined
          ? {}
          : { FilterExpression: "n = :n", ExpressionAttributeValues: { ":n": { N: String(n) } } }),
      }),
    );
    total += r.Count ?? 0;
    start = r.LastEvaluatedKey;
  } while (start);
  return total;
}

function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  return waitUntil(check, "cdc bench (DynamoDB)", what, 50);
}

/** Runs `fn(i)` for i in [from, to) on `WRITERS` concurrent loops. */
async function concurrently(from: number, to: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < to) await fn(next++);
    }),
  );
}

/** Runs the three measurements on a fresh DynamoDB Local. */
export async function measureDynamoCdc(rows: number, latencySeconds: number): Promise<CdcFigure> {
  const local = await startDynamoLocal({ readyTimeoutMs: 90_000 });
  const db = new DynamoDBClient({
    region: "us-east-1",
    endpoint: local.endpoint,
    credentials: { accessKeyId: "riffle", secretAccessKey: "riffle" },
  });
  let stopJob: (() => Promise<void>) | undefined;
  try {
    await createTable(db, "src", true);
    await createTable(db, "dst", false);
    await concurrently(0, Math.ceil(rows / 25), async (b) => {
      let req = Array.from({ length: Math.min(25, rows - b * 25) }, (_, i) => ({
        PutRequest: { Item: { id: { N: String(b * 25 + i + 1) }, v: { S: `v${b * 25 + i}` }, n: { N: "0" } } },
      }));
      while (req.length > 0)
        req = ((await db.send(new BatchWriteItemCommand({ RequestItems: { src: req } }))).UnprocessedItems?.src ??
          []) as typeof req;
    });
    const endpoint = local.endpoint;
    const job = defineJob("bench-cdc-dynamodb", (env) => {
      env.enableCheckpointing(CDC_CHECKPOINT_MS);
      env
        .fromSource(dynamodbCdc({ table: "src", endpoint, pollMs: 5 }))
        .addSink(dynamodbSink({ table: "dst", endpoint }));
    });
    const t0 = now();
    stopJob = runEmbedded(job);
    await waitFor(async () => (await count(db, "dst")) === rows, "the snapshot is in the sink");
    const snapshotSeconds = (now() - t0) / 1000;

    const t1 = now();
    await concurrently(1, rows + 1, (id) =>
      db.send(
        new UpdateItemCommand({
          TableName: "src",
          Key: { id: { N: String(id) } },
          UpdateExpression: "SET n = n + :one",
          ExpressionAttributeValues: { ":one": { N: "1" } },
        }),
      ),
    );
    await waitFor(async () => (await count(db, "dst", 1)) === rows, "every update is in the sink");
    const streamingSeconds = (now() - t1) / 1000;

    const latency = await measureLatency(
      {
        write: async (id) => {
          await db.send(
            new PutItemCommand({ TableName: "src", Item: { id: { N: String(id) }, v: { S: "x" }, n: { N: "0" } } }),
          );
        },
        seen: async (ids) => {
          const r = await db.send(
            new BatchGetItemCommand({
              RequestItems: { dst: { Keys: ids.map((id) => ({ id: { N: String(id) } })), ProjectionExpression: "id" } },
            }),
          );
          return (r.Responses?.dst ?? []).map((item) => Number(item.id?.N));
        },
      },
      rows,
      latencySeconds,
      "cdc bench (DynamoDB)",
    );
    return cdcFigure({
      note:
        "embedded runtime, parallelism 1, dynamodbCdc (4 scan segments) → dynamodbSink on DynamoDB Local (in memory) " +
        "sharing the machine; snapshot and streaming rates are end to end, until the sink table holds the items, the " +
        `updates written by ${WRITERS} concurrent writers; latency = put in the source table → visible in the sink ` +
        "table, checkpoint every second",
      rows,
      snapshotSeconds,
      streamingSeconds,
      latency,
    });
  } finally {
    await stopJob?.();
    db.destroy();
    await local.stop();
  }
}

// `node bench/cdc-dynamodb.ts [rows]`: this part alone.
if (import.meta.main) {
  const figure = await measureDynamoCdc(Number(process.argv[2] ?? 5_000), 5);
  process.stdout.write(`${JSON.stringify(figure, null, 2)}\n`);
}
