/**
 * A segment's payload (its outbox, staged sink records and dead letters) outside
 * the log's own storage, compressed, in one object of a {@link BlobStore} that the
 * segment names. Bytes in DynamoDB cost about 80× what they cost in S3 (and
 * compaction's tombstone pays them again, a put being billed by the larger of the old
 * and new item), so payloads leave the table; positions, seqs and state deltas stay.
 * A payload of at most {@link INLINE_MAX_BYTES} encoded stays inline, because an
 * object PUT costs as much as writing 8 KB into DynamoDB.
 *
 * The commit protocol (`OffloadingStateStore`, offloading-store.ts):
 * 1. PUT the payload as the object `<job>/<task>/<partition>/s<n:12>-<w>` (`w`: a
 *    random id of this attempt) BEFORE the conditional append of the segment that
 *    names it, so a committed segment never names a missing object;
 * 2. a writer whose append lost deletes its object (best effort), once it has seen
 *    that the slot holds another writer's segment (a "conflict" may be its own write,
 *    retried after a lost response);
 * 3. whoever voids or folds segments (truncate, compaction, a task reset) first
 *    changes the log, then deletes the objects. A reader that finds an object
 *    missing therefore knows its read of the log is stale, and reads again.
 *
 * Orphans (a writer that crashed between the PUT and the append, a loser that
 * crashed before deleting, a zombie writing below a reset log) are never read: no
 * committed segment names them. Compaction sweeps them: after folding through
 * segment `u` it lists the partition's objects and deletes every one numbered at or
 * below `u`: those slots are all committed and folded, so no writer can still
 * commit there. A task reset deletes every object of the task.
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

/** Decoded objects a {@link SegmentObjects} keeps, in bytes of their encoding. */
const CACHE_BYTES = 32 * 1024 * 1024;

/** Objects deleted at once. */
const PARALLEL = 16;

/** `bytes` compressed with brotli at quality 4 (Nexmark JSON: 6.7× smaller, about 12 µs per KB). Deterministic. */
export function compressBytes(bytes: Uint8Array): Buffer {
  return brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
}

/** The inverse of {@link compressBytes}. */
export function decompressBytes(bytes: Uint8Array): Buffer {
  return brotliDecompressSync(bytes);
}

/** JSON, compressed ({@link compressBytes}). */
export function encodeJson(value: unknown): Buffer {
  return compressBytes(Buffer.from(JSON.stringify(value) ?? "null", "utf8"));
}

/** The inverse of {@link encodeJson}. */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decompressBytes(bytes).toString("utf8")) as T;
}

/** The object key of segment `n`'s payload written by attempt `w` under `scope` (a partition's prefix, ending in `/`). */
export function segmentObjectKey(scope: string, n: number, w: string): string {
  return `${scope}s${String(n).padStart(12, "0")}-${w}`;
}

/** The segment number in an object key of {@link segmentObjectKey} (undefined for another key). */
export function segmentOfObject(scope: string, key: string): number | undefined {
  const m = /^s(\d{12})-/.exec(key.slice(scope.length));
  return key.startsWith(scope) && m ? Number(m[1]) : undefined;
}

/** An object a committed segment names is gone: the segment was folded or voided after it was read. */
export class SegmentObjectMissingError extends RiffleError {
  constructor(key: string) {
    super("segment-object-missing", `segment object ${key} is gone: the log changed under the read; read again`, {
      retryable: true,
    });
  }
}

/**
 * Segment payload objects over a {@link BlobStore}: written before the commit, read
 * through a cache (objects never change: a key is used once), deleted after the
 * segment that named them left the log.
 */
export class SegmentObjects {
  private readonly blobs: BlobStore;
  private readonly cache = new Map<string, Uint8Array>();
  private cached = 0;

  constructor(blobs: BlobStore) {
    this.blobs = blobs;
  }

  /** Writes an encoded payload under `key`. */
  async write(key: string, bytes: Uint8Array): Promise<void> {
    await this.blobs.put(key, bytes);
    this.remember(key, bytes);
  }

  /** The encoded payload under `key`; throws {@link SegmentObjectMissingError} when it is gone. */
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
