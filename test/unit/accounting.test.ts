import { Readable } from "node:stream";
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { RequestAccounting } from "../../functions/aws/accounting.ts";
import { sqsClient } from "../../functions/aws/sqs-queue.ts";
import { type LocalSqs, startLocalSqs } from "../../functions/local/sqs-local.ts";
import { sharedDynamoLocal, stopSharedDynamoLocal, uniquePrefix } from "../support/dynamo-local.ts";

const credentials = { accessKeyId: "riffle", secretAccessKey: "riffle" };
const KB = 1024;
/** A string attribute that makes an item `{pk: "<pk>", sk: <n>, v}` about `bytes` bytes long. */
const filler = (bytes: number) => "x".repeat(bytes - 16);

// Emulators start on first use from the tests themselves, so one that cannot start
// fails the tests (with its reason) instead of skipping them.
let fauxqs: Promise<LocalSqs> | undefined;
const sqsEndpoint = async () => {
  fauxqs ??= startLocalSqs();
  return (await fauxqs).endpoint;
};
const dynamoClient = async () =>
  new DynamoDBClient({ region: "us-east-1", endpoint: (await sharedDynamoLocal()).endpoint, credentials });
async function createTable(client: DynamoDBClient): Promise<string> {
  const TableName = uniquePrefix("acct");
  await client.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "N" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  return TableName;
}

afterAll(async () => {
  await (await fauxqs?.catch(() => undefined))?.stop();
  await stopSharedDynamoLocal();
});

describe("RequestAccounting on SQS (fauxqs)", () => {
  it("counts requests, bytes and 64 KB billing chunks by operation", async () => {
    const accounting = new RequestAccounting();
    const sqs = accounting.attach(sqsClient(await sqsEndpoint()));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniquePrefix("q") }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "m".repeat(100 * KB) }));
    const Entries = Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `small message ${i}` }));
    const batch = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
    expect(batch.Successful).toHaveLength(10);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));
    expect(received.Messages?.[0]?.Body).toHaveLength(100 * KB);
    sqs.destroy();

    const s = accounting.snapshot().services.SQS ?? {};
    expect(Object.keys(s).sort()).toEqual(["CreateQueue", "ReceiveMessage", "SendMessage", "SendMessageBatch"]);
    expect(s.SendMessage).toMatchObject({ requests: 1, billedRequests: 2 });
    expect(s.SendMessage?.requestBytes).toBeGreaterThan(100 * KB);
    expect(s.SendMessage?.requestBytes).toBeLessThan(100 * KB + 1000);
    expect(s.SendMessageBatch).toMatchObject({ requests: 1, billedRequests: 1 });
    expect(s.SendMessageBatch?.requestBytes).toBeGreaterThan(10 * "small message 0".length);
    // Its 100 KB payload is in the response; the message it returned is counted.
    expect(s.ReceiveMessage).toMatchObject({ requests: 1, billedRequests: 2, receivedMessages: 1 });
    expect(s.ReceiveMessage?.responseBytes).toBeGreaterThan(100 * KB);
    expect(s.CreateQueue).toMatchObject({ requests: 1, billedRequests: 1 });
    const totals = accounting.snapshot().totals;
    expect(totals).toMatchObject({ requests: 4, billedRequests: 6, readUnits: 0, writeUnits: 0, estimated: false });
    expect(totals.requestBytes).toBe(Object.values(s).reduce((n, o) => n + o.requestBytes, 0));
  });

  it("snapshots as plain JSON and resets", async () => {
    const accounting = new RequestAccounting();
    const sqs = accounting.attach(sqsClient(await sqsEndpoint()));
    await sqs.send(new CreateQueueCommand({ QueueName: uniquePrefix("q") }));
    sqs.destroy();
    const snap = accounting.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(accounting.format()).toMatch(/SQS\s+CreateQueue\s+1\s+1/);
    accounting.reset();
    expect(accounting.snapshot()).toEqual({
      services: {},
      lambda: {},
      stepFunctions: {},
      totals: expect.objectContaining({ requests: 0, requestBytes: 0, lambdaInvocations: 0 }),
    });
  });

  it("counts each client's requests under the origin it was attached with", async () => {
    const accounting = new RequestAccounting();
    const endpoint = await sqsEndpoint();
    const coordinator = accounting.attach(sqsClient(endpoint), "coordinator");
    const task = accounting.attach(sqsClient(endpoint), "task");
    const other = accounting.attach(sqsClient(endpoint));
    expect(accounting.attach(task, "coordinator")).toBe(task); // attached once: the first origin stays
    const { QueueUrl } = await coordinator.send(new CreateQueueCommand({ QueueName: uniquePrefix("q") }));
    await task.send(new SendMessageCommand({ QueueUrl, MessageBody: "x" }));
    await other.send(new SendMessageCommand({ QueueUrl, MessageBody: "y" }));
    for (const c of [coordinator, task, other]) c.destroy();
    expect(accounting.origins()).toEqual(["coordinator", "other", "task"]);
    expect(Object.keys(accounting.snapshot("coordinator").services.SQS ?? {})).toEqual(["CreateQueue"]);
    expect(accounting.snapshot("task").services.SQS?.SendMessage?.requests).toBe(1);
    expect(accounting.snapshot("other").services.SQS?.SendMessage?.requests).toBe(1);
    expect(accounting.snapshot().services.SQS?.SendMessage?.requests).toBe(2);
    expect(accounting.snapshot("nobody").totals.requests).toBe(0);
  });
});

describe("RequestAccounting on DynamoDB (DynamoDB Local)", () => {
  it("injects ReturnConsumedCapacity and adds up write and read units", async () => {
    const accounting = new RequestAccounting();
    const db = accounting.attach(await dynamoClient());
    const TableName = await createTable(db);
    const put = await db.send(
      new PutItemCommand({ TableName, Item: { pk: { S: "a" }, sk: { N: "1" }, v: { S: filler(KB) } } }),
    );
    expect(put.ConsumedCapacity).toEqual({ TableName, CapacityUnits: 1 }); // asked for by the middleware
    await db.send(
      new PutItemCommand({ TableName, Item: { pk: { S: "a" }, sk: { N: "2" }, v: { S: filler(3.5 * KB) } } }),
    );
    const key = { pk: { S: "a" }, sk: { N: "2" } };
    await db.send(new GetItemCommand({ TableName, Key: key })); // eventually consistent: 0.5
    await db.send(new GetItemCommand({ TableName, Key: key, ConsistentRead: true })); // strongly: 1
    db.destroy();

    const s = accounting.snapshot().services.DynamoDB ?? {};
    expect(s.PutItem).toMatchObject({ requests: 2, readUnits: 0, writeUnits: 1 + 4, estimated: false });
    expect(s.GetItem).toMatchObject({ requests: 2, readUnits: 0.5 + 1, writeUnits: 0, estimated: false });
    expect(s.GetItem?.responseBytes).toBeGreaterThan(2 * 3.5 * KB);
    expect(s.CreateTable).toEqual({ requests: 1, requestBytes: expect.any(Number), responseBytes: expect.any(Number) });
  });

  it("bills a transactional write at 2 WCU per KB per item", async () => {
    const accounting = new RequestAccounting();
    const db = accounting.attach(await dynamoClient());
    const TableName = await createTable(db);
    const item = (sk: number, bytes: number) => ({ pk: { S: "t" }, sk: { N: String(sk) }, v: { S: filler(bytes) } });
    const one = await db.send(
      new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName, Item: item(1, 3.5 * KB) } }] }),
    );
    expect(one.ConsumedCapacity).toEqual([{ TableName, CapacityUnits: 8 }]);
    expect(accounting.snapshot().services.DynamoDB?.TransactWriteItems).toMatchObject({
      writeUnits: 8,
      estimated: false,
    });
    // Two 1 KB puts: AWS bills 2 × 2 = 4 WCU; DynamoDB Local reports 2, so the size estimate wins.
    const two = await db.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName, Item: item(2, KB) } }, { Put: { TableName, Item: item(3, KB) } }],
      }),
    );
    expect(two.ConsumedCapacity).toEqual([{ TableName, CapacityUnits: 2 }]);
    db.destroy();
    expect(accounting.snapshot().services.DynamoDB?.TransactWriteItems).toMatchObject({
      requests: 2,
      readUnits: 0,
      writeUnits: 8 + 4,
      estimated: true,
    });
  });

  it("counts a document client's calls once, whether attached to it, its base client, or both", async () => {
    const base = await dynamoClient();
    const TableName = await createTable(base);
    const viaBase = new RequestAccounting();
    const viaDoc = new RequestAccounting();
    viaBase.attach(base);
    const doc = DynamoDBDocumentClient.from(base);
    viaDoc.attach(doc);
    viaBase.attach(doc); // same middleware stack as `base`: no second copy
    await doc.send(new PutCommand({ TableName, Item: { pk: "d", sk: 1, v: filler(3.5 * KB), m: { a: [1, 2] } } }));
    const got = await doc.send(new GetCommand({ TableName, Key: { pk: "d", sk: 1 } }));
    expect(got.Item?.m).toEqual({ a: [1, 2] }); // still unmarshalled for the caller
    await doc.send(
      new QueryCommand({ TableName, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": "d" } }),
    );
    const failed = doc.send(
      new PutCommand({ TableName, Item: { pk: "d", sk: 1 }, ConditionExpression: "attribute_not_exists(pk)" }),
    );
    await expect(failed).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    await base.send(new GetItemCommand({ TableName, Key: { pk: { S: "d" }, sk: { N: "1" } } }));
    base.destroy();

    for (const accounting of [viaBase, viaDoc]) {
      const s = accounting.snapshot().services.DynamoDB ?? {};
      // 4 WCU for the 3.5 KB put + 1 estimated for the failed conditional put (AWS bills it too).
      expect(s.PutItem).toMatchObject({ requests: 2, writeUnits: 5, estimated: true });
      expect(s.GetItem).toMatchObject({ requests: 2, readUnits: 1, estimated: false });
      expect(s.Query).toMatchObject({ requests: 1, readUnits: 0.5, estimated: false });
    }
  });

  it("estimates from item sizes when DynamoDB returns no ConsumedCapacity, and counts unsized bodies", async () => {
    const item = { pk: { S: "a" }, sk: { N: "1" }, v: { S: "x".repeat(9000) } }; // ~9 KB: 3 × 4 KB reads
    const body = JSON.stringify({ Item: item });
    const accounting = new RequestAccounting();
    const db = accounting.attach(
      new DynamoDBClient({
        region: "us-east-1",
        endpoint: "http://127.0.0.1:9",
        credentials,
        requestHandler: {
          // A response without Content-Length: the body is counted as it is read.
          handle: async () => ({
            response: {
              statusCode: 200,
              headers: { "content-type": "application/x-amz-json-1.0" },
              body: Readable.from([Buffer.from(body.slice(0, 100)), Buffer.from(body.slice(100))]),
            },
          }),
        },
      }),
    );
    const out = await db.send(new GetItemCommand({ TableName: "t-fake", Key: { pk: { S: "a" }, sk: { N: "1" } } }));
    expect(out.Item?.v?.S).toHaveLength(9000);
    const strong = new PutItemCommand({ TableName: "t-fake", Item: item });
    await db.send(strong).catch(() => undefined); // the fake answers a GetItem body; the put is still sized
    db.destroy();
    const s = accounting.snapshot().services.DynamoDB ?? {};
    expect(s.GetItem).toMatchObject({ requests: 1, readUnits: 1.5, estimated: true, responseBytes: body.length });
    expect(s.PutItem).toMatchObject({ requests: 1, writeUnits: 9, estimated: true });
  });
});

describe("RequestAccounting: Lambda and per-million figures", () => {
  it("bills duration rounded up to the millisecond and GB-seconds by memory", () => {
    const accounting = new RequestAccounting();
    accounting.recordInvocation("task-a", 12.3, 1024);
    accounting.recordInvocation("task-a", 0.2, 1024);
    accounting.recordInvocation("coordinator-poll", 100, 512);
    const { lambda, totals } = accounting.snapshot();
    expect(lambda["task-a"]).toEqual({ invocations: 2, durationMs: 13 + 1, gbSeconds: expect.closeTo(0.014, 9) });
    expect(lambda["coordinator-poll"]).toEqual({ invocations: 1, durationMs: 100, gbSeconds: expect.closeTo(0.05, 9) });
    expect(totals).toMatchObject({ lambdaInvocations: 3, lambdaDurationMs: 114 });
    const perMillion = accounting.perMillion(1000);
    expect(perMillion.lambdaInvocations).toBe(3000);
    expect(perMillion.lambdaGbSeconds).toBeCloseTo(64, 6);
    expect(() => accounting.perMillion(0)).toThrow(/positive event count, got 0/);
    expect(() => accounting.recordInvocation("x", -1, 128)).toThrow(/invocation of 'x'/);
    const text = accounting.format(1000);
    expect(text).toMatch(/task-a\s+2\s+14\s+0\.014/);
    expect(text).toMatch(/per 1M events\s+3,000\s+114,000\s+64/);
  });

  it("counts Step Functions by workflow type: Standard transitions; Express executions in 100 ms steps at 64 MB", () => {
    const accounting = new RequestAccounting();
    accounting.recordStateTransitions("job-coordinator", "STANDARD", 1, "coordinator");
    accounting.recordStateTransitions("job-coordinator", "STANDARD", 4, "coordinator");
    accounting.recordExecution("job-coordinator", "STANDARD", 1234, "coordinator");
    accounting.recordExecution("job-loop", "EXPRESS", 150); // billed 200 ms
    accounting.recordExecution("job-loop", "EXPRESS", 0); // billed 100 ms
    accounting.recordStateTransitions("job-loop", "EXPRESS", 3);
    const { stepFunctions } = accounting.snapshot();
    expect(stepFunctions["job-coordinator"]).toEqual({
      type: "STANDARD",
      executions: 1,
      transitions: 5,
      durationMs: 1234,
      gbSeconds: 0,
    });
    expect(stepFunctions["job-loop"]).toEqual({
      type: "EXPRESS",
      executions: 2,
      transitions: 3,
      durationMs: 300,
      gbSeconds: expect.closeTo((64 / 1024) * 0.3, 12),
    });
    expect(Object.keys(accounting.snapshot("coordinator").stepFunctions)).toEqual(["job-coordinator"]);
    expect(() => accounting.recordStateTransitions("m", "STANDARD", 1.5)).toThrow(/integer ≥ 0, got 1.5/);
    expect(() => accounting.recordExecution("m", "EXPRESS", -1)).toThrow(/execution of 'm'/);
  });
});
