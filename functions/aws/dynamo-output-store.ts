/**
 * The {@link OutputStore} port on DynamoDB, in the output table:
 *
 * - sink output, `pk = <job>#o#<sink>`: one item per committed segment,
 *   `sk = <task>#<partition:6>#<generation:12>#<segment:12>`, `{ n, w, z, k, b }`:
 *   the segment's `n` records as JSON lines, compressed with brotli when `z` is set
 *   (items written before issue 13 have none), in `k` binary chunks (chunk i > 0 is
 *   the item `<sk>#<i:3>`). `read` is one Query in sort-key order = task, partition,
 *   generation, segment (`#` sorts below every character of a task id).
 * - dead letters, `pk = <job>#dl`, `sk = <task>#<partition:6>#<generation:12>#<segment:12>#<index:6>`,
 *   the stored dead letter as JSON (chunked the same way) plus `replayedAt` and `replay`
 *   (the envelope that sent it back, a map).
 * - published marks, `pk = <job>#pub`: one item `sk = marks` with an attribute per
 *   partition, `<task>#<partition>` → the last segment published (one write per
 *   publication, whatever the parallelism); items `sk = <task>#<partition>`,
 *   `{ through }`, written before issue 13's one-item marks, are still read.
 *
 * Publishing writes chunks before their main item (a reader never sees half a
 * segment), sink items with BatchWriteItem (the same segment always gives the same
 * items) and dead letters with a conditional PutItem each (so a `replayedAt`
 * survives a second publication).
 */

import { createHash } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import { compressBytes, decompressBytes } from "../../core/log/payload.ts";
import {
  DEFAULT_OUTPUT_PAGE,
  deadLetterId,
  decodeOutputCursor,
  encodeOutputCursor,
  type OutputPlace,
  parseDeadLetterId,
} from "../../core/ports/output-ids.ts";
import type {
  OutputPage,
  OutputStore,
  PublishedSegment,
  ReplayMark,
  ReplayUnmark,
  StoredDeadLetter,
} from "../../core/ports/output-store.ts";
import { batchWriteAll, deletePartition, type Item, mapLimit, queryAll, queryPages } from "./dynamo-batch.ts";
import { jsonBytes, jsonLineChunks, parseJson, parseJsonLines } from "./dynamo-chunks.ts";
import { conditionalCall, documentClient, keyPart, pad, type TableNames } from "./dynamo-client.ts";
import { assemble, chunkedItems } from "./dynamo-state-log.ts";

/** Sort key of the item that holds every published mark of a job. */
const MARKS_SK = "marks";
/** Marks per UpdateItem (DynamoDB caps an expression at 4 KB). */
const MARKS_PER_UPDATE = 40;

/** Items per Query page while reading output (a page stops early once it is full). */
const READ_PAGE_ITEMS = 100;
const chunkOf = (sk: string) => (i: number) => `${sk}#${pad(i, 3)}`;

/** Sort key of a segment's output (and prefix of its dead letters). */
function placeKey(p: OutputPlace): string {
  return `${keyPart("task id", p[0])}#${pad(p[1], 6)}#${pad(p[2])}#${pad(p[3])}`;
}

/** The DynamoDB output store (every job in one table). */
export class DynamoOutputStore implements OutputStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(client: DynamoDBClient, tables: TableNames) {
    this.doc = documentClient(client);
    this.table = tables.output;
  }

  private sinkPk(job: string, sink: string): string {
    return `${keyPart("job id", job)}#o#${keyPart("sink", sink)}`;
  }
  private lettersPk(job: string): string {
    return `${keyPart("job id", job)}#dl`;
  }
  private marksPk(job: string): string {
    return `${keyPart("job id", job)}#pub`;
  }

  async publish(job: string, segments: readonly PublishedSegment[]): Promise<void> {
    const chunks: Item[] = [];
    const mains: Item[] = [];
    const letters: Item[][] = [];
    for (const seg of segments) {
      const place: OutputPlace = [seg.task, seg.partition, seg.generation, seg.segment];
      const sk = placeKey(place);
      for (const [sink, values] of Object.entries(seg.sink)) {
        if (values.length === 0) continue;
        const bytes = compressBytes(Buffer.concat([...jsonLineChunks(values)]));
        // The same segment always yields the same items (compression is deterministic), chunk ids included.
        const w = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
        const items = chunkedItems(this.sinkPk(job, sink), sk, chunkOf(sk), bytes, { n: values.length, z: 1 }, w);
        mains.push(items[0] as Item);
        chunks.push(...items.slice(1));
      }
      seg.deadLetters.forEach((d, i) => {
        const stored: StoredDeadLetter = {
          ...d,
          id: deadLetterId(place, i),
          task: seg.task,
          partition: seg.partition,
          segment: seg.segment,
        };
        const lsk = `${sk}#${pad(i, 6)}`;
        letters.push(chunkedItems(this.lettersPk(job), lsk, chunkOf(lsk), jsonBytes(stored), {}, "dl"));
      });
    }
    if (chunks.length > 0)
      await batchWriteAll(
        this.doc,
        this.table,
        chunks.map((put) => ({ put })),
      );
    await batchWriteAll(
      this.doc,
      this.table,
      mains.map((put) => ({ put })),
    );
    await mapLimit(letters, 16, async (items) => {
      const [main, ...rest] = items as [Item, ...Item[]];
      if (rest.length > 0)
        await batchWriteAll(
          this.doc,
          this.table,
          rest.map((put) => ({ put })),
        );
      await conditionalCall(`PutItem of dead letter ${main.sk} of job '${job}'`, () =>
        this.doc.send(
          new PutCommand({ TableName: this.table, Item: main, ConditionExpression: "attribute_not_exists(pk)" }),
        ),
      );
    });
  }

  async publishedThrough(job: string): Promise<Record<string, number>> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": this.marksPk(job) },
      },
      `Query of the published marks of job '${job}'`,
    );
    const marks: Record<string, number> = {};
    const raise = (key: string, n: number) => {
      marks[key] = Math.max(marks[key] ?? Number.NEGATIVE_INFINITY, n);
    };
    for (const i of items) {
      if (i.sk !== MARKS_SK) raise(String(i.sk), Number(i.through));
      else for (const [k, v] of Object.entries(i)) if (k !== "pk" && k !== "sk") raise(k, Number(v));
    }
    return marks;
  }

  /**
   * Raises the marks in the one marks item: one UpdateItem per {@link MARKS_PER_UPDATE}
   * partitions, on condition that each mark rises. When one would not (a concurrent
   * publication got further), each mark of that group is raised on its own.
   */
  async setPublished(job: string, through: Readonly<Record<string, number>>): Promise<void> {
    const entries = Object.entries(through);
    const update = (group: [string, number][]) =>
      conditionalCall(`UpdateItem of the published marks of job '${job}'`, () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: this.marksPk(job), sk: MARKS_SK },
            UpdateExpression: `SET ${group.map((_, i) => `#k${i} = :v${i}`).join(", ")}`,
            ConditionExpression: group.map((_, i) => `(attribute_not_exists(#k${i}) OR #k${i} < :v${i})`).join(" AND "),
            ExpressionAttributeNames: Object.fromEntries(group.map(([k], i) => [`#k${i}`, k])),
            ExpressionAttributeValues: Object.fromEntries(group.map(([, n], i) => [`:v${i}`, n])),
          }),
        ),
      );
    const groups: [string, number][][] = [];
    for (let i = 0; i < entries.length; i += MARKS_PER_UPDATE) groups.push(entries.slice(i, i + MARKS_PER_UPDATE));
    await mapLimit(groups, 16, async (group) => {
      if ((await update(group)).ok || group.length === 1) return;
      await mapLimit(group, 16, (e) => update([e]));
    });
  }

  async resetPublished(job: string): Promise<void> {
    await deletePartition(this.doc, this.table, this.marksPk(job));
  }

  async read(job: string, sink: string, options: { cursor?: string; limit?: number } = {}): Promise<OutputPage> {
    const limit = Math.max(1, Math.floor(options.limit ?? DEFAULT_OUTPUT_PAGE));
    const start = options.cursor === undefined ? undefined : decodeOutputCursor(options.cursor);
    const startKey = start ? placeKey([start[0], start[1], start[2], start[3]]) : undefined;
    const pk = this.sinkPk(job, sink);
    const input = {
      TableName: this.table,
      KeyConditionExpression: startKey ? "pk = :pk AND sk >= :from" : "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk, ...(startKey ? { ":from": startKey } : {}) },
      Limit: READ_PAGE_ITEMS,
    };
    const values: unknown[] = [];
    let main: Item | undefined;
    let pending = new Map<string, Item>();
    for await (const page of queryPages(this.doc, input, `Query of sink '${sink}' of job '${job}'`)) {
      for (const it of page) {
        if (!main || !it.sk.startsWith(`${main.sk}#`)) {
          main = it;
          pending = new Map();
        } else pending.set(it.sk, it);
        if (pending.size + 1 < Number(main.k ?? 1)) continue;
        const records = sinkRecords(main, pending);
        if (!records)
          throw new RiffleError("output-chunk", `output ${main.sk} of sink '${sink}': a chunk is missing`, {
            retryable: true,
          });
        const place = placeOf(main.sk);
        const from = startKey === main.sk && start ? start[4] : 0;
        for (let i = from; i < records.length; i++) {
          if (values.length === limit) return { values, cursor: encodeOutputCursor([...place, i]) };
          values.push(records[i]);
        }
        main = undefined;
      }
    }
    return { values };
  }

  async deadLetters(job: string): Promise<StoredDeadLetter[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": this.lettersPk(job) },
      },
      `Query of the dead letters of job '${job}'`,
    );
    const byKey = new Map(items.map((i) => [i.sk, i]));
    const out: StoredDeadLetter[] = [];
    for (const it of items) {
      if (it.k === undefined) continue;
      const bytes = assemble(it, byKey, chunkOf(it.sk));
      if (!bytes) continue; // still being published
      const letter = parseJson<StoredDeadLetter>(bytes);
      if (it.replayedAt === undefined) out.push(letter);
      else
        out.push({
          ...letter,
          replayedAt: Number(it.replayedAt),
          ...(it.replay ? { replay: it.replay as ReplayMark } : {}),
        });
    }
    return out;
  }

  async markReplayed(
    job: string,
    ids: readonly string[],
    time: number,
    marks?: Readonly<Record<string, ReplayMark>>,
  ): Promise<void> {
    await mapLimit(letterKeys(ids), 16, ({ id, sk }) => {
      const mark = marks?.[id];
      return conditionalCall(`UpdateItem of dead letter ${sk} of job '${job}'`, () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: this.lettersPk(job), sk },
            UpdateExpression: mark ? "SET replayedAt = :t, #r = :r" : "SET replayedAt = :t REMOVE #r",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeNames: { "#r": "replay" },
            ExpressionAttributeValues: { ":t": time, ...(mark ? { ":r": mark } : {}) },
          }),
        ),
      );
    });
  }

  async unmarkReplayed(job: string, letters: readonly ReplayUnmark[]): Promise<void> {
    const seqs = new Map(letters.map((l) => [l.id, l.seq]));
    await mapLimit(letterKeys([...seqs.keys()]), 16, ({ id, sk }) =>
      conditionalCall(`UpdateItem of dead letter ${sk} of job '${job}'`, () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: this.lettersPk(job), sk },
            UpdateExpression: "REMOVE replayedAt, #r",
            // Only the mark judged undone: a newer replay's mark stays.
            ConditionExpression: "#r.seq = :seq",
            ExpressionAttributeNames: { "#r": "replay" },
            ExpressionAttributeValues: { ":seq": seqs.get(id) },
          }),
        ),
      ),
    );
  }
}

/** The sort keys of dead letters `ids` (ids that name no letter are left out). */
function letterKeys(ids: readonly string[]): { id: string; sk: string }[] {
  return ids.flatMap((id) => {
    const parts = parseDeadLetterId(id);
    if (!parts || parts[0].length === 0 || parts[0].includes("#")) return [];
    return [{ id, sk: `${placeKey([parts[0], parts[1], parts[2], parts[3]])}#${pad(parts[4], 6)}` }];
  });
}

/**
 * The records of one segment's sink item (`main`, its chunks by sort key): JSON
 * lines, decompressed when marked `z`; undefined when a chunk is missing.
 */
export function sinkRecords(main: Item, chunks: ReadonlyMap<string, Item>): unknown[] | undefined {
  const bytes = assemble(main, chunks, chunkOf(main.sk));
  if (!bytes) return undefined;
  return parseJsonLines([main.z === undefined ? bytes : decompressBytes(bytes)]);
}

/** The place named by a segment's sort key. */
function placeOf(sk: string): OutputPlace {
  const parts = sk.split("#");
  const [p, g, s] = parts.slice(-3).map(Number) as [number, number, number];
  return [parts.slice(0, -3).join("#"), p, g, s];
}
