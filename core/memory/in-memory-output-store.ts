/**
 * In-memory implementation of the {@link OutputStore} port. A sink's output is kept
 * per segment and read in (task, partition, segment) order; the first publication
 * of a segment wins, so publishing again changes nothing. Cursors name the next
 * record's (task, partition, segment, index), so publications that land in front
 * of a cursor between two pages do not shift what the next page returns.
 */

import { UsageError } from "../errors.ts";
import type { OutputPage, OutputStore, PublishedSegment, StoredDeadLetter } from "../ports/output-store.ts";
import type { DeadLetter } from "../ports/state-store.ts";

/** Records of a page when the caller gives no limit. */
export const DEFAULT_OUTPUT_PAGE = 1000;

interface SegmentOutput {
  readonly task: string;
  readonly partition: number;
  readonly segment: number;
  readonly values: readonly unknown[];
}

/** Where a page starts: a segment and the index of its first record to return. */
type Position = [task: string, partition: number, segment: number, index: number];

/** Compares by task (string order), then partition, then segment. */
function compareSegments(a: SegmentOutput | Position, b: SegmentOutput | Position): number {
  const [at, ap, as] = Array.isArray(a) ? a : [a.task, a.partition, a.segment];
  const [bt, bp, bs] = Array.isArray(b) ? b : [b.task, b.partition, b.segment];
  return at < bt ? -1 : at > bt ? 1 : ap - bp || as - bs;
}

/** Encodes a page cursor (shared format with the DynamoDB store: base64url JSON of a {@link Position}). */
export function encodeOutputCursor(p: Position): string {
  return Buffer.from(JSON.stringify(p)).toString("base64url");
}

/** Decodes a page cursor; throws {@link UsageError} on a malformed one. */
export function decodeOutputCursor(cursor: string): Position {
  let p: unknown;
  try {
    p = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    p = undefined;
  }
  const ok =
    Array.isArray(p) &&
    p.length === 4 &&
    typeof p[0] === "string" &&
    p.slice(1).every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (!ok) throw new UsageError(`malformed output cursor '${cursor}': pass back the cursor of the previous page`);
  return p as Position;
}

/** Dead-letter id: `<task>#<partition>#<segment>#<index>`. */
export function deadLetterId(task: string, partition: number, segment: number, index: number): string {
  return `${task}#${partition}#${segment}#${index}`;
}

/** The in-memory output store. */
export class InMemoryOutputStore implements OutputStore {
  /** job → sink → `task#partition#segment` → output. */
  private readonly sinks = new Map<string, Map<string, Map<string, SegmentOutput>>>();
  /** job → sink → outputs sorted (rebuilt after a publication). */
  private readonly sorted = new Map<string, Map<string, SegmentOutput[]>>();
  private readonly letters = new Map<string, Map<string, StoredDeadLetter>>();
  private readonly marks = new Map<string, Map<string, number>>();

  async publish(job: string, segments: readonly PublishedSegment[]): Promise<void> {
    for (const seg of segments) {
      const id = `${seg.task}#${seg.partition}#${seg.segment}`;
      for (const [sink, values] of Object.entries(seg.sink)) {
        if (values.length === 0) continue;
        const bySeg = getOrSet(
          getOrSet(this.sinks, job, () => new Map()),
          sink,
          () => new Map(),
        );
        if (bySeg.has(id)) continue;
        bySeg.set(id, { task: seg.task, partition: seg.partition, segment: seg.segment, values: [...values] });
        this.sorted.get(job)?.delete(sink);
      }
      const letters = getOrSet(this.letters, job, () => new Map());
      seg.deadLetters.forEach((d: DeadLetter, i) => {
        const dl = deadLetterId(seg.task, seg.partition, seg.segment, i);
        if (letters.has(dl)) return;
        letters.set(dl, { ...d, id: dl, task: seg.task, partition: seg.partition, segment: seg.segment });
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

  async read(job: string, sink: string, options: { cursor?: string; limit?: number } = {}): Promise<OutputPage> {
    const limit = Math.max(1, Math.floor(options.limit ?? DEFAULT_OUTPUT_PAGE));
    const start = options.cursor === undefined ? undefined : decodeOutputCursor(options.cursor);
    const outputs = this.sortedOutputs(job, sink);
    const values: unknown[] = [];
    for (const o of outputs) {
      let from = 0;
      if (start) {
        const c = compareSegments(o, start);
        if (c < 0) continue;
        if (c === 0) from = start[3];
      }
      for (let i = from; i < o.values.length; i++) {
        if (values.length === limit) return { values, cursor: encodeOutputCursor([o.task, o.partition, o.segment, i]) };
        values.push(o.values[i]);
      }
    }
    return { values };
  }

  async deadLetters(job: string): Promise<StoredDeadLetter[]> {
    const all = [...(this.letters.get(job)?.values() ?? [])];
    return all.sort((a, b) => compareSegments(a, b) || Number(a.id.split("#").at(-1)) - Number(b.id.split("#").at(-1)));
  }

  async markReplayed(job: string, ids: readonly string[], time: number): Promise<void> {
    const letters = this.letters.get(job);
    for (const id of ids) {
      const d = letters?.get(id);
      if (d) letters?.set(id, { ...d, replayedAt: time });
    }
  }

  private sortedOutputs(job: string, sink: string): SegmentOutput[] {
    const bySink = getOrSet(this.sorted, job, () => new Map());
    let list = bySink.get(sink);
    if (!list) {
      list = [...(this.sinks.get(job)?.get(sink)?.values() ?? [])].sort(compareSegments);
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
