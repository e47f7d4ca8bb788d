/**
 * Identities shared by every implementation of the `OutputStore` port: where a
 * segment's output sits (its place), page cursors, the order of places, and
 * dead-letter ids. A cursor or id one store hands out means the same in another.
 */

import { UsageError } from "../errors.ts";

/** Records of a page when the caller gives no limit. */
export const DEFAULT_OUTPUT_PAGE = 1000;

/** Where a segment's output sits in a sink: task, partition, generation, segment. */
export type OutputPlace = readonly [task: string, partition: number, generation: number, segment: number];
/** A page cursor: the place of the next record's segment and its index there. */
export type OutputCursor = readonly [
  task: string,
  partition: number,
  generation: number,
  segment: number,
  index: number,
];

/** Orders places (and cursors, dead-letter keys) by task (string order), then their common numbers in turn. */
export function comparePlaces(a: readonly [string, ...number[]], b: readonly [string, ...number[]]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 1; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** Encodes a page cursor (base64url JSON, the same in every store). */
export function encodeOutputCursor(c: OutputCursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

/** Decodes a page cursor; throws {@link UsageError} on a malformed one. */
export function decodeOutputCursor(cursor: string): OutputCursor {
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    c = undefined;
  }
  const ok =
    Array.isArray(c) &&
    c.length === 5 &&
    typeof c[0] === "string" &&
    c.slice(1).every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (!ok) throw new UsageError(`malformed output cursor '${cursor}': pass back the cursor of the previous page`);
  return c as unknown as OutputCursor;
}

/** Dead-letter id: `<task>#<partition>#<generation>#<segment>#<index>`. */
export function deadLetterId(place: OutputPlace, index: number): string {
  return `${place.join("#")}#${index}`;
}

/** The parts of a dead-letter id (undefined when `id` is not one). */
export function parseDeadLetterId(id: string): [...OutputPlace, number] | undefined {
  const parts = id.split("#");
  if (parts.length < 5) return undefined;
  const nums = parts.slice(-4).map(Number);
  if (!nums.every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  const [p, g, s, i] = nums as [number, number, number, number];
  return [parts.slice(0, -4).join("#"), p, g, s, i];
}
