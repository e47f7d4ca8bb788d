/**
 * The state table of {@link DynamoStateStore}:
 *
 * - base values, by key group: `pk = <job>#<task>#<kg>`, `sk = <stateId>#<key>` (or
 *   `<stateId>#~h<sha256(key)>` when the key is too long for a sort key), item
 *   `{ s, k, g, v }` with `v` the JSON text of the value. A value whose JSON passes
 *   350 KB is stored as binary chunks: the main item `{ s, k, g, w, x, b }` holds `x`
 *   chunks' first, chunk i the item `pk = <job>#<task>#<kg>#x`, `sk = <main sk>#<i:3>`,
 *   `{ w, b }` (written before the main item; a reader that finds a chunk of
 *   another write reads again).
 * - the task registry, `pk = <job>#<task>`, `sk = registry`: `parts` (partitions with
 *   log items), `kgs` (key groups that may hold base values) and `owners` (strings
 *   `<kg>:<partition>`: which partitions' segments changed which key group).
 */

import { createHash } from "node:crypto";
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import type { StateChange } from "../../core/ports/state-store.ts";
import { batchGetAll, batchWriteAll, type Item, type WriteRequest } from "./dynamo-batch.ts";
import { ITEM_CHUNK_BYTES, joinBytes, splitBytes } from "./dynamo-chunks.ts";
import { dynamoCall, pad } from "./dynamo-client.ts";

/** Sort keys longer than this (bytes) are hashed (DynamoDB's limit is 1024). */
const MAX_SK_BYTES = 900;
/** Attempts to read a big value whose chunks are being rewritten. */
const BIG_VALUE_ATTEMPTS = 4;
/** Sort key of the registry item. */
export const REGISTRY_SK = "registry";

/** What the registry of a task says. */
export interface Registry {
  readonly parts: ReadonlySet<number>;
  readonly kgs: ReadonlySet<number>;
  /** Key group → partitions whose segments changed it. */
  readonly owners: ReadonlyMap<number, ReadonlySet<number>>;
}

/** Key layout of one job's state items. */
export class ValueKeys {
  private readonly job: string;
  constructor(job: string) {
    this.job = job;
  }
  /** Partition key of a task's base values in key group `kg`. */
  pk(task: string, kg: number): string {
    return `${this.job}#${task}#${kg}`;
  }
  /** Partition key of the chunk items of big values in key group `kg`. */
  chunkPk(task: string, kg: number): string {
    return `${this.job}#${task}#${kg}#x`;
  }
  /** Partition key of the registry item of `task`. */
  registryPk(task: string): string {
    return `${this.job}#${task}`;
  }
  /** Sort key of value `s`/`k`. */
  sk(s: string, k: string): string {
    const sk = `${s}#${k}`;
    return Buffer.byteLength(sk) <= MAX_SK_BYTES ? sk : `${s}#~h${createHash("sha256").update(k).digest("hex")}`;
  }
}

/** Parses a registry item (absent: empty registry). */
export function parseRegistry(item: Item | undefined): Registry {
  const owners = new Map<number, Set<number>>();
  for (const pair of (item?.owners as Set<string> | undefined) ?? []) {
    const [kg, p] = pair.split(":").map(Number) as [number, number];
    let set = owners.get(kg);
    if (!set) {
      set = new Set();
      owners.set(kg, set);
    }
    set.add(p);
  }
  return {
    parts: new Set((item?.parts as Set<number> | undefined) ?? []),
    kgs: new Set((item?.kgs as Set<number> | undefined) ?? []),
    owners,
  };
}

/** Adds partitions, key groups and owner pairs to the registry of `task` (one idempotent UpdateItem). */
export async function register(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: ValueKeys,
  task: string,
  add: { parts?: readonly number[]; kgs?: readonly number[]; owners?: readonly string[] },
): Promise<void> {
  const clauses: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, list] of [
    ["parts", add.parts],
    ["kgs", add.kgs],
    ["owners", add.owners],
  ] as const) {
    if (!list || list.length === 0) continue;
    clauses.push(`${name} :${name}`);
    values[`:${name}`] = new Set<number | string>(list);
  }
  if (clauses.length === 0) return;
  await dynamoCall(`UpdateItem of the registry of ${task} on ${table}`, () =>
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: keys.registryPk(task), sk: REGISTRY_SK },
        UpdateExpression: `ADD ${clauses.join(", ")}`,
        ExpressionAttributeValues: values,
      }),
    ),
  );
}

/** The registry of `task`, read consistently. */
export async function readRegistry(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: ValueKeys,
  task: string,
): Promise<Registry> {
  const out = await dynamoCall(`GetItem of the registry of ${task}`, () =>
    doc.send(
      new GetCommand({ TableName: table, Key: { pk: keys.registryPk(task), sk: REGISTRY_SK }, ConsistentRead: true }),
    ),
  );
  return parseRegistry(out.Item as Item | undefined);
}

/** The write requests that store `changes` (last one per key wins) as base values of `task`. */
export function valueWrites(
  keys: ValueKeys,
  task: string,
  changes: readonly StateChange[],
): {
  chunks: WriteRequest[];
  mains: WriteRequest[];
} {
  const last = new Map<string, StateChange>();
  for (const c of changes) {
    const id = `${c.g}\n${keys.sk(c.s, c.k)}`;
    last.delete(id);
    last.set(id, c);
  }
  const chunks: WriteRequest[] = [];
  const mains: WriteRequest[] = [];
  for (const c of last.values()) {
    const pk = keys.pk(task, c.g);
    const sk = keys.sk(c.s, c.k);
    if (c.d) {
      mains.push({ delete: { pk, sk } });
      continue;
    }
    const json = c.v === undefined ? undefined : (JSON.stringify(c.v) ?? "null");
    if (json === undefined || json.length * 3 <= ITEM_CHUNK_BYTES || Buffer.byteLength(json) <= ITEM_CHUNK_BYTES) {
      mains.push({ put: { pk, sk, s: c.s, k: c.k, g: c.g, ...(json === undefined ? {} : { v: json }) } });
      continue;
    }
    const parts = splitBytes(Buffer.from(json, "utf8"));
    const w = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    parts.forEach((b, i) => {
      if (i > 0) chunks.push({ put: { pk: keys.chunkPk(task, c.g), sk: `${sk}#${pad(i, 3)}`, w, b } });
    });
    mains.push({ put: { pk, sk, s: c.s, k: c.k, g: c.g, w, x: parts.length, b: parts[0] as Uint8Array } });
  }
  return { chunks, mains };
}

/** Writes `changes` as base values: chunks of big values first, then the main items. */
export async function writeValues(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: ValueKeys,
  task: string,
  changes: readonly StateChange[],
): Promise<void> {
  const { chunks, mains } = valueWrites(keys, task, changes);
  if (chunks.length > 0) await batchWriteAll(doc, table, chunks);
  await batchWriteAll(doc, table, mains);
}

/** A stored base value: `undefined` v means "set without a value". */
export interface StoredValue {
  readonly s: string;
  readonly k: string;
  readonly g: number;
  readonly v: unknown;
}

/**
 * Decodes value items (from a BatchGet or a Query), fetching the chunks of big
 * values. Returns the items whose chunks were consistent, and the main items that
 * must be read again (their value was being rewritten).
 */
export async function decodeValues(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: ValueKeys,
  task: string,
  items: readonly Item[],
): Promise<{ values: StoredValue[]; retry: Item[] }> {
  const values: StoredValue[] = [];
  const big = items.filter((i) => i.x !== undefined);
  const chunkKeys = big.flatMap((m) =>
    Array.from({ length: Number(m.x) - 1 }, (_, j) => ({
      pk: keys.chunkPk(task, Number(m.g)),
      sk: `${m.sk}#${pad(j + 1, 3)}`,
    })),
  );
  const chunks = chunkKeys.length > 0 ? await batchGetAll(doc, table, chunkKeys) : new Map<string, Item>();
  const retry: Item[] = [];
  for (const it of items) {
    const base = { s: String(it.s), k: String(it.k), g: Number(it.g) };
    if (it.x === undefined) {
      values.push({ ...base, v: it.v === undefined ? undefined : JSON.parse(String(it.v)) });
      continue;
    }
    const parts: Uint8Array[] = [it.b as Uint8Array];
    for (let i = 1; i < Number(it.x); i++) {
      const c = chunks.get(`${keys.chunkPk(task, base.g)}\n${it.sk}#${pad(i, 3)}`);
      if (!c || c.w !== it.w) break;
      parts.push(c.b as Uint8Array);
    }
    if (parts.length === Number(it.x)) values.push({ ...base, v: JSON.parse(joinBytes(parts).toString("utf8")) });
    else retry.push(it);
  }
  return { values, retry };
}

/** Reads base values by key with BatchGetItem (plus the chunks of big values). Keyed `s\nk`. */
export async function readValues(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: ValueKeys,
  task: string,
  refs: readonly { s: string; k: string; g: number }[],
): Promise<Map<string, StoredValue>> {
  const out = new Map<string, StoredValue>();
  let pending = refs.map((r) => ({ pk: keys.pk(task, r.g), sk: keys.sk(r.s, r.k) }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > BIG_VALUE_ATTEMPTS) {
      throw new RiffleError("dynamo-value-chunk", `${pending.length} big values of ${task} kept changing while read`, {
        retryable: true,
      });
    }
    const found = await batchGetAll(doc, table, pending);
    const { values, retry } = await decodeValues(doc, table, keys, task, [...found.values()]);
    for (const v of values) out.set(`${v.s}\n${v.k}`, v);
    pending = retry.map((i) => ({ pk: i.pk, sk: i.sk }));
  }
  return out;
}
