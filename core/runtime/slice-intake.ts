/**
 * Step 1 of a slice, dedup and order (see "One batch, end to end" in DESIGN.md):
 * what the slice consumes of a batch's messages, whether due timers, a tick, a
 * resumed poll or a raised linger give it work without input, and the
 * checkpoint-complete signals the partition's chain is told about once.
 */

import type { Clock } from "../ports/clock.ts";
import { intake } from "./intake.ts";
import type { Live } from "./partition-loader.ts";
import type { InboundMessage, RunnerStats } from "./runner-types.ts";
import type { SliceStep } from "./slice-run.ts";
import { inlinePoll, parkedWakeAt, raisedLinger, resumesPolling } from "./source-wake.ts";

/** The partition a slice intake takes for. */
export interface IntakeTarget {
  readonly isSource: boolean;
  readonly generation: number;
  /** The partition's input channels. */
  readonly channels: ReadonlySet<string>;
  /** The partition, as errors name it (`task[partition]`). */
  readonly where: string;
  readonly clock: Clock;
  /** The runner's counters: duplicates dropped are counted here. */
  readonly stats: RunnerStats;
}

/** Takes each slice's input from a batch, for one partition. */
export class SliceIntake {
  private readonly target: IntakeTarget;
  /** The newest checkpoint the chain was told about (a redelivered or retried signal is not repeated). */
  private notifiedThrough = 0;

  constructor(target: IntakeTarget) {
    this.target = target;
  }

  /** What the slice consumes, or `undefined` when it has nothing to do; `first`: the batch's first slice. */
  take(live: Live, messages: readonly InboundMessage[], first: boolean): SliceStep | undefined {
    const { isSource, generation } = this.target;
    const taken = intake(
      messages.map((m) => m.body),
      live.view,
      generation,
      this.target.channels,
      this.target.where,
    );
    this.target.stats.duplicates += first ? taken.dropped : 0;
    // Checkpoint-complete signals: tell the chain (its functions' `notifyCheckpointComplete`), once per runner.
    if (first && taken.completed !== undefined && taken.completed > this.notifiedThrough) {
      this.notifiedThrough = taken.completed;
      live.chain.head.notifyCheckpointComplete?.(taken.completed);
      for (const reader of live.view.readers.values()) reader.notifyCheckpointComplete?.(taken.completed);
    }
    const now = this.target.clock.now();
    const tick = first && taken.tick;
    const start = first && taken.start;
    const timers = live.chain.keyed?.timers;
    const wakeAt = parkedWakeAt(live.view);
    const timersDue =
      (timers !== undefined && (timers.due("p", now) || timers.due("c", now))) ||
      (wakeAt !== undefined && wakeAt <= now);
    const resumed = isSource && resumesPolling(live.view, start, generation, now);
    const linger = first && isSource ? raisedLinger(live.view, taken.startUntil) : undefined;
    // A start that resumes nothing (the partition polls already) commits nothing either, unless windowed.
    if (taken.consumed.length === 0 && taken.buffer.length === 0 && !tick && !resumed && !timersDue && !linger)
      return undefined;
    if (resumed) taken.consumed.unshift({ env: inlinePoll(live.view, generation), msg: 0 });
    return { taken, now, tick, start, timersDue, resumed, lingerUntil: linger };
  }
}
