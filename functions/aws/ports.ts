/**
 * The AWS implementations of every core port, wired together: SQS FIFO queues and
 * DynamoDB tables. One composition root for the Lambdas (`awsPortsFromEnv`) and for
 * local runs (`awsPorts`), so both reach AWS, LocalStack or the emulators by endpoint.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { RiffleError } from "../../core/errors.ts";
import { OffloadingStateStore } from "../../core/log/offloading-store.ts";
import { DynamoCheckpointStore } from "./dynamo-checkpoint-store.ts";
import { dynamoClient, ensureTables, type TableNames, tableNames } from "./dynamo-client.ts";
import { DynamoIngestLog } from "./dynamo-ingest-log.ts";
import { DynamoOutputStore } from "./dynamo-output-store.ts";
import { DynamoStateStore } from "./dynamo-state-store.ts";
import { DynamoTableStore } from "./dynamo-table-store.ts";
import { DynamoTimerHints } from "./dynamo-timer-hints.ts";
import { ensureBucket, S3BlobStore, s3Client } from "./s3-blob-store.ts";
import { SqsQueue, sqsClient } from "./sqs-queue.ts";

/** Every port of a job on AWS. */
export interface AwsPorts {
  readonly dynamo: DynamoDBClient;
  readonly sqs: SQSClient;
  /** The client of the segment bucket (absent: no bucket, every segment inline). */
  readonly s3?: S3Client;
  /** The bucket that holds segment payloads over 4 KB (`core/log/payload.ts`). */
  readonly bucket?: string;
  readonly tables: TableNames;
  /** The DynamoDB state store, wrapped in an {@link OffloadingStateStore} when there is a bucket. */
  readonly state: DynamoStateStore | OffloadingStateStore;
  readonly checkpoints: DynamoCheckpointStore;
  readonly ingest: DynamoIngestLog;
  readonly output: DynamoOutputStore;
  /** The job's dynamic tables (in the output table). */
  readonly dynamicTables: DynamoTableStore;
  readonly queue: SqsQueue;
  /** Each partition's next processing-time timer, for the coordinator's ticks. */
  readonly timers: DynamoTimerHints;
}

/** Where a job's resources are. */
export interface AwsPortsOptions {
  readonly job: string;
  readonly sqs: SQSClient;
  /** DynamoDB endpoint; default: the SDK's (env `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`, else AWS). */
  readonly dynamoEndpoint?: string;
  /** Prefix of the table names (default `riffle`). */
  readonly prefix?: string;
  /** The segment bucket; without it every segment is written inline into DynamoDB. */
  readonly bucket?: string;
  /** S3 endpoint; default: the SDK's (env `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, else AWS). */
  readonly s3Endpoint?: string;
  /** Largest encoded payload kept inline in DynamoDB (default 4 KB, the break-even; see `core/log/payload.ts`). */
  readonly inlineMaxBytes?: number;
  /** URL of each task's FIFO queue. */
  readonly queueUrl: (task: string) => string;
}

/** Builds the ports. */
export function awsPorts(o: AwsPortsOptions): AwsPorts {
  const dynamo = dynamoClient(o.dynamoEndpoint);
  const tables = tableNames(o.prefix ?? "riffle");
  const s3 = o.bucket === undefined ? undefined : s3Client(o.s3Endpoint);
  const blobs = s3 && o.bucket !== undefined ? new S3BlobStore(s3, o.bucket) : undefined;
  const dynamoState = new DynamoStateStore(dynamo, tables, o.job);
  return {
    dynamo,
    sqs: o.sqs,
    ...(s3 && o.bucket !== undefined ? { s3, bucket: o.bucket } : {}),
    tables,
    state: blobs
      ? new OffloadingStateStore(dynamoState, blobs, {
          job: o.job,
          ...(o.inlineMaxBytes === undefined ? {} : { inlineMaxBytes: o.inlineMaxBytes }),
        })
      : dynamoState,
    checkpoints: new DynamoCheckpointStore(dynamo, tables),
    ingest: new DynamoIngestLog(dynamo, tables),
    output: new DynamoOutputStore(dynamo, tables),
    dynamicTables: new DynamoTableStore(dynamo, tables),
    queue: new SqsQueue(o.sqs, { urls: o.queueUrl }),
    timers: new DynamoTimerHints(dynamo, tables),
  };
}

/** Creates the tables and the bucket if they do not exist (local runs; on AWS the stack creates them). */
export async function prepareTables(ports: AwsPorts): Promise<void> {
  await ensureTables(ports.dynamo, ports.tables);
  if (ports.s3 && ports.bucket !== undefined) await ensureBucket(ports.s3, ports.bucket);
}

/**
 * The ports of a deployed Lambda, from its environment: `RIFFLE_TABLE_PREFIX`,
 * `RIFFLE_BUCKET` (the segment bucket) and `RIFFLE_QUEUE_URLS` (a JSON object task
 * id → queue URL), all set by the stack; `RIFFLE_SEGMENT_INLINE_BYTES` overrides
 * the inline threshold of payloads (tests set 0 to send every payload to S3).
 */
export function awsPortsFromEnv(job: string, env: NodeJS.ProcessEnv = process.env): AwsPorts {
  let urls: Record<string, string>;
  try {
    urls = JSON.parse(env.RIFFLE_QUEUE_URLS ?? "");
  } catch (cause) {
    throw new RiffleError("config", "RIFFLE_QUEUE_URLS must be a JSON object of task id → queue URL", { cause });
  }
  return awsPorts({
    job,
    sqs: sqsClient(),
    ...(env.RIFFLE_TABLE_PREFIX ? { prefix: env.RIFFLE_TABLE_PREFIX } : {}),
    ...(env.RIFFLE_BUCKET ? { bucket: env.RIFFLE_BUCKET } : {}),
    ...(env.RIFFLE_SEGMENT_INLINE_BYTES ? { inlineMaxBytes: inlineBytes(env.RIFFLE_SEGMENT_INLINE_BYTES) } : {}),
    queueUrl: (task) => {
      const url = urls[task];
      if (!url) throw new RiffleError("config", `RIFFLE_QUEUE_URLS has no queue for task '${task}'`);
      return url;
    },
  });
}

function inlineBytes(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RiffleError("config", `RIFFLE_SEGMENT_INLINE_BYTES must be an integer ≥ 0, got '${v}'`);
  }
  return n;
}
