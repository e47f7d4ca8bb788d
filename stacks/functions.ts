/**
 * The job's Lambda functions, all running one bundle (`stacks/bundle.ts`): a task
 * function per task fed by its queue, the six coordinator steps, and the HTTP API
 * function. Node.js 22 on arm64. IAM is least privilege and every SQS and DynamoDB
 * grant names its resources (no wildcard):
 *
 * - a task function consumes its own queue, sends to its downstream queues (and its
 *   own, if it is a source: polls), reads and writes the log, state and checkpoints
 *   tables, and reads the ingest table if it reads an HTTP source;
 * - the round gets exactly the table actions of the steps it runs (`grants.ts`,
 *   `ROUND_GRANTS`), sends to the source queues (barriers, start signals) and the
 *   signalled tasks' queues, and knows the coordinator machine's ARN (with it, a
 *   quiet job's coordinator may sleep); ContinueAsNew may only start an execution of
 *   the coordinator state machine;
 * - the API function reads and writes every table, sends to every task queue (ingest
 *   wake-ups, restores, replays), reads queue depths, lists the DLQs, and reads its
 *   key secret (`secretsmanager:GetSecretValue` on that secret only).
 *
 * Table grants are explicit action lists (`grants.ts`): no function may read a
 * table's DynamoDB stream. Every function gets the segment bucket's name
 * (`RIFFLE_BUCKET`) and its row of bucket actions, on the job's prefix only.
 */

import { Aws, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import type { CoordinatorFunctions } from "../core/checkpoint/asl.ts";
import { RiffleError } from "../core/errors.ts";
import { scalableTasks } from "../core/graph/rescale.ts";
import { maximumConcurrencyFor } from "../functions/aws/sqs-lambda-scaler.ts";
import { ENTRY } from "./bundle.ts";
import type { DeploymentPlan, TaskDeployment } from "./deploy-plan.ts";
import {
  API_BUCKET,
  API_GRANTS,
  AUTOSCALE_GRANTS,
  grantBucket,
  grantInvoke,
  grantTables,
  ROUND_GRANTS,
  TASK_BUCKET,
  taskGrants,
  unionGrants,
} from "./grants.ts";
import { createPythonFunctions } from "./python-functions.ts";
import type { TaskQueues } from "./queues.ts";
import type { Tables } from "./tables.ts";

/** Records per SQS batch (the most a FIFO event source allows). */
export const BATCH_SIZE = 10;
/** Timeout of the coordinator steps (a Complete publishes and compacts a checkpoint's output). */
export const COORDINATOR_TIMEOUT_SECONDS = 120;
/** Timeout of the API function: API Gateway's HTTP API waits at most 30 s. */
export const API_TIMEOUT_SECONDS = 29;
/** Lambda's limit on a function's environment variables, keys and values together. */
export const LAMBDA_ENV_LIMIT_BYTES = 4096;

/** The coordinator's functions, in the order of {@link CoordinatorFunctions}. */
export const COORDINATOR_ROLES = ["round", "continueAsNew"] as const;

/** What the functions are built from. */
export interface FunctionsInput {
  readonly deployment: DeploymentPlan;
  readonly code: lambda.Code;
  readonly queues: ReadonlyMap<string, TaskQueues>;
  readonly tables: Tables;
  /** The segment bucket (payloads over 4 KB). */
  readonly bucket: s3.IBucket;
  /** ARN of the coordinator state machine (built from its fixed name, so no dependency cycle). */
  readonly stateMachineArn: string;
  /** Environment of the API function beyond the common one (where its credential is). */
  readonly apiEnvironment: Readonly<Record<string, string>>;
  /** Secrets the API function may read (`secretsmanager:GetSecretValue`), by ARN. */
  readonly apiSecrets: readonly string[];
}

/** The functions, by role. */
export interface JobFunctions {
  /** Task functions by task id. */
  readonly tasks: ReadonlyMap<string, lambda.Function>;
  readonly coordinator: { readonly [K in keyof CoordinatorFunctions]: lambda.Function };
  readonly api: lambda.Function;
}

/** Creates every function with its grants and event sources. */
export function createFunctions(scope: Construct, input: FunctionsInput): JobFunctions {
  const { deployment: d, queues, tables } = input;
  const queue = (task: string): TaskQueues => {
    const q = queues.get(task);
    if (!q) throw new RiffleError("deploy-config", `no queue was created for task '${task}'`);
    return q;
  };
  const urls = (tasks: readonly string[], pick: (q: TaskQueues) => string = (q) => q.queue.queueUrl) =>
    Stack.of(scope).toJsonString(Object.fromEntries(tasks.map((t) => [t, pick(queue(t))])));
  const common = {
    RIFFLE_TABLE_PREFIX: d.prefix,
    RIFFLE_BUCKET: input.bucket.bucketName,
    NODE_OPTIONS: "--enable-source-maps",
    ...(d.parallelism === undefined ? {} : { RIFFLE_PARALLELISM: String(d.parallelism) }),
  };
  const fn = (id: string, role: string, o: { memoryMb: number; timeoutSeconds: number; description: string }) => {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return new lambda.Function(scope, id, {
      description: o.description.slice(0, 256),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code: input.code,
      handler: `${ENTRY}.${role}`,
      memorySize: o.memoryMb,
      timeout: Duration.seconds(o.timeoutSeconds),
      logGroup,
    });
  };
  const env = (f: lambda.Function, vars: Record<string, string>, estimate: number) => {
    checkEnvironmentSize(f.node.id, vars, estimate);
    for (const [k, v] of Object.entries(vars)) f.addEnvironment(k, v);
  };

  // Scale to zero: a task or the API that brings new work wakes a sleeping coordinator
  // (StartExecution on the machine); the trigger, knowing the machine, may put it to sleep.
  const wakes = { RIFFLE_STATE_MACHINE_ARN: input.stateMachineArn };
  const mayWake = (f: lambda.Function) =>
    f.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["states:StartExecution"], resources: [input.stateMachineArn] }),
    );

  // Python remote functions deployed beside the job; the tasks that name one may invoke it.
  const python = createPythonFunctions(scope, d.aws.pythonFunctions ?? {}, d.aws);

  // Task functions. With autoscale, the scalable tasks' event source mappings are the coordinator's to resize.
  const scalable = new Set(d.aws.autoscale ? scalableTasks(d.plan).map((t) => t.id) : []);
  const mappings = new Map<string, SqsEventSource>();
  const tasks = new Map<string, lambda.Function>();
  for (const t of d.tasks) {
    const f = fn(`Task${t.index}`, "task", {
      memoryMb: t.memoryMb,
      timeoutSeconds: t.timeoutSeconds,
      description: `riffle job '${d.job}': task '${t.task.id}'`,
    });
    env(
      f,
      { ...common, RIFFLE_TASK: t.task.id, RIFFLE_QUEUE_URLS: urls(t.sendsTo), ...wakes },
      urlEstimate(d, t.sendsTo) + 200,
    );
    mayWake(f);
    // An autoscaled task starts at the MaximumConcurrency of its parallelism; the coordinator changes it.
    const source = new SqsEventSource(queue(t.task.id).queue, {
      batchSize: BATCH_SIZE,
      reportBatchItemFailures: true,
      ...(scalable.has(t.task.id) ? { maxConcurrency: maximumConcurrencyFor(t.task.parallelism) } : {}),
    });
    f.addEventSource(source);
    if (scalable.has(t.task.id)) mappings.set(t.task.id, source);
    for (const to of t.sendsTo) queue(to).queue.grantSendMessages(f);
    grantTables(f, tables, taskGrants(t.readsIngest));
    grantBucket(f, input.bucket, d.job, TASK_BUCKET);
    grantInvoke(f, t.invokes, python);
    tasks.set(t.task.id, f);
  }

  // Coordinator steps.
  // A step that sends nothing gets no queue URLs (and no SendMessage).
  const sendsNothing = { ...common, RIFFLE_QUEUE_URLS: "{}" };
  const step = (role: (typeof COORDINATOR_ROLES)[number], index: number) => {
    const f = fn(`Coordinator${index}${role[0]?.toUpperCase()}${role.slice(1)}`, role, {
      memoryMb: d.aws.coordinatorMemoryMb,
      timeoutSeconds: COORDINATOR_TIMEOUT_SECONDS,
      description: `riffle job '${d.job}': coordinator step '${role}'`,
    });
    if (role === "continueAsNew") {
      env(f, { ...sendsNothing, RIFFLE_STATE_MACHINE_ARN: input.stateMachineArn }, 200);
      f.addToRolePolicy(
        new iam.PolicyStatement({ actions: ["states:StartExecution"], resources: [input.stateMachineArn] }),
      );
    } else {
      // The round runs the autoscale round (a rescale's restore, queue depths, mapping
      // updates) and finishes a rescale that died midway (a stale restore).
      const scales = scalable.size > 0;
      const grants = scales ? unionGrants([ROUND_GRANTS, AUTOSCALE_GRANTS]) : ROUND_GRANTS;
      const targets = [
        ...new Set([...(grants.sendsToSources ? d.sources : []), ...(grants.sendsSignals ? d.signalled : [])]),
      ];
      const known = [...new Set([...targets, ...(scales ? scalable : [])])];
      if (known.length > 0) {
        env(f, { ...common, RIFFLE_QUEUE_URLS: urls(known), ...wakes }, urlEstimate(d, known) + 200);
        for (const s of targets) queue(s).queue.grantSendMessages(f);
      } else {
        env(f, { ...sendsNothing, ...wakes }, 200);
      }
      if (scales) grantAutoscale(f, [...scalable], queue, mappings);
      grantTables(f, tables, grants.tables);
      grantBucket(f, input.bucket, d.job, grants.bucket);
    }
    return f;
  };
  const [round, continueAsNew] = COORDINATOR_ROLES.map(step) as [lambda.Function, lambda.Function];

  // The HTTP API function.
  const all = d.tasks.map((t) => t.task.id);
  const api = fn("ApiFunction", "http", {
    memoryMb: d.aws.memoryMb,
    timeoutSeconds: API_TIMEOUT_SECONDS,
    description: `riffle job '${d.job}': HTTP API`,
  });
  env(
    api,
    {
      ...common,
      RIFFLE_QUEUE_URLS: urls(all),
      RIFFLE_DLQ_URLS: urls(all, (q) => q.dlq.queueUrl),
      ...input.apiEnvironment,
      ...wakes,
    },
    2 * urlEstimate(d, all) + 400,
  );
  mayWake(api);
  grantTables(api, tables, API_GRANTS);
  grantBucket(api, input.bucket, d.job, API_BUCKET);
  if (input.apiSecrets.length > 0) {
    api.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [...input.apiSecrets] }),
    );
  }
  for (const t of all) {
    queue(t).queue.grantSendMessages(api);
    queue(t).dlq.grant(api, "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes");
  }
  return { tasks, coordinator: { round, continueAsNew }, api };
}

/** Longest queue URL of `tasks` once deployed, with the longest region name: `https://sqs.<region>.amazonaws.com/<account>/<name>.fifo`. */
function urlEstimate(d: DeploymentPlan, tasks: readonly string[]): number {
  const byId = new Map<string, TaskDeployment>(d.tasks.map((t) => [t.task.id, t]));
  let bytes = 2;
  for (const id of tasks) {
    const name = byId.get(id)?.queueName ?? "";
    bytes += id.length + 6 + `https://sqs.ap-southeast-5.amazonaws.com/123456789012/${name}-dlq.fifo`.length;
  }
  return bytes;
}

/**
 * Fails the synthesis when a function's environment would not fit Lambda's 4 KB once
 * deployed. `tokenBytes` estimates the values that are still tokens (queue URLs).
 */
function checkEnvironmentSize(fn: string, vars: Record<string, string>, tokenBytes: number): void {
  let bytes = tokenBytes;
  for (const [k, v] of Object.entries(vars)) bytes += k.length + (v.includes("${Token[") ? 0 : v.length);
  if (bytes > LAMBDA_ENV_LIMIT_BYTES) {
    throw new RiffleError(
      "deploy-env-too-large",
      `function '${fn}': its environment would be about ${bytes} bytes, over Lambda's limit of ${LAMBDA_ENV_LIMIT_BYTES} (mostly queue URLs: shorten the job, stage or task names)`,
    );
  }
}

/** The account-independent ARN of a state machine named `name` in this stack's account and region. */
export function stateMachineArn(name: string): string {
  return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:stateMachine:${name}`;
}

/**
 * The autoscale round's rights beyond the tables: `sqs:GetQueueAttributes` on the
 * scalable tasks' queues and `lambda:UpdateEventSourceMapping` on their mappings
 * (whose UUIDs it finds in `RIFFLE_EVENT_SOURCE_MAPPINGS`).
 */
function grantAutoscale(
  f: lambda.Function,
  scalable: readonly string[],
  queue: (task: string) => TaskQueues,
  mappings: ReadonlyMap<string, SqsEventSource>,
): void {
  const sources = scalable.map((t) => mappings.get(t) as SqsEventSource);
  f.addEnvironment(
    "RIFFLE_EVENT_SOURCE_MAPPINGS",
    Stack.of(f).toJsonString(Object.fromEntries(scalable.map((t, i) => [t, sources[i]?.eventSourceMappingId]))),
  );
  f.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["sqs:GetQueueAttributes"],
      resources: scalable.map((t) => queue(t).queue.queueArn),
    }),
  );
  f.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["lambda:UpdateEventSourceMapping"],
      resources: sources.map((s) => s.eventSourceMappingArn),
    }),
  );
}
