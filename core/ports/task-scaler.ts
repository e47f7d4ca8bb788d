/**
 * The `TaskScaler` port: what autoscaling measures of a task's queue, and how it
 * applies a task's new parallelism to the thing that feeds it. Implementations: in
 * memory for the embedded runtime (`core/memory/in-memory-task-scaler.ts`), SQS and
 * the Lambda event source mapping on AWS (`functions/aws/sqs-lambda-scaler.ts`), and
 * the emulated mapping of aws-local (`functions/local/esm.ts`).
 */

/** A task queue's backlog. */
export interface TaskBacklog {
  /** Messages waiting to be received. */
  readonly visible: number;
  /** Messages received and not yet deleted (a batch in flight). */
  readonly inFlight: number;
  /** Age of the oldest message in seconds, when the queue can tell (SQS's attributes cannot). */
  readonly oldestAgeSeconds?: number;
}

/** Measures task queues and sets how many partitions of a task run at once. */
export interface TaskScaler {
  /** The backlog of `task`'s queue now. */
  backlog(task: string): Promise<TaskBacklog>;
  /**
   * Lets at most `concurrency` partitions of `task` run at once (the event source
   * mapping's maximum concurrency on AWS). Idempotent.
   */
  setConcurrency(task: string, concurrency: number): Promise<void>;
}
