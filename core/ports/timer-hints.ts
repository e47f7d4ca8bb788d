/**
 * The `TimerHints` port: where each task partition records when its next
 * processing-time timer is due, so that a coordinator that cannot see the task
 * runners (the AWS runtime's Step Functions machine) knows which partitions to tick.
 * A hint is only a hint: the timers themselves are keyed state. A stale hint costs
 * one tick that fires nothing (the runner then records the truth); a missing one
 * delays a timer to the partition's next batch (at the latest the next barrier).
 */

/** A partition's next processing-time timer, as its runner last recorded it. */
export interface TimerHint {
  readonly task: string;
  readonly partition: number;
  /** When its earliest processing-time timer is due (epoch ms). */
  readonly at: number;
  /** When the coordinator last sent it a tick for this `at`; cleared by the runner's next record. */
  readonly tickedAt?: number;
}

/** The per-partition next-timer hints of jobs. */
export interface TimerHints {
  /** Records `task[partition]`'s next timer (`undefined`: none), clearing `tickedAt`. */
  record(job: string, task: string, partition: number, at: number | undefined): Promise<void>;
  /**
   * Every partition's recorded next timer. `lagging`: the store may answer from a
   * read that misses the newest records (DynamoDB: eventually consistent, half the
   * read units); right for sending ticks, where a missed hint is ticked a round later
   * and a stale one fails `markTicked`, not for deciding that no timer is pending.
   */
  list(job: string, options?: { readonly lagging?: boolean }): Promise<TimerHint[]>;
  /** Sets `tickedAt` to `now` if the hint still says `hint.at`; false when it changed or is gone. */
  markTicked(job: string, hint: TimerHint, now: number): Promise<boolean>;
}
