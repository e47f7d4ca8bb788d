/**
 * The AWS {@link TaskScaler}: a task queue's backlog from SQS `GetQueueAttributes`
 * (`ApproximateNumberOfMessages` + `ApproximateNumberOfMessagesNotVisible`), and a
 * task's concurrency applied to its Lambda event source mapping with
 * `UpdateEventSourceMapping`, `ScalingConfig.MaximumConcurrency`.
 *
 * - SQS gives no age of the oldest message (CloudWatch's
 *   `ApproximateAgeOfOldestMessage` does, per minute and at a price), so the
 *   decision runs on backlog and rate alone here.
 * - `MaximumConcurrency` ranges 2–1,000 on AWS: a task at parallelism 1 gets 2. On a
 *   FIFO queue a task at parallelism P has P message groups and Lambda never runs two
 *   batches of one group at once, so it runs at most P invocations anyway.
 */

import { LambdaClient, UpdateEventSourceMappingCommand } from "@aws-sdk/client-lambda";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { RiffleError } from "../../core/errors.ts";
import type { TaskBacklog, TaskScaler } from "../../core/ports/task-scaler.ts";
import { approximateBacklogOf } from "./sqs-admin.ts";

/** Lambda's range of `ScalingConfig.MaximumConcurrency` for SQS event sources. */
export const MAXIMUM_CONCURRENCY = { min: 2, max: 1000 } as const;

/** The `MaximumConcurrency` for a task at `parallelism` partitions (clamped to Lambda's range). */
export function maximumConcurrencyFor(parallelism: number): number {
  return Math.min(MAXIMUM_CONCURRENCY.max, Math.max(MAXIMUM_CONCURRENCY.min, Math.floor(parallelism)));
}

/** Sets the maximum concurrency of one task's event source. */
export type ConcurrencySetter = (task: string, maximumConcurrency: number) => Promise<void>;

/** Options of {@link SqsTaskScaler}. */
export interface SqsTaskScalerOptions {
  readonly sqs: SQSClient;
  /** URL of each task's queue. */
  readonly queueUrl: (task: string) => string;
  /** Applies a task's maximum concurrency: {@link eventSourceMappingSetter} on AWS, the local mapping on aws-local. */
  readonly setMaximumConcurrency: ConcurrencySetter;
}

/** The task scaler over SQS and an event source's maximum concurrency. */
export class SqsTaskScaler implements TaskScaler {
  private readonly o: SqsTaskScalerOptions;

  constructor(options: SqsTaskScalerOptions) {
    this.o = options;
  }

  async backlog(task: string): Promise<TaskBacklog> {
    return approximateBacklogOf(this.o.sqs, this.o.queueUrl(task));
  }

  async setConcurrency(task: string, concurrency: number): Promise<void> {
    await this.o.setMaximumConcurrency(task, maximumConcurrencyFor(concurrency));
  }
}

/**
 * Applies a task's maximum concurrency to its Lambda event source mapping
 * (`mappings`: task id → mapping UUID, `RIFFLE_EVENT_SOURCE_MAPPINGS` on AWS).
 */
export function eventSourceMappingSetter(
  lambda: LambdaClient,
  mappings: Readonly<Record<string, string>>,
): ConcurrencySetter {
  return async (task, MaximumConcurrency) => {
    const UUID = mappings[task];
    if (!UUID) throw new RiffleError("config", `no event source mapping is known for task '${task}'`);
    try {
      await lambda.send(new UpdateEventSourceMappingCommand({ UUID, ScalingConfig: { MaximumConcurrency } }));
    } catch (cause) {
      const name = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      throw new RiffleError(
        "scale-failed",
        `UpdateEventSourceMapping of task '${task}' (${UUID}) to MaximumConcurrency ${MaximumConcurrency} failed: ${name}`,
        { cause, retryable: true },
      );
    }
  };
}

/** The scaler of a deployed coordinator, from its environment (`RIFFLE_EVENT_SOURCE_MAPPINGS`: task id → UUID). */
export function taskScalerFromEnv(
  sqs: SQSClient,
  queueUrl: (task: string) => string,
  env: NodeJS.ProcessEnv = process.env,
): SqsTaskScaler {
  let mappings: Record<string, string>;
  try {
    mappings = JSON.parse(env.RIFFLE_EVENT_SOURCE_MAPPINGS ?? "{}");
  } catch (cause) {
    throw new RiffleError("config", "RIFFLE_EVENT_SOURCE_MAPPINGS must be a JSON object of task id → mapping UUID", {
      cause,
    });
  }
  const lambda = new LambdaClient({ region: env.AWS_REGION ?? "us-east-1" });
  return new SqsTaskScaler({ sqs, queueUrl, setMaximumConcurrency: eventSourceMappingSetter(lambda, mappings) });
}
