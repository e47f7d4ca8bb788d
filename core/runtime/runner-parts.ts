/**
 * What a `TaskRunner`'s slices work with, built once from its options: where its
 * source partition reads, whom its segments belong to, its intake (dedup), its
 * sender (send and acks), and the reporter of its next processing-time timer.
 */

import type { TaskPlan } from "../graph/plan.ts";
import type { PartitionReport } from "./partition-stats.ts";
import type { RunnerStats, TaskRunnerOptions } from "./runner-types.ts";
import type { SegmentOwner } from "./segment-builder.ts";
import { SegmentSender } from "./segment-sender.ts";
import type { SourceRead } from "./slice-inputs.ts";
import { SliceIntake } from "./slice-intake.ts";
import { TimerReporter } from "./timer-report.ts";

/** The runner's partition, as its parts need it. */
export interface RunnerPartition {
  readonly task: TaskPlan;
  readonly partition: number;
  readonly generation: number;
  /** The partition's input channels. */
  readonly channels: readonly string[];
  /** The runner's counters. */
  readonly stats: RunnerStats;
  /** The partition's report as of `at` (an epoch's ack carries it). */
  readonly report: (at: number) => PartitionReport | undefined;
}

/** See the module comment. */
export interface RunnerParts {
  readonly sourceRead: SourceRead;
  readonly segmentOwner: SegmentOwner;
  readonly intake: SliceIntake;
  readonly sender: SegmentSender;
  /** Present when timer hints are kept and the task has timers (keyed) or wake-ups (source). */
  readonly timerReporter: TimerReporter | undefined;
}

/** The parts of the runner of `p` under `options`. */
export function runnerParts(options: TaskRunnerOptions, p: RunnerPartition): RunnerParts {
  const { task, partition, generation } = p;
  const { plan, graph, clock, timers: hints } = options;
  return {
    sourceRead: {
      task,
      partition,
      config: graph.config,
      context: {
        job: plan.job,
        currentProcessingTime: () => clock.now(),
        ...(options.ingest ? { ingest: options.ingest } : {}),
        ...(options.tables ? { tables: options.tables } : {}),
      },
    },
    segmentOwner: { task: task.id, partition, generation, config: graph.config },
    intake: new SliceIntake({
      isSource: task.isSource,
      generation,
      channels: new Set(p.channels),
      where: `${task.id}[${partition}]`,
      clock,
      stats: p.stats,
    }),
    sender: new SegmentSender({
      job: plan.job,
      task: task.id,
      partition,
      generation,
      queue: options.queue,
      ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
      report: p.report,
    }),
    timerReporter:
      hints && (task.keyed || task.isSource)
        ? new TimerReporter({ hints, job: plan.job, task: task.id, partition })
        : undefined,
  };
}
