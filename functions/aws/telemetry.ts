/**
 * Logs and metrics of the riffle Lambdas in the shapes AWS users expect, through
 * Powertools for AWS Lambda: structured JSON log lines carrying the job, the task or
 * role, and the partition, generation and checkpoint where one applies; and CloudWatch
 * metrics in the Embedded Metric Format (one JSON line per invocation that CloudWatch
 * Logs turns into metrics, with no PutMetricData call and no extra permission).
 *
 * A task invocation's line has its messages, records in and out, segments, dead
 * letters, batch duration and, where the function counts its requests
 * (`invocation-cost.ts`), the cost units it spent; the coordinator's round writes one
 * line per checkpoint it completes (duration, alignment, bytes; `task` dimension
 * {@link COORDINATOR_TELEMETRY}).
 *
 * Metrics are dimensioned by job and task only: a partition dimension would make one
 * billed custom metric per partition. The stack's CloudWatch dashboard
 * (`stacks/dashboard.ts`) charts them.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { CostUnits, InvocationCost } from "./invocation-cost.ts";

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

/** The cost units an invocation publishes when its function counts them ({@link InvocationCost}). */
export const COST_METRICS = {
  ReadCapacityUnits: MetricUnit.Count,
  WriteCapacityUnits: MetricUnit.Count,
  SqsRequests: MetricUnit.Count,
  S3Requests: MetricUnit.Count,
  LambdaGBSeconds: MetricUnit.Seconds,
} as const;

/** The `task` dimension of the coordinator's metrics (task ids never equal it: they end in `-<n>`). */
export const COORDINATOR_TELEMETRY = "coordinator";

/** The metrics a completed checkpoint publishes (from the coordinator's round that completed it). */
export const CHECKPOINT_METRICS = {
  CheckpointDuration: MetricUnit.Milliseconds,
  CheckpointAlignment: MetricUnit.Milliseconds,
  CheckpointBytes: MetricUnit.Bytes,
} as const;

function addCost(metrics: Metrics, c: CostUnits): void {
  metrics.addMetric("ReadCapacityUnits", COST_METRICS.ReadCapacityUnits, c.readUnits);
  metrics.addMetric("WriteCapacityUnits", COST_METRICS.WriteCapacityUnits, c.writeUnits);
  metrics.addMetric("SqsRequests", COST_METRICS.SqsRequests, c.sqsRequests);
  metrics.addMetric("S3Requests", COST_METRICS.S3Requests, c.s3Requests);
  metrics.addMetric("LambdaGBSeconds", COST_METRICS.LambdaGBSeconds, c.lambdaGbSeconds);
}

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

/**
 * Telemetry of a function of `job` that runs `task` (a task id, or a role such as
 * `round`); with `cost`, each task invocation's line also carries the cost units it spent.
 */
export function lambdaTelemetry(job: string, task: string, cost?: InvocationCost): Telemetry {
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
      if (cost) addCost(metrics, cost.take(i.durationMs));
      metrics.publishStoredMetrics();
    },
    checkpointCompleted(c) {
      metrics.addMetric("CheckpointDuration", CHECKPOINT_METRICS.CheckpointDuration, c.durationMs);
      if (c.alignmentMs !== undefined)
        metrics.addMetric("CheckpointAlignment", CHECKPOINT_METRICS.CheckpointAlignment, c.alignmentMs);
      if (c.bytes !== undefined) metrics.addMetric("CheckpointBytes", CHECKPOINT_METRICS.CheckpointBytes, c.bytes);
      metrics.addMetadata("checkpoint", String(c.id));
      metrics.publishStoredMetrics();
    },
  };
}
