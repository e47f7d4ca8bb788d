/**
 * How the DynamoDB ingest log lays records out in items (`dynamo-ingest-log.ts`):
 * consecutive records are packed as JSON lines, compressed with brotli
 * (`core/log/payload.ts`: Nexmark JSON shrinks about 6.7×, so a typical HTTP call of
 * a few KB is ONE item of one write unit), in items keyed by the pack's FIRST seq.
 * A record whose compressed JSON is over one item's payload is split into parts:
 * part 0 is keyed like a pack, parts 1.. by `<key>.<i:3>`, so every append's first
 * item is keyed by its first seq, which is what its conditional write claims.
 */

import { compressBytes, decompressBytes } from "../../core/log/payload.ts";
import { ITEM_CHUNK_BYTES, joinBytes, parseJson, parseJsonLines, splitBytes } from "./dynamo-chunks.ts";
import { pad } from "./dynamo-client.ts";

/** Sort keys of record items start with this (items of the old layout, `h` and `r…`, are not read). */
export const PACK_PREFIX = "i";

/** The sort key of the item that holds record `seq` first (a pack, or part 0 of a large record). */
export const packKey = (seq: number): string => `${PACK_PREFIX}${pad(seq, 15)}`;

/** One record item: records [first, last], compressed; a part of one record when `part` is set. */
export interface Pack {
  readonly sk: string;
  readonly first: number;
  readonly last: number;
  readonly b: Buffer;
  readonly part?: { readonly i: number; readonly k: number };
}

/** Packs encoded records (seqs `base + 1` …) into compressed items of at most {@link ITEM_CHUNK_BYTES}. */
export function packRecords(lines: readonly Buffer[], base: number): Pack[] {
  const out: Pack[] = [];
  let pack: Buffer[] = [];
  let size = 0;
  let first = base + 1;
  const flush = (last: number) => {
    if (pack.length > 0) out.push({ sk: packKey(first), first, last, b: compressBytes(Buffer.concat(pack)) });
    pack = [];
    size = 0;
  };
  lines.forEach((line, i) => {
    const seq = base + i + 1;
    const add = line.length + (pack.length > 0 ? 1 : 0);
    if (pack.length > 0 && size + add > ITEM_CHUNK_BYTES) {
      flush(seq - 1);
      first = seq;
    }
    if (line.length <= ITEM_CHUNK_BYTES) {
      pack.push(pack.length > 0 ? Buffer.concat([Buffer.from("\n"), line]) : line);
      size += add;
      return;
    }
    flush(seq - 1);
    const parts = splitBytes(compressBytes(line));
    parts.forEach((b, j) => {
      const sk = j === 0 ? packKey(seq) : `${packKey(seq)}.${pad(j, 3)}`;
      out.push({
        sk,
        first: seq,
        last: seq,
        b: Buffer.from(b),
        ...(parts.length > 1 ? { part: { i: j, k: parts.length } } : {}),
      });
    });
    first = seq + 1;
  });
  flush(base + lines.length);
  return out;
}

/** A record item as read back. */
export interface StoredPack {
  readonly sk: string;
  readonly first: number;
  readonly last: number;
  readonly b: Uint8Array;
  /** Parts of a large record (absent on packs). */
  readonly k?: number;
}

/** Turns record items, in key order, into records; yields `[seq, value]` of whole records. */
export class PackDecoder {
  private parts: Uint8Array[] = [];

  /** The records of `it` (none while a large record's parts are incomplete). */
  *push(it: StoredPack): Generator<[number, unknown]> {
    if (it.k !== undefined) {
      this.parts.push(it.b);
      if (this.parts.length < Number(it.k)) return;
      const bytes = decompressBytes(joinBytes(this.parts));
      this.parts = [];
      yield [Number(it.first), parseJson(bytes)];
      return;
    }
    const values = parseJsonLines([decompressBytes(it.b)]);
    for (let i = 0; i < values.length; i++) yield [Number(it.first) + i, values[i]];
  }
}
