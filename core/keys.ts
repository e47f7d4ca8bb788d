/**
 * Keys, key groups and partitions.
 *
 * A key is encoded canonically (type-tagged, so `1` and `"1"` differ), hashed with
 * murmur3 (x86, 32-bit, seed 0) over its UTF-8 bytes, and mapped to one of
 * `maxParallelism` key groups. Key groups map to partitions as contiguous ranges,
 * exactly as Flink does, so a rescale moves whole ranges.
 */

import { JobDefinitionError } from "./errors.ts";

/** Values usable as keys: primitives and arrays of them (composite keys). */
export type Key = string | number | boolean | bigint | null | readonly Key[];

/** Default number of key groups; fixed for the life of a job. */
export const DEFAULT_MAX_PARALLELISM = 128;

/**
 * Canonical, type-tagged string encoding of a key. Stable across processes and
 * versions: it is what state is addressed by.
 */
export function encodeKey(key: Key): string {
  switch (typeof key) {
    case "string":
      return `s${key}`;
    case "number":
      if (!Number.isFinite(key)) throw new JobDefinitionError(`key ${key} is not a finite number`);
      return `n${Object.is(key, -0) ? 0 : key}`;
    case "boolean":
      return key ? "t" : "f";
    case "bigint":
      return `b${key}`;
    case "object":
      if (key === null) return "z";
      if (Array.isArray(key)) return encodeComposite(key);
  }
  throw new JobDefinitionError(
    `key of type ${typeof key} is not supported: use a string, number, boolean, bigint, null or an array of them`,
  );
}

/** Encodes a composite key: each part length-prefixed (a string part inline: keys are encoded per record). */
function encodeComposite(key: readonly Key[]): string {
  let out = "[";
  for (let i = 0; i < key.length; i++) {
    const k = key[i] as Key;
    const e = typeof k === "string" ? `s${k}` : encodeKey(k);
    out += `${e.length}:${e}`;
  }
  return `${out}]`;
}

const encoder = new TextEncoder();

/**
 * murmur3 x86 32-bit hash of the UTF-8 bytes of `s`, as an unsigned integer. An
 * ASCII string is hashed in one pass over its chars (its bytes); the first pass
 * notes whether any char was not ASCII, and only then is the string hashed again
 * over its UTF-8 bytes.
 */
export function murmur3(s: string, seed = 0): number {
  const len = s.length;
  let h = seed >>> 0;
  let or = 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    const d = s.charCodeAt(i + 3);
    or |= a | b | c | d;
    h = mixBlock(h, a | (b << 8) | (c << 16) | (d << 24));
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = 0;
    for (let i = blocks + tail - 1; i >= blocks; i--) {
      const c = s.charCodeAt(i);
      or |= c;
      k = (k << 8) | c;
    }
    h ^= mixTail(k);
  }
  if (or > 0x7f) return murmur3Bytes(encoder.encode(s), seed);
  return finish(h, len);
}

/** murmur3 x86 32-bit over `bytes` (a key that is not ASCII). */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  const len = bytes.length;
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    h = mixBlock(
      h,
      (bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24),
    );
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = 0;
    for (let i = blocks + tail - 1; i >= blocks; i--) k = (k << 8) | (bytes[i] as number);
    h ^= mixTail(k);
  }
  return finish(h, len);
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** One 4-byte block folded into `h`. */
function mixBlock(h: number, block: number): number {
  h ^= mixTail(block);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The scrambled value of a block (or of the tail's bytes). */
function mixTail(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** The final avalanche over `h` and the byte length. */
function finish(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Key group of an encoded key. */
export function keyGroupOf(encodedKey: string, maxParallelism: number): number {
  return murmur3(encodedKey) % maxParallelism;
}

/** Partition that owns `keyGroup` when a task runs with `parallelism` partitions. */
export function partitionOfKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The contiguous, inclusive key-group range `[start, end]` owned by `partition`. */
export function keyGroupRange(
  partition: number,
  parallelism: number,
  maxParallelism: number,
): { start: number; end: number } {
  const start = Math.ceil((partition * maxParallelism) / parallelism);
  const end = Math.ceil(((partition + 1) * maxParallelism) / parallelism) - 1;
  return { start, end };
}

/** Inverse of {@link encodeKey}. */
export function decodeKey(encoded: string): Key {
  const [key, end] = decodeAt(encoded, 0, encoded.length);
  if (end !== encoded.length) throw new SyntaxError(`trailing characters in encoded key '${encoded}'`);
  return key;
}

/** Decodes the key that starts at `i` and ends at or before `limit`; returns it and its end. */
function decodeAt(s: string, i: number, limit: number): [Key, number] {
  const tag = s[i];
  if (tag === "[") {
    const items: Key[] = [];
    let j = i + 1;
    while (s[j] !== "]") {
      const colon = s.indexOf(":", j);
      if (colon < 0 || colon >= limit) throw new SyntaxError(`bad encoded key '${s}'`);
      const len = Number(s.slice(j, colon));
      const [item] = decodeAt(s, colon + 1, colon + 1 + len);
      items.push(item);
      j = colon + 1 + len;
      if (j >= limit) throw new SyntaxError(`unterminated array in encoded key '${s}'`);
    }
    return [items, j + 1];
  }
  const rest = s.slice(i + 1, limit);
  const bare = (v: Key): [Key, number] => {
    if (limit !== i + 1) throw new SyntaxError(`bad encoded key '${s}'`);
    return [v, i + 1];
  };
  switch (tag) {
    case "s":
      return [rest, limit];
    case "n":
      if (rest === "" || Number.isNaN(Number(rest))) throw new SyntaxError(`bad number in encoded key '${s}'`);
      return [Number(rest), limit];
    case "b":
      if (!/^-?\d+$/.test(rest)) throw new SyntaxError(`bad bigint in encoded key '${s}'`);
      return [BigInt(rest), limit];
    case "t":
      return bare(true);
    case "f":
      return bare(false);
    case "z":
      return bare(null);
  }
  throw new SyntaxError(`bad encoded key '${s}'`);
}
