/**
 * An {@link OutputStore} that passes every call to an inner store: the base of a
 * wrapper that adds to a few calls (observers of published output, injected
 * crashes) and leaves the rest as they are. A subclass overrides only those few
 * and calls `super` for the inner store's part.
 */

import type {
  OutputPage,
  OutputStore,
  PublishedSegment,
  ReplayMark,
  ReplayUnmark,
  StoredDeadLetter,
} from "./output-store.ts";

/** See the module comment. */
export class DelegatingOutputStore implements OutputStore {
  /** The store every call ends at. */
  protected readonly inner: OutputStore;

  constructor(inner: OutputStore) {
    this.inner = inner;
  }

  publish(job: string, segments: readonly PublishedSegment[]): Promise<void> {
    return this.inner.publish(job, segments);
  }

  publishedThrough(job: string): Promise<Record<string, number>> {
    return this.inner.publishedThrough(job);
  }

  setPublished(job: string, through: Readonly<Record<string, number>>): Promise<void> {
    return this.inner.setPublished(job, through);
  }

  resetPublished(job: string): Promise<void> {
    return this.inner.resetPublished(job);
  }

  read(job: string, sink: string, options?: { cursor?: string; limit?: number }): Promise<OutputPage> {
    return this.inner.read(job, sink, options);
  }

  deadLetters(job: string): Promise<StoredDeadLetter[]> {
    return this.inner.deadLetters(job);
  }

  markReplayed(
    job: string,
    ids: readonly string[],
    time: number,
    marks?: Readonly<Record<string, ReplayMark>>,
  ): Promise<void> {
    return this.inner.markReplayed(job, ids, time, marks);
  }

  unmarkReplayed(job: string, letters: readonly ReplayUnmark[]): Promise<void> {
    return this.inner.unmarkReplayed(job, letters);
  }
}
