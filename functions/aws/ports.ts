/**
 * The AWS implementations of every core port, wired together: SQS FIFO queues and
 * DynamoDB tables. One composition root for the Lambdas (`awsPortsFromEnv`) and for
 * local runs (`awsPorts`), so both reach AWS, LocalStack or the emulators by endpoint.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { RiffleError } from "../../core/errors.ts";
import { DynamoCheckpointStore } from "./dynamo-checkpoint-store.ts";
import { dynamoClient, ensureTables, type TableNames, tableNames } from "./dynamo-client.ts";
import { DynamoIngestLog } from "./dynamo-ingest-log.ts";
import { DynamoOutputStore } from "./dynamo-output-store.ts";
import { DynamoStateStore } from "./dynamo-state-store.ts";
import { DynamoTimerHints } from "./dynamo-timer-hints.ts";
import { SqsQueue, sqsClient } from "./sqs-queue.ts";

/** Every port of a job on AWS. */
export interface AwsPorts {
  readonly dynamo: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly tables: TableNames;
  readonly state: DynamoStateStore;
  readonly checkpoints: DynamoCheckpointStore;
  readonly ingest: DynamoIngestLog;
  readonly output: DynamoOutputStore;
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
  /** URL of each task's FIFO queue. */
  readonly queueUrl: (task: string) => string;
}

/** Builds the ports. */
export function awsPorts(o: AwsPortsOptions): AwsPorts {
  const dynamo = dynamoClient(o.dynamoEndpoint);
  const tables = tableNames(o.prefix ?? "riffle");
  return {
    dynamo,
    sqs: o.sqs,
    tables,
    state: new DynamoStateStore(dynamo, tables, o.job),
    checkpoints: new DynamoCheckpointStore(dynamo, tables),
    ingest: new DynamoIngestLog(dynamo, tables),
    output: new DynamoOutputStore(dynamo, tables),
    queue: new SqsQueue(o.sqs, { urls: o.queueUrl }),
    timers: new DynamoTimerHints(dynamo, tables),
  };
}

/** Creates the tables if they do not exist (local runs; on AWS the stack creates them). */
export async function prepareTables(ports: AwsPorts): Promise<void> {
  await ensureTables(ports.dynamo, ports.tables);
}

/**
 * The ports of a deployed Lambda, from its environment: `RIFFLE_TABLE_PREFIX` and
 * `RIFFLE_QUEUE_URLS` (a JSON object task id → queue URL), both set by the stack.
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
    queueUrl: (task) => {
      const url = urls[task];
      if (!url) throw new RiffleError("config", `RIFFLE_QUEUE_URLS has no queue for task '${task}'`);
      return url;
    },
  });
}
