/**
 * Logs and metrics of the riffle Lambdas in the shapes AWS users expect, through
 * Powertools for AWS Lambda: structured JSON log lines carrying the job, the task or
 * role, and the partition, generation and checkpoint where one applies; and CloudWatch
 * metrics in the Embedded Metric Format (one JSON line per invocation that CloudWatch
 * Logs turns into metrics, with no PutMetricData call and no extra permission).
 *
 * Metrics are dimensioned by job and task only: a partition dimension would make one
 * billed custom metric per partition. The stack's CloudWatch dashboard
 * (`stacks/dashboard.ts`) charts them.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

/** The CloudWatch namespace of every riffle metric. */
export const METRICS_NAMESPACE = "riffle";

/** What one task invocation did. */
export interface TaskInvocation {
  /** SQS messages in the batch. */
  readonly messages: number;
  /** Messages reported as failed (redelivered later). */
  readonly failed: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  /** Segments committed. */
  readonly segments: number;
  /** Records set aside as dead letters. */
  readonly deadLetters: number;
  readonly durationMs: number;
}

/** The metric names and units a task invocation publishes. */
export const TASK_METRICS = {
  Messages: MetricUnit.Count,
  FailedMessages: MetricUnit.Count,
  RecordsIn: MetricUnit.Count,
  RecordsOut: MetricUnit.Count,
  SegmentsCommitted: MetricUnit.Count,
  DeadLetters: MetricUnit.Count,
  BatchDuration: MetricUnit.Milliseconds,
} as const;

/**
 * The dimensions of a task's metrics: the service (Powertools' own dimension), the
 * job and the task. The stack's dashboard charts exactly these.
 */
export function taskDimensions(job: string, task: string): { service: string; job: string; task: string } {
  return { service: `riffle-${job}`, job, task };
}

/** A log line's extra fields (partition, generation, checkpoint, error, …). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Logging and metrics of one function. */
export interface Telemetry {
  /** Logs an error line with `fields` beside the persistent job and task keys. */
  readonly error: (message: string, fields?: LogFields) => void;
  readonly info: (message: string, fields?: LogFields) => void;
  /** Publishes one task invocation's metrics as one EMF line. */
  taskInvocation(i: TaskInvocation): void;
  /** Publishes one completed checkpoint's duration, alignment and bytes as one EMF line. */
  checkpointCompleted(c: { id: number; durationMs: number; alignmentMs?: number; bytes?: number }): void;
}

/** Telemetry of a function of `job` that runs `task` (a task id, or a role such as `round`). */
export function lambdaTelemetry(job: string, task: string): Telemetry {
  const { service } = taskDimensions(job, task);
  const logger = new Logger({ serviceName: service, persistentKeys: { job, task } });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service, defaultDimensions: { job, task } });
  return {
    error: (message, fields) => logger.error(message, { ...fields }),
    info: (message, fields) => logger.info(message, { ...fields }),
    taskInvocation(i) {
      metrics.addMetric("Messages", TASK_METRICS.Messages, i.messages);
      metrics.addMetric("FailedMessages", TASK_METRICS.FailedMessages, i.failed);
      metrics.addMetric("RecordsIn", TASK_METRICS.RecordsIn, i.recordsIn);
      metrics.addMetric("RecordsOut", TASK_METRICS.RecordsOut, i.recordsOut);
      metrics.addMetric("SegmentsCommitted", TASK_METRICS.SegmentsCommitted, i.segments);
      metrics.addMetric("DeadLetters", TASK_METRICS.DeadLetters, i.deadLetters);
      metrics.addMetric("BatchDuration", TASK_METRICS.BatchDuration, i.durationMs);
      metrics.publishStoredMetrics();
    },
    checkpointCompleted(c) {
      metrics.addMetric("CheckpointDuration", MetricUnit.Milliseconds, c.durationMs);
      if (c.alignmentMs !== undefined) metrics.addMetric("CheckpointAlignment", MetricUnit.Milliseconds, c.alignmentMs);
      if (c.bytes !== undefined) metrics.addMetric("CheckpointBytes", MetricUnit.Bytes, c.bytes);
      metrics.addMetadata("checkpoint", String(c.id));
      metrics.publishStoredMetrics();
    },
  };
}
