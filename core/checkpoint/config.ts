/** Checkpoint and failure-handling settings of a job. */

/** How often and how patiently checkpoints are taken. */
export interface CheckpointConfig {
  /** Time between checkpoint triggers. */
  readonly intervalMs: number;
  /** Least time between a completion and the next trigger. */
  readonly minPauseMs: number;
  /** Checkpoints in flight at once. */
  readonly maxConcurrent: number;
  /** A checkpoint not complete after this long is aborted. */
  readonly timeoutMs: number;
  /** Consecutive aborted checkpoints tolerated; one more fails the job over. */
  readonly tolerableFailures: number;
}

/** Defaults: every second, one at a time, 60 s timeout, 3 tolerable failures. */
export const DEFAULT_CHECKPOINT_CONFIG: CheckpointConfig = {
  intervalMs: 1000,
  minPauseMs: 0,
  maxConcurrent: 1,
  timeoutMs: 60_000,
  tolerableFailures: 3,
};

/**
 * The longest a coordinator step or an API call runs. On AWS each runs in a Lambda
 * whose timeout ends it sooner (the stacks' coordinator and API timeouts are tested
 * against this). A restore a step began and still holds after this long belongs to
 * a step that is gone: the next round finishes it.
 */
export const LONGEST_STEP_MS = 180_000;

/** What happens when a task keeps failing. */
export interface RestartStrategy {
  /** Restores from the last completed checkpoint at most this many times, then the job fails. */
  readonly attempts: number;
  /** Wait before each restore. */
  readonly delayMs: number;
}

/** Default: fixed delay, 3 attempts, 1 s apart (as Flink's fixed-delay strategy). */
export const DEFAULT_RESTART_STRATEGY: RestartStrategy = { attempts: 3, delayMs: 1000 };

/**
 * What to do with a record whose operator keeps throwing: fail the job over to its
 * last checkpoint (`restart`, the default, as in Flink), or set it aside in the
 * dead-letter path and go on (`dead-letter`).
 */
export type RecordFailureStrategy = "dead-letter" | "restart";
