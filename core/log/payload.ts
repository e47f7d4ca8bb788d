/**
 * Where a segment's bytes go, for stores that serialize it: compressed, inline in
 * the log item when small, else in one object of a {@link BlobStore} that the log
 * item names. Storing bytes in a table like DynamoDB costs about 80× what S3 does
 * (and compaction's tombstone pays them again, a put being billed by the larger of
 * the old and new item), so payloads leave the table; small segments stay, because
 * an object PUT costs as much as writing 8 KB.
 *
 * The commit protocol, which every serializing store follows:
 * 1. encode the segment ({@link encodeJson}); at most {@link INLINE_MAX_BYTES}: inline;
 * 2. otherwise PUT it as the object `<scope>s<n:12>-<w>` (`w`: the writer's random
 *    id) BEFORE the conditional write of the slot item that names it, so a
 *    committed item never points at a missing object;
 * 3. a writer whose conditional write lost deletes its object (best effort);
 * 4. whoever voids or folds a slot (truncate, compaction, a task reset) first
 *    rewrites the slot item, then deletes the object. A reader that finds an object
 *    missing therefore knows its read of the slot is stale and reads again.
 *
 * Orphans (a writer that crashed between the PUT and the conditional write, a loser
 * that crashed before deleting, a zombie writing below a reset log) are never read:
 * no committed item names them. Compaction sweeps them: every
 * {@link SWEEP_EVERY_SEGMENTS} folded segments it lists the partition's objects and
 * deletes every one numbered at or below the new base, all garbage by then; a task
 * reset deletes every object of the task.
 */

import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";
import { RiffleError } from "../errors.ts";
import type { BlobStore } from "../ports/blob-store.ts";

/**
 * Largest encoded segment kept inline. Break-even on DynamoDB: an S3 PUT costs
 * $0.005 per 1,000 = 8 WRU; an inline KB costs 1 WRU written and 1 WRU again when
 * compaction overwrites the slot, so inline pays up to about 4 KB.
 */
export const INLINE_MAX_BYTES = 4096;

/** Compaction sweeps a partition's orphan objects once every this many folded segments. */
export const SWEEP_EVERY_SEGMENTS = 256;

/** Decoded objects a {@link SegmentObjects} keeps, in bytes of their encoding. */
const CACHE_BYTES = 32 * 1024 * 1024;

/** Objects deleted at once. */
const PARALLEL = 16;

/** JSON, compressed with brotli (quality 4: Nexmark JSON 6.7× smaller, ~12 µs per KB). */
export function encodeJson(value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value) ?? "null", "utf8");
  return brotliCompressSync(json, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: json.length },
  });
}

/** The inverse of {@link encodeJson}. */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(brotliDecompressSync(bytes).toString("utf8")) as T;
}

/** The object key of segment `n` written by writer `w` under `scope` (a partition's prefix, ending in `/`). */
export function segmentObjectKey(scope: string, n: number, w: string): string {
  return `${scope}s${String(n).padStart(12, "0")}-${w}`;
}

/** The segment number in an object key of {@link segmentObjectKey} (undefined for another key). */
export function segmentOfObject(scope: string, key: string): number | undefined {
  const m = /^s(\d{12})-/.exec(key.slice(scope.length));
  return key.startsWith(scope) && m ? Number(m[1]) : undefined;
}

/** An object a committed slot names is gone: the slot was folded or voided after it was read. */
export class SegmentObjectMissingError extends RiffleError {
  constructor(key: string) {
    super("segment-object-missing", `segment object ${key} is gone: the log changed under the read; read again`, {
      retryable: true,
    });
  }
}

/**
 * A store's segment objects over a {@link BlobStore}: written before the commit,
 * read through a cache (objects never change: a key is used once), deleted after
 * the slot that named them was rewritten.
 */
export class SegmentObjects {
  private readonly blobs: BlobStore;
  private readonly cache = new Map<string, Uint8Array>();
  private cached = 0;

  constructor(blobs: BlobStore) {
    this.blobs = blobs;
  }

  /** Writes an encoded segment under `key`. */
  async write(key: string, bytes: Uint8Array): Promise<void> {
    await this.blobs.put(key, bytes);
    this.remember(key, bytes);
  }

  /** The encoded segment under `key`; throws {@link SegmentObjectMissingError} when it is gone. */
  async read(key: string): Promise<Uint8Array> {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const bytes = await this.blobs.get(key);
    if (!bytes) throw new SegmentObjectMissingError(key);
    this.remember(key, bytes);
    return bytes;
  }

  /** Deletes `keys`; a failure leaves orphans for the next sweep, so it is ignored. */
  async discard(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.forget(k);
    for (let i = 0; i < keys.length; i += PARALLEL) {
      await this.blobs.delete(keys.slice(i, i + PARALLEL)).catch(() => undefined);
    }
  }

  /** Deletes every object under `scope` numbered at or below `through` (every one when absent). */
  async sweep(scope: string, through = Number.POSITIVE_INFINITY): Promise<number> {
    const keys = (await this.blobs.list(scope)).filter((k) => (segmentOfObject(scope, k) ?? 0) <= through);
    await this.discard(keys);
    return keys.length;
  }

  private remember(key: string, bytes: Uint8Array): void {
    if (bytes.length > CACHE_BYTES / 4) return;
    this.cache.set(key, bytes);
    this.cached += bytes.length;
    for (const [k] of this.cache) {
      if (this.cached <= CACHE_BYTES) break;
      this.forget(k);
    }
  }

  private forget(key: string): void {
    const b = this.cache.get(key);
    if (!b) return;
    this.cache.delete(key);
    this.cached -= b.length;
  }
}
