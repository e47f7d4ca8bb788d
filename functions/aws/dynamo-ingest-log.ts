/**
 * The {@link IngestLog} port on DynamoDB, in the ingest table. Items of a partition
 * (`pk = <job>#<source>#<partition>`):
 *
 * - `h`: the head counter `{ last }`;
 * - `r<last:15>`: a pack of consecutive records `{ first, last, b }`, `b` their JSON
 *   lines (≤ 350 KB), keyed by the pack's LAST seq so that one Query
 *   `sk >= r<after + 1>` starts at the pack holding record `after + 1`;
 * - `r<seq:15>.<i:3>`: part i of a single record larger than a pack `{ first, last, k, b }`.
 *
 * An append is ONE TransactWriteItems: the head update conditioned on its old value
 * plus the record items. Concurrent appenders lose the condition, learn the new head
 * from the cancellation reason and retry, so ranges are gapless and never overlap.
 * One append holds at most 99 items and 3.85 MB of JSON.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import type { AppendedRange, IngestedRecord, IngestLog } from "../../core/ports/ingest-log.ts";
import { type Item, queryPages } from "./dynamo-batch.ts";
import { ITEM_CHUNK_BYTES, joinBytes, parseJson, parseJsonLines, splitBytes } from "./dynamo-chunks.ts";
import { backoff, documentClient, dynamoCall, keyPart, pad, type TableNames, transactCall } from "./dynamo-client.ts";

/** Record items one append may write (a transaction holds 100 items, one is the head). */
export const INGEST_MAX_ITEMS = 99;
/** JSON bytes one append may write (a transaction holds 4 MB). */
export const INGEST_MAX_BYTES = 11 * ITEM_CHUNK_BYTES;
/** Attempts of an append that keeps losing the head to concurrent appends. */
const APPEND_ATTEMPTS = 60;

/** An append larger than one DynamoDB transaction. */
export class IngestTooLargeError extends RiffleError {
  constructor(what: string, items: number, bytes: number) {
    super(
      "ingest-too-large",
      `${what}: ${bytes} bytes of JSON in ${items} items, over one DynamoDB transaction ` +
        `(${INGEST_MAX_ITEMS} items, ${INGEST_MAX_BYTES} bytes): append fewer or smaller records at a time`,
    );
  }
}

const recordKey = (seq: number) => `r${pad(seq, 15)}`;

/** One planned record item: records [first, last] (a part of one record when `part` is set). */
interface Planned {
  readonly first: number;
  readonly last: number;
  readonly b: Buffer;
  readonly part?: { readonly i: number; readonly k: number };
}

/** Packs encoded records (seq 1-based offsets from `base`) into items. */
function plan(lines: readonly Buffer[], base: number): Planned[] {
  const out: Planned[] = [];
  let pack: Buffer[] = [];
  let size = 0;
  let first = base + 1;
  const flush = (last: number) => {
    if (pack.length === 0) return;
    out.push({ first, last, b: Buffer.concat(pack) });
    pack = [];
    size = 0;
  };
  lines.forEach((line, i) => {
    const seq = base + i + 1;
    if (line.length > ITEM_CHUNK_BYTES) {
      flush(seq - 1);
      const parts = splitBytes(line);
      parts.forEach((b, j) => {
        out.push({ first: seq, last: seq, b: Buffer.from(b), part: { i: j, k: parts.length } });
      });
      first = seq + 1;
      return;
    }
    const add = line.length + (pack.length > 0 ? 1 : 0);
    if (size + add > ITEM_CHUNK_BYTES) {
      flush(seq - 1);
      first = seq;
    }
    pack.push(pack.length > 0 ? Buffer.concat([Buffer.from("\n"), line]) : line);
    size += pack.length > 1 ? line.length + 1 : line.length;
  });
  flush(base + lines.length);
  return out;
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
    const pk = this.pk(job, source, partition);
    const what = `append of ${values.length} records to ${source}[${partition}] of job '${job}'`;
    if (values.length === 0) {
      const head = await this.head(job, source, partition);
      return { first: head + 1, last: head };
    }
    const lines = values.map((v) => Buffer.from(JSON.stringify(v) ?? "null", "utf8"));
    let head = this.heads.get(pk) ?? (await this.head(job, source, partition));
    for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt++) {
      const items = plan(lines, head);
      const bytes = items.reduce((n, i) => n + i.b.length, 0);
      if (items.length > INGEST_MAX_ITEMS || bytes > INGEST_MAX_BYTES)
        throw new IngestTooLargeError(what, items.length, bytes);
      const last = head + values.length;
      const update = {
        TableName: this.table,
        Key: { pk, sk: "h" },
        UpdateExpression: "SET #l = :new",
        ConditionExpression: head === 0 ? "attribute_not_exists(pk)" : "#l = :old",
        ExpressionAttributeNames: { "#l": "last" },
        ExpressionAttributeValues: { ":new": last, ...(head === 0 ? {} : { ":old": head }) },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      };
      const puts = items.map((p) => ({
        Put: {
          TableName: this.table,
          Item: {
            pk,
            sk: p.part ? `${recordKey(p.first)}.${pad(p.part.i, 3)}` : recordKey(p.last),
            first: p.first,
            last: p.last,
            ...(p.part ? { k: p.part.k } : {}),
            b: p.b,
          },
        },
      }));
      const r = await transactCall(`TransactWriteItems of the ${what}`, () =>
        this.doc.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...puts] })),
      );
      if (r.ok) {
        this.heads.set(pk, last);
        return { first: head + 1, last };
      }
      const reason = r.reasons[0];
      if (reason?.Code === "ConditionalCheckFailed") {
        head = Number(reason.Item?.last?.N ?? 0);
      } else if (r.reasons.some((x) => x.Code === "TransactionConflict")) {
        await backoff(Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
      } else {
        const codes = r.reasons.map((x) => x.Code ?? "?").join(", ");
        throw new RiffleError(
          "dynamo-transaction-cancelled",
          `TransactWriteItems of the ${what} was cancelled: ${codes}`,
          {
            cause: r.reasons,
            retryable: true,
          },
        );
      }
    }
    throw new RiffleError(
      "ingest-contended",
      `${what}: lost the head to concurrent appends ${APPEND_ATTEMPTS} times in a row`,
      { retryable: true },
    );
  }

  async read(job: string, source: string, partition: number, after: number, max: number): Promise<IngestedRecord[]> {
    if (max < 1) return [];
    const pk = this.pk(job, source, partition);
    const from = Math.max(0, Math.floor(after));
    const out: IngestedRecord[] = [];
    let parts: Uint8Array[] = [];
    const input = {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": pk, ":from": recordKey(from + 1), ":to": "r~" },
      Limit: Math.min(1000, max + 1),
    };
    for await (const page of queryPages(
      this.doc,
      input,
      `Query of ${source}[${partition}] of job '${job}' after ${from}`,
    )) {
      for (const it of page as (Item & { first: number; last: number; k?: number; b: Uint8Array })[]) {
        if (it.k !== undefined) {
          parts.push(it.b);
          if (parts.length < Number(it.k)) continue;
          if (it.first > from) out.push({ seq: Number(it.first), value: parseJson(joinBytes(parts)) });
          parts = [];
        } else {
          const values = parseJsonLines([it.b]);
          values.forEach((value, i) => {
            const seq = Number(it.first) + i;
            if (seq > from && out.length < max) out.push({ seq, value });
          });
        }
        if (out.length >= max) return out.slice(0, max);
      }
    }
    return out;
  }

  async head(job: string, source: string, partition: number): Promise<number> {
    const pk = this.pk(job, source, partition);
    const out = await dynamoCall(`GetItem of the head of ${source}[${partition}] of job '${job}'`, () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk: "h" }, ConsistentRead: true })),
    );
    const head = Number(out.Item?.last ?? 0);
    this.heads.set(pk, head);
    return head;
  }
}
