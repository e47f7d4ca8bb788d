/**
 * Published marks written lazily (issue 13: the coordinator at a 1 s interval). The
 * published marks (`OutputStore.publishedThrough`) only say where the next
 * publication starts and how far the log may fold. A mark lower than what is really
 * published is always safe: publishing a segment again writes the same items
 * (output is keyed by task, partition, generation and segment; a segment never
 * changes once written), so it costs writes, never output. A mark higher than what
 * is published would lose output, and a fold past a durable mark would drop sink
 * records a restarted coordinator still means to publish.
 *
 * So a warm coordinator container keeps the marks it raised ({@link LazyMarks}) and
 * writes them to the output store only every {@link LazyMarks.every}th publication,
 * and always before the log folds or is sealed, before the job sleeps or ends, and
 * in every step other than the round's own completion (restore, rescale, savepoint
 * restore). A container that dies loses only marks that are not durable: the next one
 * reads the durable (lower) marks and publishes those segments again, at most
 * `every` checkpoints' output. Kept marks are per generation: every rewrite of a log
 * (restore, rescale, savepoint restore) starts a new generation, and marks of another
 * generation are never used (the store's are read instead).
 */

import type { OutputStore } from "../ports/output-store.ts";

/** Publications between two durable writes of the marks, by default. */
export const LAZY_MARKS_EVERY = 8;

interface Kept {
  readonly generation: number;
  /** Every mark known published (the store's as read, plus what this container raised). */
  readonly marks: Record<string, number>;
  /** Raised here and not durable yet. */
  dirty: Record<string, number>;
  /** Publications since the last durable write. */
  held: number;
}

/** The published marks a warm coordinator container keeps between rounds; see the module comment. */
export class LazyMarks {
  /** Publications between two durable writes. */
  readonly every: number;
  private readonly jobs = new Map<string, Kept>();

  constructor(every = LAZY_MARKS_EVERY) {
    this.every = Math.max(1, Math.floor(every));
  }

  /** The marks of `job` this container knows at `generation`; undefined: read the store's. */
  known(job: string, generation: number): Readonly<Record<string, number>> | undefined {
    const k = this.jobs.get(job);
    return k?.generation === generation ? k.marks : undefined;
  }

  /** Remembers `marks` as read from the store at `generation` (what another generation kept is dropped). */
  learned(job: string, generation: number, marks: Readonly<Record<string, number>>): void {
    this.jobs.set(job, { generation, marks: { ...marks }, dirty: {}, held: 0 });
  }

  /**
   * Notes that a publication at `generation` raised `raised` (its output is in the
   * store). Returns the marks to write durably now, or undefined when they may wait:
   * with `force`, or at every {@link every}th publication, it returns everything not
   * durable yet (then call {@link saved} once written).
   */
  raise(
    job: string,
    generation: number,
    raised: Readonly<Record<string, number>>,
    force: boolean,
  ): Record<string, number> | undefined {
    let k = this.jobs.get(job);
    if (k?.generation !== generation) {
      k = { generation, marks: {}, dirty: {}, held: 0 };
      this.jobs.set(job, k);
    }
    for (const [key, n] of Object.entries(raised)) {
      k.marks[key] = Math.max(k.marks[key] ?? 0, n);
      k.dirty[key] = Math.max(k.dirty[key] ?? 0, n);
    }
    k.held++;
    return force || k.held >= this.every ? { ...k.dirty } : undefined;
  }

  /** The marks not durable yet (for a write that must include them), if any. */
  dirty(job: string): Record<string, number> | undefined {
    const d = this.jobs.get(job)?.dirty;
    return d && Object.keys(d).length > 0 ? { ...d } : undefined;
  }

  /** `written` is durable now: those marks are no longer dirty. */
  saved(job: string, written: Readonly<Record<string, number>>): void {
    const k = this.jobs.get(job);
    if (!k) return;
    for (const [key, n] of Object.entries(written)) if ((k.dirty[key] ?? 0) <= n) delete k.dirty[key];
    k.held = 0;
  }

  /** Forgets everything (the container died; the simulation's coordinator crash). */
  forget(): void {
    this.jobs.clear();
  }
}

/**
 * Writes the marks `lazy` holds for `job` durably, if any (before a seal, a sleep or
 * the coordinator's stop). Without `lazy` there is nothing held.
 */
export async function flushMarks(
  output: Pick<OutputStore, "setPublished">,
  job: string,
  lazy: LazyMarks | undefined,
): Promise<void> {
  const dirty = lazy?.dirty(job);
  if (!dirty) return;
  await output.setPublished(job, dirty);
  lazy?.saved(job, dirty);
}
