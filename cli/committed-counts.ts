/**
 * Counts of the sink records a run has committed: records count once the commit
 * that carries them has succeeded, so a run whose publishing failed does not report
 * records it never committed.
 */

import type { OutputPublisher, TaskDeadLetter } from "../core/runtime/embedded.ts";

/** An {@link OutputPublisher} that forwards to another and counts committed records per sink. */
export class CommittedCounts implements OutputPublisher {
  private readonly inner: OutputPublisher;
  private readonly pending = new Map<string, number>();
  /** Records committed, per sink. */
  readonly counts = new Map<string, number>();

  constructor(inner: OutputPublisher) {
    this.inner = inner;
  }

  resume(): Promise<Readonly<Record<string, number>> | undefined> {
    this.pending.clear();
    return this.inner.resume();
  }

  output(sink: string, values: readonly unknown[], task: string, partition: number): void {
    this.inner.output(sink, values, task, partition);
    this.pending.set(sink, (this.pending.get(sink) ?? 0) + values.length);
  }

  deadLetter(letter: TaskDeadLetter): void {
    this.inner.deadLetter(letter);
  }

  async commit(checkpoint: number, cut: Readonly<Record<string, number>>): Promise<void> {
    await this.inner.commit(checkpoint, cut);
    for (const [sink, n] of this.pending) this.counts.set(sink, (this.counts.get(sink) ?? 0) + n);
    this.pending.clear();
  }
}
