/**
 * The log table of {@link DynamoStateStore}: one item collection per partition
 * (`pk = <job>#<task>#<partition>`), sort keys
 *
 * - `s<n:12>`: segment n, one of
 *   - live: `{ n, gen, w, z, k, b, exp }`, the segment as bytes (`z: 1`: JSON compressed
 *     with brotli, `core/log/payload.ts`; no `z`: plain JSON, as written before),
 *     `k` chunks of which `b` holds the first; chunk i > 0 is the item
 *     `s<n:12>#<i:3>` `{ w, b }` (`w` = the writer's random id, so a stray chunk of
 *     another write is ignored); `exp`: when TTL may delete it (and its chunks),
 *     {@link SEGMENT_TTL_S} after the write. A fold leaves such a segment as it is:
 *     below the base it is dead, keeps its slot taken until it expires, and costs no
 *     write. A segment without `exp` (written before, or sealed: `seal`) never
 *     expires, and a fold overwrites it with a tombstone;
 *   - void marker: `{ n, v }`, written by `truncate` at generation `v`: segment n is
 *     void, and only an append of generation ≥ `v` may take the slot;
 *   - compaction tombstone: `{ n, c: 1, exp }`: folded into the base; it keeps the
 *     slot taken (a stale writer cannot append there), and expires by TTL.
 * - `~base` (+ `~base#<i:3>` chunks): the partition's compacted base `{ through, w, z, k, b }`.
 * - `~lock`: the compaction lease `{ token, until }`.
 *
 * Live segments are contiguous from base.through + 1 to the head; tombstones, and
 * folded live segments that wait for their TTL, lie at or below base.through; void
 * markers only above the head. Readers ignore everything at or below the base.
 *
 * Why a segment may carry a TTL from its write: it is needed only until a fold passes
 * it, and a running job folds every partition behind its cut at least every
 * `DYNAMO_FOLD_POLICY`'s 64 checkpoints and once a day. A coordinator that stops
 * making rounds (the job sleeps, finishes or failed) first seals the logs: it removes
 * the TTL of every segment above the base (the final checkpoint folds through its cut
 * first), see `core/checkpoint/seal.ts`.
 */

import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import { decodeJson } from "../../core/log/payload.ts";
import type { PartitionBase, Segment } from "../../core/ports/state-store.ts";
import { type Item, queryAll, queryPages } from "./dynamo-batch.ts";
import { ITEM_CHUNK_BYTES, joinBytes, parseJson, splitBytes } from "./dynamo-chunks.ts";
import { pad, TTL_ATTRIBUTE } from "./dynamo-client.ts";

/** Most items in one TransactWriteItems. */
export const TRANSACTION_MAX_ITEMS = 100;
/** Chunks one segment may take: their sum stays under a transaction's 4 MB. */
export const MAX_SEGMENT_CHUNKS = 11;
/** Largest serialized segment (or base) one append can write. */
export const MAX_SEGMENT_BYTES = MAX_SEGMENT_CHUNKS * ITEM_CHUNK_BYTES;
/** How long a compaction tombstone is kept before TTL may delete it (7 days). */
export const TOMBSTONE_TTL_S = 7 * 24 * 3600;
/**
 * How long after its write TTL may delete a segment (7 days): by then a running job
 * folded it (at least once a day), and a stopped one sealed its log.
 */
export const SEGMENT_TTL_S = 7 * 24 * 3600;

/** Sort keys of the log table. */
export const LogKey = {
  segment: (n: number) => `s${pad(n)}`,
  chunk: (n: number, i: number) => `s${pad(n)}#${pad(i, 3)}`,
  /** Upper bound of every segment key. */
  segmentsEnd: "s~",
  base: "~base",
  baseChunk: (i: number) => `~base#${pad(i, 3)}`,
  /** Upper bound of the base keys (below `~lock`). */
  baseEnd: "~base#~",
  lock: "~lock",
} as const;

/** A segment too large for one DynamoDB transaction. */
export class SegmentTooLargeError extends RiffleError {
  constructor(what: string, bytes: number) {
    super(
      "segment-too-large",
      `${what} is ${bytes} bytes serialized, over the ${MAX_SEGMENT_BYTES} bytes one DynamoDB transaction can write ` +
        `(${MAX_SEGMENT_CHUNKS} items of ${ITEM_CHUNK_BYTES} bytes; limits 100 items, 4 MB): ` +
        "the runner must split its batch into smaller segments",
    );
  }
}

/**
 * A payload as items: the main item (with `w`, `k`, `b` and `extra` attributes) and
 * its chunk items. `w` identifies the write (random unless given).
 */
export function chunkedItems(
  pk: string,
  sk: string,
  chunkKey: (i: number) => string,
  bytes: Uint8Array,
  extra: Record<string, unknown>,
  w: string = randomUUID(),
): Item[] {
  const chunks = splitBytes(bytes);
  return chunks.map((b, i) => (i === 0 ? { pk, sk, ...extra, w, k: chunks.length, b } : { pk, sk: chunkKey(i), w, b }));
}

/** Joins a main item's payload with its chunks (`chunks` by sort key); undefined when a chunk is missing. */
export function assemble(
  main: Item,
  chunks: ReadonlyMap<string, Item>,
  chunkKey: (i: number) => string,
): Buffer | undefined {
  const k = Number(main.k ?? 1);
  const parts: Uint8Array[] = [main.b as Uint8Array];
  for (let i = 1; i < k; i++) {
    const c = chunks.get(chunkKey(i));
    if (!c || c.w !== main.w) return undefined;
    parts.push(c.b as Uint8Array);
  }
  return joinBytes(parts);
}

/** Decodes stored bytes: compressed JSON when `encoded` (`z`), else plain JSON. */
export function decodeStored<T>(bytes: Uint8Array, encoded: boolean): T {
  return encoded ? decodeJson<T>(bytes) : parseJson<T>(bytes);
}

/** One slot of the log as read. */
export type LogEntry =
  | {
      readonly n: number;
      readonly kind: "live";
      readonly gen: number;
      readonly chunks: number;
      readonly segment: Segment;
      /** True when TTL will delete it ({@link SEGMENT_TTL_S}): a fold leaves it, a seal keeps it. */
      readonly expires: boolean;
    }
  | { readonly n: number; readonly kind: "void"; readonly v: number }
  | { readonly n: number; readonly kind: "tomb" };

/** Classifies the items of a log query (any order) into entries, ascending by n. */
export function toEntries(items: readonly Item[], where: string): LogEntry[] {
  const mains: Item[] = [];
  const chunks = new Map<string, Item>();
  for (const it of items) {
    if (!it.sk.startsWith("s")) continue;
    if (it.sk.length > 13) chunks.set(it.sk, it);
    else mains.push(it);
  }
  mains.sort((a, b) => (a.sk < b.sk ? -1 : 1));
  return mains.map((m): LogEntry => {
    const n = Number(m.n);
    if (m.v !== undefined) return { n, kind: "void", v: Number(m.v) };
    if (m.c !== undefined) return { n, kind: "tomb" };
    const bytes = assemble(m, chunks, (i) => LogKey.chunk(n, i));
    if (!bytes) {
      throw new RiffleError(
        "dynamo-log-chunk",
        `segment ${n} of ${where}: a chunk item is missing or of another write`,
        {
          retryable: true,
        },
      );
    }
    const segment = decodeStored<Segment>(bytes, m.z !== undefined);
    const expires = m[TTL_ATTRIBUTE] !== undefined;
    return { n, kind: "live", gen: Number(m.gen), chunks: Number(m.k ?? 1), segment, expires };
  });
}

/** Every segment-slot entry of partition `pk` numbered above `after`, ascending. */
export async function readEntries(
  doc: DynamoDBDocumentClient,
  table: string,
  pk: string,
  after: number,
): Promise<LogEntry[]> {
  return (await readEntriesAndBase(doc, table, pk, after, false)).entries;
}

/**
 * {@link readEntries}, and with `withBase` the base's `through` (0: none) and write
 * time from the same query: the base's main item sorts right after the segments
 * (`~base` > `s~`), so one strongly consistent query reads both.
 */
export async function readEntriesAndBase(
  doc: DynamoDBDocumentClient,
  table: string,
  pk: string,
  after: number,
  withBase = true,
): Promise<{ entries: LogEntry[]; through: number; at: number | undefined }> {
  const items = await queryAll(
    doc,
    {
      TableName: table,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: {
        ":pk": pk,
        ":from": LogKey.segment(after + 1),
        ":to": withBase ? LogKey.base : LogKey.segmentsEnd,
      },
    },
    `Query of the segments of ${pk} after ${after} on ${table}`,
  );
  const base = withBase ? items.find((i) => i.sk === LogKey.base) : undefined;
  const at = base?.at === undefined ? undefined : Number(base.at);
  return { entries: toEntries(items, pk), through: Number(base?.through ?? 0), at };
}

/** The base of partition `pk` as stored: `through` (0 when none), the base, and its chunk count. */
export interface StoredBase {
  readonly through: number;
  readonly base: PartitionBase | undefined;
  readonly chunks: number;
}

/** Reads the base of partition `pk` (one query over `~base` and its chunks). */
export async function readBaseItems(doc: DynamoDBDocumentClient, table: string, pk: string): Promise<StoredBase> {
  const items = await queryAll(
    doc,
    {
      TableName: table,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": pk, ":from": LogKey.base, ":to": LogKey.baseEnd },
    },
    `Query of the base of ${pk} on ${table}`,
  );
  const main = items.find((i) => i.sk === LogKey.base);
  if (!main) return { through: 0, base: undefined, chunks: 0 };
  const chunks = new Map(items.map((i) => [i.sk, i]));
  const bytes = assemble(main, chunks, LogKey.baseChunk);
  if (!bytes) {
    throw new RiffleError("dynamo-log-chunk", `base of ${pk}: a chunk item is missing or of another write`, {
      retryable: true,
    });
  }
  const base = decodeStored<PartitionBase>(bytes, main.z !== undefined);
  return { through: Number(main.through), base, chunks: Number(main.k ?? 1) };
}

/** What the top of a partition's log says. */
export interface LogHead {
  /** The last segment (live or compacted) or base.through, whichever is higher (0: empty). */
  readonly head: number;
  /** Highest generation of the head segment and the void markers above it: the fence. */
  readonly maxGen: number;
}

/**
 * Reads the head of partition `pk`: a descending query (keys and numbers only)
 * that stops at the first live or compacted segment.
 */
export async function readHead(doc: DynamoDBDocumentClient, table: string, pk: string): Promise<LogHead> {
  let maxGen = 0;
  let baseThrough = 0;
  const input = {
    TableName: table,
    KeyConditionExpression: "pk = :pk AND sk <= :to",
    ExpressionAttributeValues: { ":pk": pk, ":to": LogKey.baseEnd },
    ExpressionAttributeNames: { "#n": "n", "#v": "v", "#c": "c", "#g": "gen", "#t": "through" },
    ProjectionExpression: "sk, #n, #v, #c, #g, #t",
    ScanIndexForward: false,
    Limit: 100,
  };
  for await (const page of queryPages(doc, input, `Query of the head of ${pk} on ${table}`)) {
    for (const it of page) {
      if (it.sk === LogKey.base) baseThrough = Number(it.through);
      if (!it.sk.startsWith("s") || it.sk.length > 13) continue;
      if (it.v !== undefined) {
        maxGen = Math.max(maxGen, Number(it.v));
        continue;
      }
      if (it.gen !== undefined) maxGen = Math.max(maxGen, Number(it.gen));
      // A stray segment below the base (a zombie's, after a reset) is not the head.
      return { head: Math.max(Number(it.n), baseThrough), maxGen };
    }
  }
  return { head: baseThrough, maxGen };
}
