/**
 * Batched DynamoDB requests within their limits: BatchGetItem (100 keys per call),
 * BatchWriteItem (25 requests per call), both retrying what DynamoDB left
 * unprocessed with exponential backoff; paginated queries; bounded concurrency.
 */

import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { mapLimit } from "../../core/concurrency.ts";
import { RiffleError } from "../../core/errors.ts";
import { backoff, dynamoCall } from "./dynamo-client.ts";

export { mapLimit };

/** Most keys in one BatchGetItem. */
export const BATCH_GET_MAX = 100;
/** Most requests in one BatchWriteItem. */
export const BATCH_WRITE_MAX = 25;
/** Batch calls in flight at once. */
const PARALLEL = 8;
/** Attempts for keys or items DynamoDB leaves unprocessed (throttling). */
const UNPROCESSED_ATTEMPTS = 10;

/** A primary key. */
export interface Key {
  readonly pk: string;
  readonly sk: string;
  readonly [attribute: string]: unknown;
}
/** An item as the document client returns it. */
export type Item = Record<string, unknown> & { pk: string; sk: string };

/** A write of a batch: put an item or delete a key. */
export type WriteRequest = { readonly put: Item } | { readonly delete: Key };

const keyOf = (k: { pk: string; sk: string }) => `${k.pk}\n${k.sk}`;

/**
 * Reads `keys` of `table` (duplicates allowed) with BatchGetItem, 100 per call,
 * retrying unprocessed keys. Resolves with the items found, by `pk\nsk`.
 */
export async function batchGetAll(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: readonly { pk: string; sk: string }[],
  options: { consistent?: boolean } = {},
): Promise<Map<string, Item>> {
  const unique = new Map<string, { pk: string; sk: string }>();
  for (const k of keys) unique.set(keyOf(k), { pk: k.pk, sk: k.sk });
  const all = [...unique.values()];
  const chunks: { pk: string; sk: string }[][] = [];
  for (let i = 0; i < all.length; i += BATCH_GET_MAX) chunks.push(all.slice(i, i + BATCH_GET_MAX));
  const found = new Map<string, Item>();
  await mapLimit(chunks, PARALLEL, async (chunk) => {
    let pending: Record<string, unknown>[] = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > UNPROCESSED_ATTEMPTS) {
        throw new RiffleError(
          "dynamo-unprocessed",
          `BatchGetItem on ${table}: ${pending.length} keys still unprocessed after ${UNPROCESSED_ATTEMPTS} attempts (throttled)`,
          { retryable: true },
        );
      }
      if (attempt > 1) await backoff(25 * 2 ** Math.min(attempt, 8));
      const request = { [table]: { Keys: pending, ConsistentRead: options.consistent ?? true } };
      const out = await dynamoCall(`BatchGetItem of ${pending.length} keys on ${table}`, () =>
        doc.send(new BatchGetCommand({ RequestItems: request })),
      );
      for (const item of out.Responses?.[table] ?? []) found.set(keyOf(item as Item), item as Item);
      pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  });
  return found;
}

/**
 * Applies `requests` to `table` with BatchWriteItem, 25 per call, retrying
 * unprocessed items. Of several requests on one key only the last is applied
 * (DynamoDB refuses two in one call). Not atomic: a failure leaves a prefix applied.
 */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  const last = new Map<string, WriteRequest>();
  for (const r of requests) {
    const k = keyOf("put" in r ? r.put : r.delete);
    last.delete(k);
    last.set(k, r);
  }
  const all = [...last.values()].map((r) =>
    "put" in r ? { PutRequest: { Item: r.put } } : { DeleteRequest: { Key: { pk: r.delete.pk, sk: r.delete.sk } } },
  );
  const chunks: (typeof all)[] = [];
  for (let i = 0; i < all.length; i += BATCH_WRITE_MAX) chunks.push(all.slice(i, i + BATCH_WRITE_MAX));
  await mapLimit(chunks, PARALLEL, async (chunk) => {
    let pending: unknown[] = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > UNPROCESSED_ATTEMPTS) {
        throw new RiffleError(
          "dynamo-unprocessed",
          `BatchWriteItem on ${table}: ${pending.length} writes still unprocessed after ${UNPROCESSED_ATTEMPTS} attempts (throttled)`,
          { retryable: true },
        );
      }
      if (attempt > 1) await backoff(25 * 2 ** Math.min(attempt, 8));
      const out = await dynamoCall(`BatchWriteItem of ${pending.length} writes on ${table}`, () =>
        doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } })),
      );
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  });
}

/** The pages of a query (strongly consistent unless the input says otherwise). */
export async function* queryPages(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  what: string,
): AsyncGenerator<Item[]> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoCall(what, () =>
      doc.send(new QueryCommand({ ConsistentRead: true, ...input, ...(start ? { ExclusiveStartKey: start } : {}) })),
    );
    yield (page.Items ?? []) as Item[];
    start = page.LastEvaluatedKey;
  } while (start);
}

/** Every item a query returns, all pages. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput, what: string): Promise<Item[]> {
  const out: Item[] = [];
  for await (const page of queryPages(doc, input, what)) out.push(...page);
  return out;
}

/** Deletes every item of partition key `pk` in `table`, except those whose sort key `keep` holds. */
export async function deletePartition(
  doc: DynamoDBDocumentClient,
  table: string,
  pk: string,
  keep: (sk: string) => boolean = () => false,
): Promise<void> {
  const input = {
    TableName: table,
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": pk },
    ProjectionExpression: "pk, sk",
  };
  for await (const page of queryPages(doc, input, `Query ${pk} on ${table} (to delete it)`)) {
    await batchWriteAll(
      doc,
      table,
      page.filter((i) => !keep(String(i.sk))).map((i) => ({ delete: { pk: i.pk, sk: i.sk } })),
    );
  }
}
