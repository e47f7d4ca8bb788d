/**
 * The options, stats and handle of the local event source mapping (`esm.ts`), and
 * the check of its numeric options.
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { RiffleError } from "../../core/errors.ts";

/** A Lambda handler of SQS events (async form), typed as @types/aws-lambda's `SQSHandler` result. */
// biome-ignore lint/suspicious/noConfusingVoidType: an `async` handler that returns nothing resolves `void`, as in SQSHandler.
export type SqsEventHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** What {@link EventSourceMappingOptions.onInvoke} learns of one settled invocation. */
export interface InvocationInfo {
  /** Records in the event. */
  readonly records: number;
  /** Time the handler took, in ms. */
  readonly durationMs: number;
  /** Records left on the queue for a retry. */
  readonly failed: number;
  /** What the handler threw, or the error describing an invalid response (whole batch failed). */
  readonly error?: unknown;
}

/** Counters of {@link EventSourceMapping.stats}. */
export interface EventSourceMappingStats {
  /** Handler invocations that have settled. */
  readonly invocations: number;
  /** Records handed to the handler (redeliveries count again). */
  readonly records: number;
  /** Records left on the queue for a retry. */
  readonly failedRecords: number;
  /** Invocations that failed as a whole: the handler threw or returned an invalid response. */
  readonly errors: number;
  /** Failed SQS calls of the mapping itself (receive, delete, change visibility). */
  readonly sqsErrors: number;
  /** Its maximum concurrency now (`concurrency`, or what {@link EventSourceMapping.setMaximumConcurrency} set). */
  readonly maximumConcurrency: number;
  /** Most invocations in flight at once since the maximum concurrency was last set. */
  readonly peakInFlight: number;
}

/** Options of {@link startEventSourceMapping}. */
export interface EventSourceMappingOptions {
  readonly client: SQSClient;
  /** The URL of the (FIFO) queue to consume. */
  readonly queueUrl: string;
  /** `eventSourceARN` of the records; derived from the URL when absent. */
  readonly queueArn?: string;
  readonly handler: SqsEventHandler;
  /** Records per invocation, 1–10 (default 10). */
  readonly batchSize?: number;
  /** Concurrent invocations (default 4); never two of one message group. */
  readonly concurrency?: number;
  /** Pause after an empty receive when `waitTimeSeconds` is 0, in ms (default 50). */
  readonly pollIntervalMs?: number;
  /**
   * Long polling of each receive, whole seconds 0–20 (default 1). `stop()` waits for a
   * pending receive, so it may take up to this long.
   */
  readonly waitTimeSeconds?: number;
  /**
   * When set, failed records become visible again after this delay (rounded up to
   * whole seconds; 0 = at once) instead of at the end of the visibility timeout (AWS).
   */
  readonly retryDelayMs?: number;
  /** `context.functionName` (default "local-function"). */
  readonly functionName?: string;
  /**
   * Start value of `context.getRemainingTimeInMillis()`, in ms (default 60000). Not enforced:
   * an invocation still running after it is logged once.
   */
  readonly timeoutMs?: number;
  /** Called after each invocation has settled (messages deleted or left). */
  readonly onInvoke?: (info: InvocationInfo) => void;
  /** Receives one line per notable event (failures, held redeliveries, SQS errors). */
  readonly log?: (line: string) => void;
}

/** A running mapping. */
export interface EventSourceMapping {
  /** Stops polling, waits for in-flight invocations to settle, then releases received, undelivered messages. */
  stop(): Promise<void>;
  /** Counters so far. */
  stats(): EventSourceMappingStats;
  /**
   * Changes the concurrent invocations (Lambda's `ScalingConfig.MaximumConcurrency`):
   * more start at once; with fewer, invocations in flight finish and no new one starts
   * until the count is below the new maximum.
   */
  setMaximumConcurrency(n: number): void;
}

/** `value` when it is an integer in [min, max]; else a `RiffleError` (reason `esm-config`). */
export function int(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RiffleError(
      "esm-config",
      `event source mapping option ${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
  return value;
}
