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
      if (Array.isArray(key)) {
        let out = "[";
        for (const k of key) {
          const e = encodeKey(k);
          out += `${e.length}:${e}`;
        }
        return `${out}]`;
      }
  }
  throw new JobDefinitionError(
    `key of type ${typeof key} is not supported: use a string, number, boolean, bigint, null or an array of them`,
  );
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of `s`, one char per byte (`s` itself when it is ASCII). */
function utf8Chars(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      const bytes = encoder.encode(s);
      let out = "";
      for (let j = 0; j < bytes.length; j++) out += String.fromCharCode(bytes[j] as number);
      return out;
    }
  }
  return s;
}

/** murmur3 x86 32-bit hash of the UTF-8 bytes of `s`, as an unsigned integer. */
export function murmur3(s: string, seed = 0): number {
  // One char per byte, read with charCodeAt (no closure per byte: keys are hashed per record).
  const b = utf8Chars(s);
  const len = b.length;
  let h = seed >>> 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = b.charCodeAt(i) | (b.charCodeAt(i + 1) << 8) | (b.charCodeAt(i + 2) << 16) | (b.charCodeAt(i + 3) << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= b.charCodeAt(blocks + 2) << 16;
    if (tail >= 2) k ^= b.charCodeAt(blocks + 1) << 8;
    k ^= b.charCodeAt(blocks);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
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
