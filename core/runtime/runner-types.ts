/**
 * What a `TaskRunner` is given and gives back: its options, the messages
 * of a batch, the batch's result, and its counters.
 */

import type { Envelope } from "../envelope.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { IngestLog } from "../ports/ingest-log.ts";
import type { Queue } from "../ports/queue.ts";
import type { Segment, StateStore } from "../ports/state-store.ts";
import type { TableStore } from "../ports/table-store.ts";
import type { TimerHints } from "../ports/timer-hints.ts";

/** A message handed to the runner, with its delivery count. */
export interface InboundMessage {
  readonly body: Envelope;
  /** Receives of this message so far, this one included. */
  readonly receiveCount: number;
}

/** Outcome of one batch. */
export interface BatchResult {
  /** Index of the first message that failed; it and all later ones must be retried. `undefined`: all succeeded. */
  readonly failedFrom: number | undefined;
  /** Why the batch (or its tail) failed. */
  readonly error?: unknown;
  /** The last segment this batch committed, if any. */
  readonly segment?: Segment;
}

/** Where a TaskRunner runs and what it talks to. */
export interface TaskRunnerOptions {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly task: string;
  readonly partition: number;
  readonly queue: Queue;
  readonly store: StateStore;
  readonly clock: Clock;
  /** Current job generation; envelopes of older generations are dropped. */
  readonly generation: number;
  /** Where acks of epochs and of end-of-input go. Without it, none are written. */
  readonly checkpoints?: CheckpointStore;
  /** The log behind ingest sources (required by jobs that have one). */
  readonly ingest?: IngestLog;
  /** The dynamic tables sources may read (another job's table as a source). */
  readonly tables?: TableStore;
  /** Where to record the partition's next processing-time timer, for a coordinator that cannot see this runner (AWS). */
  readonly timers?: TimerHints;
  /**
   * The envelopes next in line for this partition after its batch in flight (embedded,
   * for a task that calls out): once a slice has its remote answers, the calls for
   * these start, so that the function works on the next batch while this one commits.
   * A hint: what the next batch really consumes decides, and a call it does not use is
   * dropped (a remote function is stateless and may be called again).
   */
  readonly lookAhead?: () => readonly Envelope[];
}

/** Counters of one runner. */
export interface RunnerStats {
  batches: number;
  recordsIn: number;
  recordsOut: number;
  segments: number;
  duplicates: number;
  deadLetters: number;
}
