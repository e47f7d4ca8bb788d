/**
 * The {@link IngestLog} port on DynamoDB, in the ingest table. A partition
 * (`pk = <job>#<source>#<partition>`) holds record items only (`ingest-packs.ts`):
 * `i<first:15>`, a compressed pack of consecutive records `{ first, last, b }` keyed
 * by its FIRST seq, or part 0 of a record larger than an item (`{ first, last, k, b }`,
 * parts 1.. at `i<first:15>.<i:3>`).
 *
 * An append claims the key of its first seq, `i<head + 1>`, with a conditional write
 * (`attribute_not_exists`). The keys of the log are exactly 1 and every pack's
 * `last + 1`, so an appender whose head is stale finds that key taken, reads the
 * head again (the last item) and retries: ranges are gapless and never overlap. A
 * typical append is ONE `PutItem` of one compressed item (a write unit for a few KB
 * of JSON); one of several items (over 350 KB compressed) is one `TransactWriteItems`
 * of conditional puts, at most 100 items and 3.85 MB. There is no head item: the head
 * is the `last` of the partition's last item.
 *
 * A read after `after` queries forward from `i<after + 1>`; when `after` falls inside
 * a pack (an earlier read stopped at `max` in the middle of one) it also reads the
 * one item before that key.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import type { AppendedRange, IngestedRecord, IngestLog } from "../../core/ports/ingest-log.ts";
import { queryPages } from "./dynamo-batch.ts";
import { ITEM_CHUNK_BYTES } from "./dynamo-chunks.ts";
import {
  backoff,
  conditionalCall,
  documentClient,
  dynamoCall,
  keyPart,
  type TableNames,
  transactCall,
} from "./dynamo-client.ts";
import { PACK_PREFIX, type Pack, PackDecoder, packKey, packRecords, type StoredPack } from "./ingest-packs.ts";

/** Record items one append may write (a transaction holds 100 items). */
export const INGEST_MAX_ITEMS = 100;
/** Compressed bytes one append may write (a transaction holds 4 MB). */
export const INGEST_MAX_BYTES = 11 * ITEM_CHUNK_BYTES;
/** Attempts of an append that keeps losing its key to concurrent appends. */
const APPEND_ATTEMPTS = 60;

/** An append larger than one DynamoDB transaction. */
export class IngestTooLargeError extends RiffleError {
  constructor(what: string, items: number, bytes: number) {
    super(
      "ingest-too-large",
      `${what}: ${bytes} bytes of compressed JSON in ${items} items, over one DynamoDB transaction ` +
        `(${INGEST_MAX_ITEMS} items, ${INGEST_MAX_BYTES} bytes): append fewer or smaller records at a time`,
    );
  }
}

/** The DynamoDB ingest log (every job in one table). */
export class DynamoIngestLog implements IngestLog {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  /** Partition key → head last seen by this instance (a guess; the condition decides). */
  private readonly heads = new Map<string, number>();

  constructor(client: DynamoDBClient, tables: TableNames) {
    this.doc = documentClient(client);
    this.table = tables.ingest;
  }

  private pk(job: string, source: string, partition: number): string {
    return `${keyPart("job id", job)}#${keyPart("source", source)}#${partition}`;
  }

  async append(job: string, source: string, partition: number, values: readonly unknown[]): Promise<AppendedRange> {
    const what = `append of ${values.length} records to ${source}[${partition}] of job '${job}'`;
    if (values.length === 0) {
      const head = await this.head(job, source, partition);
      return { first: head + 1, last: head };
    }
    const pk = this.pk(job, source, partition);
    const lines = values.map((v) => Buffer.from(JSON.stringify(v) ?? "null", "utf8"));
    let head = this.heads.get(pk) ?? (await this.head(job, source, partition));
    for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt++) {
      const packs = packRecords(lines, head);
      const bytes = packs.reduce((n, p) => n + p.b.length, 0);
      if (packs.length > INGEST_MAX_ITEMS || bytes > INGEST_MAX_BYTES)
        throw new IngestTooLargeError(what, packs.length, bytes);
      const written = await this.claim(pk, packs, what);
      const last = head + values.length;
      if (written === "ok") {
        this.heads.set(pk, last);
        return { first: head + 1, last };
      }
      if (written === "busy") await backoff(Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
      head = await this.head(job, source, partition);
    }
    throw new RiffleError("ingest-contended", `${what}: lost its key to concurrent appends ${APPEND_ATTEMPTS} times`, {
      retryable: true,
    });
  }

  /** Writes `packs` if their keys are free: "taken" when another append holds one, "busy" on a transaction conflict. */
  private async claim(pk: string, packs: readonly Pack[], what: string): Promise<"ok" | "taken" | "busy"> {
    const put = (p: Pack) => ({
      TableName: this.table,
      Item: { pk, sk: p.sk, first: p.first, last: p.last, ...(p.part ? { k: p.part.k } : {}), b: p.b },
      ConditionExpression: "attribute_not_exists(pk)",
    });
    if (packs.length === 1) {
      const r = await conditionalCall(`PutItem of the ${what}`, () =>
        this.doc.send(new PutCommand(put(packs[0] as Pack))),
      );
      return r.ok ? "ok" : "taken";
    }
    const r = await transactCall(`TransactWriteItems of the ${what}`, () =>
      this.doc.send(new TransactWriteCommand({ TransactItems: packs.map((p) => ({ Put: put(p) })) })),
    );
    if (r.ok) return "ok";
    if (r.reasons.some((x) => x.Code === "ConditionalCheckFailed")) return "taken";
    if (r.reasons.some((x) => x.Code === "TransactionConflict")) return "busy";
    const codes = r.reasons.map((x) => x.Code ?? "?").join(", ");
    throw new RiffleError("dynamo-transaction-cancelled", `TransactWriteItems of the ${what} was cancelled: ${codes}`, {
      cause: r.reasons,
      retryable: true,
    });
  }

  async read(job: string, source: string, partition: number, after: number, max: number): Promise<IngestedRecord[]> {
    if (max < 1) return [];
    const pk = this.pk(job, source, partition);
    const from = Math.max(0, Math.floor(after));
    const what = `Query of ${source}[${partition}] of job '${job}' after ${from}`;
    const out: IngestedRecord[] = [];
    const decoder = new PackDecoder();
    const take = (it: StoredPack): boolean => {
      for (const [seq, value] of decoder.push(it)) if (seq > from && out.length < max) out.push({ seq, value });
      return out.length >= max;
    };
    const input: QueryCommandInput = {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": pk, ":from": packKey(from + 1), ":to": `${PACK_PREFIX}~` },
      Limit: Math.min(1000, max + 1),
    };
    let first = true;
    for await (const page of queryPages(this.doc, input, what)) {
      for (const it of page as unknown as StoredPack[]) {
        if (first && from > 0 && Number(it.first) > from + 1) {
          const before = await this.packBefore(pk, from, what);
          if (before && take(before)) return out;
        }
        first = false;
        if (take(it)) return out;
      }
    }
    if (first && from > 0) {
      const before = await this.packBefore(pk, from, what);
      if (before) take(before);
    }
    return out;
  }

  /** The pack holding record `from + 1` when it starts before it (a read that stopped inside it). */
  private async packBefore(pk: string, from: number, what: string): Promise<StoredPack | undefined> {
    const out = await dynamoCall(what, () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :lo AND :hi",
          ExpressionAttributeValues: { ":pk": pk, ":lo": PACK_PREFIX, ":hi": packKey(from + 1) },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const it = out.Items?.[0] as StoredPack | undefined;
    return it && it.k === undefined && Number(it.last) > from ? it : undefined;
  }

  async head(job: string, source: string, partition: number): Promise<number> {
    const pk = this.pk(job, source, partition);
    const out = await dynamoCall(`Query of the head of ${source}[${partition}] of job '${job}'`, () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :i)",
          ExpressionAttributeValues: { ":pk": pk, ":i": PACK_PREFIX },
          ProjectionExpression: "#l",
          ExpressionAttributeNames: { "#l": "last" },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const head = Number(out.Items?.[0]?.last ?? 0);
    this.heads.set(pk, head);
    return head;
  }
}
