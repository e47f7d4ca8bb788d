/** Options and result types of the embedded runtime. */

import type { CoordinatorEvent } from "../checkpoint/coordinator.ts";
import type { LazyMarks } from "../checkpoint/published-marks.ts";
import { JobFailedError } from "../checkpoint/steps.ts";
import { RiffleError } from "../errors.ts";
import type { TaskPlan } from "../graph/plan.ts";
import type { InMemoryQueue } from "../memory/in-memory-queue.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { IngestLog } from "../ports/ingest-log.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { Queue, ReceivedMessage } from "../ports/queue.ts";
import type { DeadLetter, StateStore } from "../ports/state-store.ts";
import type { TableStore } from "../ports/table-store.ts";
import type { TaskScaler } from "../ports/task-scaler.ts";
import type { BatchResult, InboundMessage, TaskRunner } from "./task-runner.ts";

/** Most envelopes in one batch, as with the SQS event source mapping. */
export const MAX_BATCH = 10;

/** Options of {@link EmbeddedRuntime}. */
export interface EmbeddedOptions {
  /** Default parallelism (overrides the job's). */
  readonly parallelism?: number;
  /** Processing clock; the scheduler also waits on it. Default: the system clock. */
  readonly clock?: Clock;
  /** State store. Default: a new in-memory store. */
  readonly store?: StateStore;
  /** Checkpoint store. Default: a new in-memory store. */
  readonly checkpoints?: CheckpointStore;
  /** Measures the queues and applies concurrency for autoscaling. Default: over the queue, in memory. */
  readonly scaler?: TaskScaler;
  /** Queue. Default: a new in-memory queue on `clock`. */
  readonly queue?: Queue & Pick<InMemoryQueue, "nextVisibleAt" | "backlog" | "deadLetters">;
  /** The log behind ingest sources (jobs with `fromIngest` need one). */
  readonly ingest?: IngestLog;
  /** How long the scheduler sleeps while only parked ingest sources remain. Default 20 ms. */
  readonly idleSleepMs?: number;
  /** Delay before a failed batch is retried. Default 100 ms. */
  readonly retryDelayMs?: number;
  /** With a {@link ManualClock}: time each batch takes (so checkpoint intervals elapse in simulations). */
  readonly batchTimeMs?: number;
  /** Called with every record committed to a sink, in commit order per partition, when its checkpoint completes. */
  readonly onOutput?: (sink: string, values: readonly unknown[], task: string, partition: number) => void;
  /** Called for every checkpoint completed or aborted, and every failover. */
  readonly onCheckpoint?: (event: CoordinatorEvent) => void;
  /** Called before every batch; tests use it to inject faults (e.g. `runner.crash()`). */
  readonly beforeBatch?: (runner: TaskRunner) => void;
  /**
   * Simulation hooks (seeded schedulers use them): the order in which tasks get a
   * turn each round, the batch size of each receive, a wrapper around each batch
   * (e.g. to run a zombie container on the same messages), and whether the
   * container "survives" to delete its messages (false: they reappear after the
   * visibility timeout).
   */
  readonly simulation?: {
    readonly order?: (tasks: readonly TaskPlan[]) => readonly TaskPlan[];
    readonly batchSize?: () => number;
    readonly wrapBatch?: (
      runner: TaskRunner,
      messages: readonly InboundMessage[],
      run: () => Promise<BatchResult>,
    ) => Promise<BatchResult>;
    readonly deleteAfterBatch?: () => boolean;
    /**
     * Runs a whole receive (which may span partitions) as one task invocation would
     * on AWS, instead of one runner per partition: resolves with the receipts to
     * retry (every receipt when the invocation died). The simulation runs the task
     * Lambda's handler here, so its group split, partial batch failures and
     * generation check are under the same faults.
     */
    readonly invoke?: (
      task: TaskPlan,
      messages: readonly ReceivedMessage[],
    ) => Promise<{ readonly retry: ReadonlySet<string>; readonly error?: string }>;
    /**
     * Runs each settle, restore and autoscale round of the checkpoint driver, as the
     * Step Functions machine runs its Lambda task: the simulation injects coordinator
     * crashes there and runs the call again, as the machine's retry does.
     */
    readonly coordinatorCall?: <T>(call: () => Promise<T>) => Promise<T>;
    /**
     * The published marks a warm AWS coordinator container keeps (`published-marks.ts`):
     * with them, the driver's completions write their marks lazily, as the round's do.
     */
    readonly marks?: LazyMarks;
  };
  /** Stops the job: it takes a last checkpoint, publishes it, and returns. */
  readonly signal?: AbortSignal;
  /** Starts from this savepoint (at the job's current parallelism) instead of from scratch or the last checkpoint. */
  readonly fromSavepoint?: string;
  /** On stop, also materialize the last checkpoint as a savepoint of this name (stop-with-savepoint). */
  readonly stopWithSavepoint?: string;
  /**
   * Where committed output is published when a checkpoint completes (e.g. the CLI's
   * `--out` file with a state dir). Default: a new in-memory output store.
   */
  readonly output?: OutputStore;
  /** Where the job's dynamic tables live (`toTable`). Default: a new in-memory table store. */
  readonly tables?: TableStore;
}

/** A dead letter together with where it happened. */
export interface TaskDeadLetter extends DeadLetter {
  readonly task: string;
  readonly partition: number;
}

/** The job stopped making progress with work left (e.g. a channel lost an envelope to the DLQ). */
export class JobStalledError extends RiffleError {
  constructor(message: string) {
    super("job-stalled", message);
  }
}

export { JobFailedError };

/** Per-task figures for progress reporting. */
export interface TaskProgress {
  readonly task: string;
  readonly backlog: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
}
