/**
 * One SQS FIFO queue per task, with its FIFO dead-letter queue: high-throughput FIFO
 * (deduplication per message group, throughput limit per group: each partition is a
 * group), 1 MiB messages, a visibility timeout of 6× the task function's timeout, and
 * a RedrivePolicy moving a message to the DLQ after the job's `maxReceiveCount`.
 */

import { Duration } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { SQS_MAX_BYTES } from "../functions/aws/sqs-queue.ts";
import type { DeploymentPlan } from "./deploy-plan.ts";

/** A task's queue and its DLQ. */
export interface TaskQueues {
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
}

/** Messages are kept as long as SQS allows (14 days), so a stalled job loses nothing. */
const RETENTION = Duration.days(14);

/** Creates every task's queue and DLQ; returns them by task id. */
export function createQueues(scope: Construct, d: DeploymentPlan): Map<string, TaskQueues> {
  const out = new Map<string, TaskQueues>();
  for (const t of d.tasks) {
    const dlq = new sqs.Queue(scope, `Task${t.index}Dlq`, {
      queueName: `${t.queueName}-dlq.fifo`,
      fifo: true,
      retentionPeriod: RETENTION,
      maxMessageSizeBytes: SQS_MAX_BYTES,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const queue = new sqs.Queue(scope, `Task${t.index}Queue`, {
      queueName: `${t.queueName}.fifo`,
      fifo: true,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      contentBasedDeduplication: false,
      visibilityTimeout: Duration.seconds(t.visibilityTimeoutSeconds),
      maxMessageSizeBytes: SQS_MAX_BYTES,
      retentionPeriod: RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: dlq, maxReceiveCount: d.aws.maxReceiveCount },
    });
    out.set(t.task.id, { queue, dlq });
  }
  return out;
}
