/**
 * The embedded runtime's view of its {@link OutputStore}: every call goes to the
 * store the run was given (a file store under `--out`, in memory by default), and
 * each segment's committed records and dead letters are also handed to the
 * runtime's observers once, in commit order per partition, when their checkpoint's
 * output is published.
 */

import { DelegatingOutputStore } from "../ports/delegating-output-store.ts";
import type { OutputStore, PublishedSegment } from "../ports/output-store.ts";
import type { TaskDeadLetter } from "./embedded-options.ts";

/** Who is told about published output. */
export interface OutputObservers {
  readonly onOutput?: (sink: string, values: readonly unknown[], task: string, partition: number) => void;
  readonly onDeadLetter?: (letter: TaskDeadLetter) => void;
}

/** See the module comment. */
export class ObservedOutputStore extends DelegatingOutputStore {
  private readonly observers: OutputObservers;
  /** `task#partition#generation` → the last segment handed to the observers (a segment is handed once). */
  private readonly seen = new Map<string, number>();

  constructor(inner: OutputStore, observers: OutputObservers) {
    super(inner);
    this.observers = observers;
  }

  override async publish(job: string, segments: readonly PublishedSegment[]): Promise<void> {
    await super.publish(job, segments);
    for (const seg of segments) {
      const key = `${seg.task}#${seg.partition}#${seg.generation}`;
      if (seg.segment <= (this.seen.get(key) ?? 0)) continue;
      this.seen.set(key, seg.segment);
      for (const [name, values] of Object.entries(seg.sink)) {
        this.observers.onOutput?.(name, values, seg.task, seg.partition);
      }
      for (const d of seg.deadLetters)
        this.observers.onDeadLetter?.({ ...d, task: seg.task, partition: seg.partition });
    }
  }
}
