/**
 * Keeps a partition's timer hint (see {@link TimerHints}) up to date: after a batch,
 * the runner reports its next processing-time timer, and the hint is written only
 * when that changed since this runner last wrote it, or when the batch carried a
 * tick (so a tick that fired nothing, e.g. for a stale hint or on a clock that lags,
 * corrects the hint and clears its tick mark). A reloaded partition does not know
 * what the hint says: it writes its next timer, if it has one, on its first batch.
 */

import type { TimerHints } from "../ports/timer-hints.ts";

/** Where a reporter writes. */
export interface TimerReportTarget {
  readonly hints: TimerHints;
  readonly job: string;
  readonly task: string;
  readonly partition: number;
}

/** Reports one partition's next processing-time timer; see the module comment. */
export class TimerReporter {
  private readonly t: TimerReportTarget;
  /** The live partition the last write was made for (a new one knows nothing of the hint). */
  private owner: object | undefined;
  private written: number | undefined;

  constructor(target: TimerReportTarget) {
    this.t = target;
  }

  /** After a batch of `live`: writes `next` if it changed, or if the batch carried a tick. */
  async report(live: object, next: number | undefined, ticked: boolean): Promise<void> {
    if (live !== this.owner) {
      this.owner = live;
      this.written = undefined;
    }
    if (next === this.written && !ticked) return;
    await this.t.hints.record(this.t.job, this.t.task, this.t.partition, next);
    this.written = next;
  }
}
