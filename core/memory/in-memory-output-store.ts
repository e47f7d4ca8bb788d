/**
 * In-memory implementation of the {@link OutputStore} port. A sink's output is kept
 * per (task, partition, generation, segment) and read in that order; the first
 * publication of a segment wins, so publishing again changes nothing. Cursors name
 * the next record's place (task, partition, generation, segment, index), so output
 * published in front of a cursor between two pages does not shift the next page.
 */

import {
  comparePlaces,
  DEFAULT_OUTPUT_PAGE,
  deadLetterId,
  decodeOutputCursor,
  encodeOutputCursor,
  type OutputPlace,
} from "../ports/output-ids.ts";
import type {
  OutputPage,
  OutputStore,
  PublishedSegment,
  ReplayMark,
  ReplayUnmark,
  StoredDeadLetter,
} from "../ports/output-store.ts";

interface SegmentOutput {
  readonly place: OutputPlace;
  readonly values: readonly unknown[];
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

  async markReplayed(
    job: string,
    ids: readonly string[],
    time: number,
    marks?: Readonly<Record<string, ReplayMark>>,
  ): Promise<void> {
    const letters = this.letters.get(job);
    for (const id of ids) {
      const d = letters?.get(id);
      if (!d) continue;
      const { replay: _r, ...letter } = d.letter;
      const mark = marks?.[id];
      letters?.set(id, { ...d, letter: { ...letter, replayedAt: time, ...(mark ? { replay: mark } : {}) } });
    }
  }

  async unmarkReplayed(job: string, unmarks: readonly ReplayUnmark[]): Promise<void> {
    const letters = this.letters.get(job);
    for (const { id, seq } of unmarks) {
      const d = letters?.get(id);
      if (d?.letter.replay?.seq !== seq) continue;
      const { replay: _r, replayedAt: _t, ...letter } = d.letter;
      letters?.set(id, { ...d, letter });
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
