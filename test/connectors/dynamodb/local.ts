/** Helpers of the DynamoDB connector tests on DynamoDB Local: tables, and items read back. */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  paginateScan,
} from "@aws-sdk/client-dynamodb";
import { toWire, type WireItem } from "../../../connectors/dynamodb/wire.ts";

/** A client of DynamoDB Local at `endpoint`. */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "riffle", secretAccessKey: "riffle" },
  });
}

const KEYS: KeySchemaElement[] = [
  { AttributeName: "pk", KeyType: "HASH" },
  { AttributeName: "sk", KeyType: "RANGE" },
];
const ATTRS: AttributeDefinition[] = [
  { AttributeName: "pk", AttributeType: "S" },
  { AttributeName: "sk", AttributeType: "N" },
];

/** Creates table `name` keyed by `pk` (string) and `sk` (number), with a NEW_AND_OLD_IMAGES stream when `stream`. */
export async function createTable(db: DynamoDBClient, name: string, stream = false): Promise<void> {
  await db.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: KEYS,
      AttributeDefinitions: ATTRS,
      BillingMode: "PAY_PER_REQUEST",
      ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" } } : {}),
    }),
  );
}

/** `v` as JSON with attributes in name order and set members sorted: equal for equal items. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries
    .map(
      ([k, x]) =>
        `${JSON.stringify(k)}:${["SS", "NS", "BS"].includes(k) ? canonical([...(x as string[])].sort()) : canonical(x)}`,
    )
    .join(",")}}`;
}

/** Every item of `table` (strongly consistent), in wire form, by `pk/sk`. */
export async function itemsOf(db: DynamoDBClient, table: string): Promise<Map<string, WireItem>> {
  const out = new Map<string, WireItem>();
  for await (const page of paginateScan({ client: db }, { TableName: table, ConsistentRead: true }))
    for (const raw of page.Items ?? []) out.set(`${raw.pk?.S}/${raw.sk?.N}`, toWire(raw));
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
