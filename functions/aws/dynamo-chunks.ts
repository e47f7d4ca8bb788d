/**
 * Splitting payloads over DynamoDB items. An item holds at most 400 KB (names and
 * values together); riffle keeps a payload chunk at {@link ITEM_CHUNK_BYTES} so the
 * keys and bookkeeping attributes always fit beside it.
 *
 * Lists of values are written as JSON lines (one `JSON.stringify` per value, `\n`
 * between) and cut into byte chunks anywhere, so a single huge value simply spans
 * several chunks; reading concatenates the chunks and splits at `\n` bytes (never
 * part of a multi-byte UTF-8 sequence, and JSON escapes it inside strings).
 *
 * JSON is the value encoding everywhere: `NaN` and `±Infinity` become `null`,
 * `undefined` inside arrays becomes `null`, `-0` becomes `0`.
 */

/** Payload bytes per item. DynamoDB's item limit is 400 KB (409,600 bytes). */
export const ITEM_CHUNK_BYTES = 350_000;

const NEWLINE = 0x0a;

/** Cuts `bytes` into chunks of at most `size` bytes (one empty chunk for empty input). */
export function splitBytes(bytes: Uint8Array, size = ITEM_CHUNK_BYTES): Uint8Array[] {
  if (bytes.length <= size) return [bytes];
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** Concatenates chunks read back from items. */
export function joinBytes(chunks: readonly Uint8Array[]): Buffer {
  return chunks.length === 1 ? Buffer.from(chunks[0] as Uint8Array) : Buffer.concat(chunks);
}

/** `JSON.stringify(value)` as UTF-8 bytes. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) ?? "null", "utf8");
}

/** Parses UTF-8 JSON bytes. */
export function parseJson<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) as T;
}

/** Encodes `values` as JSON lines and yields byte chunks of at most `size` bytes. */
export function* jsonLineChunks(values: Iterable<unknown>, size = ITEM_CHUNK_BYTES): Generator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  let first = true;
  for (const v of values) {
    const line = Buffer.from(`${first ? "" : "\n"}${JSON.stringify(v) ?? "null"}`, "utf8");
    first = false;
    parts.push(line);
    length += line.length;
    while (length >= size) {
      const all = Buffer.concat(parts, length);
      yield all.subarray(0, size);
      const rest = all.subarray(size);
      parts = rest.length > 0 ? [rest] : [];
      length = rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}

/** Incrementally parses JSON lines from byte chunks (the inverse of {@link jsonLineChunks}). */
export class JsonLineReader {
  private carry: Buffer = Buffer.alloc(0);
  private started = false;

  /** Feeds one chunk; returns the values completed by it. */
  push(chunk: Uint8Array): unknown[] {
    this.started = true;
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk);
    const out: unknown[] = [];
    let start = 0;
    for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, start)) {
      out.push(JSON.parse(bytes.toString("utf8", start, i)));
      start = i + 1;
    }
    this.carry = bytes.subarray(start);
    return out;
  }

  /** Ends the input; returns the last value (none when nothing was written). */
  end(): unknown[] {
    if (!this.started || this.carry.length === 0) return [];
    const last = JSON.parse(this.carry.toString("utf8"));
    this.carry = Buffer.alloc(0);
    return [last];
  }
}

/** Parses all JSON lines of `chunks`. */
export function parseJsonLines(chunks: Iterable<Uint8Array>): unknown[] {
  const reader = new JsonLineReader();
  const out: unknown[] = [];
  for (const c of chunks) for (const v of reader.push(c)) out.push(v);
  for (const v of reader.end()) out.push(v);
  return out;
}
