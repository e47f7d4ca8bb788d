/**
 * In-memory implementation of the {@link OutputStore} port. A sink's output is kept
 * per (task, partition, generation, segment) and read in that order; the first
 * publication of a segment wins, so publishing again changes nothing. Cursors name
 * the next record's place (task, partition, generation, segment, index), so output
 * published in front of a cursor between two pages does not shift the next page.
 */

import { UsageError } from "../errors.ts";
import type { OutputPage, OutputStore, PublishedSegment, StoredDeadLetter } from "../ports/output-store.ts";

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

interface SegmentOutput {
  readonly place: OutputPlace;
  readonly values: readonly unknown[];
}

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

/** Encodes a page cursor (the DynamoDB store uses the same format: base64url JSON). */
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

/** The in-memory output store. */
export class InMemoryOutputStore implements OutputStore {
  /** job → sink → place id → output. */
  private readonly sinks = new Map<string, Map<string, Map<string, SegmentOutput>>>();
  /** job → sink → outputs in order (dropped when a publication adds one). */
  private readonly sorted = new Map<string, Map<string, SegmentOutput[]>>();
  private readonly letters = new Map<string, Map<string, { letter: StoredDeadLetter; order: number[] }>>();
  private readonly marks = new Map<string, Map<string, number>>();

  async publish(job: string, segments: readonly PublishedSegment[]): Promise<void> {
    for (const seg of segments) {
      const place: OutputPlace = [seg.task, seg.partition, seg.generation, seg.segment];
      const id = place.join("#");
      for (const [sink, values] of Object.entries(seg.sink)) {
        if (values.length === 0) continue;
        const bySeg = getOrSet(
          getOrSet(this.sinks, job, () => new Map()),
          sink,
          () => new Map(),
        );
        if (bySeg.has(id)) continue;
        bySeg.set(id, { place, values: [...values] });
        this.sorted.get(job)?.delete(sink);
      }
      const letters = getOrSet(this.letters, job, () => new Map());
      seg.deadLetters.forEach((d, i) => {
        const dl = deadLetterId(place, i);
        if (letters.has(dl)) return;
        const letter = { ...d, id: dl, task: seg.task, partition: seg.partition, segment: seg.segment };
        letters.set(dl, { letter, order: [seg.partition, seg.generation, seg.segment, i] });
      });
    }
  }

  async publishedThrough(job: string): Promise<Record<string, number>> {
    return Object.fromEntries(this.marks.get(job) ?? []);
  }

  async setPublished(job: string, through: Readonly<Record<string, number>>): Promise<void> {
    const marks = getOrSet(this.marks, job, () => new Map());
    for (const [k, n] of Object.entries(through)) if (n > (marks.get(k) ?? Number.NEGATIVE_INFINITY)) marks.set(k, n);
  }

  async resetPublished(job: string): Promise<void> {
    this.marks.delete(job);
  }

  async read(job: string, sink: string, options: { cursor?: string; limit?: number } = {}): Promise<OutputPage> {
    const limit = Math.max(1, Math.floor(options.limit ?? DEFAULT_OUTPUT_PAGE));
    const start = options.cursor === undefined ? undefined : decodeOutputCursor(options.cursor);
    const values: unknown[] = [];
    for (const o of this.sortedOutputs(job, sink)) {
      let from = 0;
      if (start) {
        const c = comparePlaces(o.place, start);
        if (c < 0) continue;
        if (c === 0) from = start[4];
      }
      for (let i = from; i < o.values.length; i++) {
        if (values.length === limit) return { values, cursor: encodeOutputCursor([...o.place, i]) };
        values.push(o.values[i]);
      }
    }
    return { values };
  }

  async deadLetters(job: string): Promise<StoredDeadLetter[]> {
    const all = [...(this.letters.get(job)?.values() ?? [])];
    all.sort((a, b) => comparePlaces([a.letter.task, ...a.order], [b.letter.task, ...b.order]));
    return all.map((x) => x.letter);
  }

  async markReplayed(job: string, ids: readonly string[], time: number): Promise<void> {
    const letters = this.letters.get(job);
    for (const id of ids) {
      const d = letters?.get(id);
      if (d) letters?.set(id, { ...d, letter: { ...d.letter, replayedAt: time } });
    }
  }

  private sortedOutputs(job: string, sink: string): SegmentOutput[] {
    const bySink = getOrSet(this.sorted, job, () => new Map());
    let list = bySink.get(sink);
    if (!list) {
      list = [...(this.sinks.get(job)?.get(sink)?.values() ?? [])].sort((a, b) => comparePlaces(a.place, b.place));
      bySink.set(sink, list);
    }
    return list;
  }
}

function getOrSet<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}
