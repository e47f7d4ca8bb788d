/**
 * The AWS runtime on local emulators (`riffle dev --runtime aws-local`): SQS FIFO
 * queues with DLQs (fauxqs, or any SQS endpoint), DynamoDB tables (DynamoDB Local,
 * or any DynamoDB endpoint), one event-source-mapping emulator per task queue
 * invoking the real task handler, the coordinator's real state machine definition
 * in aws-local-stepfunctions with its Lambda tasks bound to the real step handlers,
 * and the HTTP API handler served over real HTTP.
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import { buildGraph } from "../../core/api/environment.ts";
import { StoreJobControl } from "../../core/control/store-control.ts";
import { describeCause } from "../../core/errors.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan } from "../../core/graph/plan.ts";
import { planJob } from "../../core/graph/planner.ts";
import type { AuditLog } from "../../core/ports/audit-log.ts";
import { SystemClock } from "../../core/ports/clock.ts";
import { ORIGINS, RequestAccounting } from "../aws/accounting.ts";
import { DynamoAuditLog } from "../aws/dynamo-audit-log.ts";
import { LiveCostMeter } from "../aws/live-cost.ts";
import { type AwsPorts, awsPorts, prepareTables } from "../aws/ports.ts";
import { loadPrices } from "../aws/prices.ts";
import { localBucketName } from "../aws/s3-blob-store.ts";
import { approximateBacklog, ensureQueuesWithDlq, type QueueWithDlq, queueDeadLetters } from "../aws/sqs-admin.ts";
import { SqsTaskScaler } from "../aws/sqs-lambda-scaler.ts";
import { sqsClient } from "../aws/sqs-queue.ts";
import { storedBytes } from "../aws/table-size.ts";
import { createHttpApi } from "../http/api.ts";
import type { CredentialSet } from "../http/auth.ts";
import { type Deployment, startCoordinator, startTaskWorker, type WorkerOptions } from "./aws-local-workers.ts";
import { startDynamoLocal } from "./dynamo-local.ts";
import type { EventSourceMapping, EventSourceMappingStats } from "./esm.ts";
import { serveHttp } from "./http-server.ts";
import { serveRemoteFunctions } from "./lambda-endpoint.ts";
import { startLocalSqs } from "./sqs-local.ts";
import type { LocalCoordinator } from "./stepfunctions.ts";

/** Options of {@link startAwsLocal}. */
export interface AwsLocalOptions extends WorkerOptions {
  /** A running SQS endpoint (e.g. LocalStack); default: env `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`, else fauxqs is started. */
  readonly sqsEndpoint?: string;
  /** A running DynamoDB endpoint; default: env `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`, else DynamoDB Local is started. */
  readonly dynamoEndpoint?: string;
  /** A running S3 endpoint; default: env `AWS_ENDPOINT_URL_S3`, else the SQS endpoint (fauxqs and LocalStack serve S3 there too). */
  readonly s3Endpoint?: string;
  /** Keep segment payloads in DynamoDB (no bucket), as before issue 13: for comparisons (default false). */
  readonly inlineSegments?: boolean;
  /** Prefix of queue and table names (default `riffle`). */
  readonly prefix?: string;
  /** Serve the HTTP API on this port (0: any free port). Omit for no HTTP server. */
  readonly httpPort?: number;
  /** Interface of the HTTP API (default 127.0.0.1; it checks credentials, unlike the emulators, which always listen on 127.0.0.1). */
  readonly httpHost?: string;
  /** Credentials the HTTP API accepts. */
  readonly apiKeys?: CredentialSet;
  /** Visibility timeout of the task queues, seconds (default 2). */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before SQS moves a message to its DLQ (default 5). */
  readonly maxReceiveCount?: number;
  /** Counts every AWS request; a new one by default. */
  readonly accounting?: RequestAccounting;
  /** The live cost in `GET /jobs/{job}` (see `LiveCostMeter`): its windows, or false for none. */
  readonly cost?: false | { readonly quietMs?: number; readonly minIdleMs?: number; readonly sampleMs?: number };
  readonly log?: (line: string) => void;
  /**
   * Remote functions the job invokes as Lambda functions, by function name: the URL
   * of each one's local server (`riffle_sdk.serve`). aws-local serves a Lambda Invoke
   * endpoint for them and the task handlers call it with the real Lambda client.
   */
  readonly remoteFunctions?: Readonly<Record<string, string>>;
}

/** A running local AWS deployment of a job. */
export interface AwsLocal {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly control: StoreJobControl;
  readonly ports: AwsPorts;
  readonly accounting: RequestAccounting;
  /** The job's live cost (absent: turned off, or no price list). */
  readonly cost?: LiveCostMeter;
  readonly queues: Readonly<Record<string, QueueWithDlq>>;
  readonly sqsEndpoint: string;
  readonly dynamoEndpoint: string;
  /** The HTTP API's base URL, when served. */
  readonly url?: string;
  /**
   * Settles when the coordinator's executions end: resolves when the job finished
   * (or the workers stopped), rejects with `JobFailedError` when it failed for good.
   */
  readonly coordinatorDone: Promise<void>;
  /** True while the coordinator sleeps (scale to zero: the job is quiet, no execution runs). */
  coordinatorAsleep(): boolean;
  /** Executions of the coordinator started so far. */
  coordinatorExecutions(): number;
  /** Each task's emulated event source mapping: its counters and its MaximumConcurrency. */
  mappings(): Record<string, EventSourceMappingStats>;
  /** Stops the workers (event source mappings, coordinator, HTTP), keeping the emulators and their data. */
  stopWorkers(): Promise<void>;
  /** Stops everything, the emulators this started included. */
  stop(): Promise<void>;
}

/** Starts a job on local AWS emulators; see the module comment. */
export async function startAwsLocal(options: AwsLocalOptions): Promise<AwsLocal> {
  const log = options.log ?? (() => {});
  const graph = buildGraph(options.job, options.parallelism === undefined ? {} : { parallelism: options.parallelism });
  const plan = planJob(graph);
  const accounting = options.accounting ?? new RequestAccounting();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const { sqsEndpoint, dynamoEndpoint } = await emulatorEndpoints(options, log, cleanups);
    const s3Endpoint = options.s3Endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? sqsEndpoint;
    const sqs: SQSClient = accounting.attach(sqsClient(sqsEndpoint), ORIGINS.api);
    cleanups.push(async () => sqs.destroy());
    const prefix = options.prefix ?? "riffle";
    const bucket = options.inlineSegments ? undefined : localBucketName(prefix);
    const queues = await createQueues(sqs, plan, prefix, options);
    const ports = await awsPorts({
      job: plan.job,
      sqs,
      dynamoEndpoint,
      prefix,
      ...(bucket === undefined ? {} : { bucket, s3Endpoint }),
      queueUrl: (task) => urlOf(queues, task),
    });
    accounting.attach(ports.dynamo, ORIGINS.api);
    if (ports.s3) accounting.attach(ports.s3, ORIGINS.api);
    cleanups.push(async () => {
      ports.dynamo.destroy();
      ports.s3?.destroy();
    });
    await prepareTables(ports);
    if (options.remoteFunctions) await serveRemoteFunctions(options.remoteFunctions, cleanups, log);
    const clock = new SystemClock();
    // Scale to zero: a quiet job's coordinator sleeps, and the next writer of new work wakes it here.
    let coordinatorRef: LocalCoordinator | undefined;
    const waker = {
      start: async (name: string) => {
        log(`coordinator woken (${name})`);
        coordinatorRef?.wake();
      },
    };
    const context = { plan, graph, clock, ...ports, waker };
    const place = { sqsEndpoint, dynamoEndpoint, s3Endpoint, bucket, prefix, queues, plan, accounting, cleanups };
    const own = workerClients(place);
    const cost = liveCost(options, plan, graph, accounting, ports, log);
    if (cost) cleanups.push(async () => cost.stop());
    const control = new StoreJobControl({
      ...context,
      ...(cost ? { cost } : {}),
      backlog: (task) => approximateBacklog(sqs, urlOf(queues, task)),
      queueDeadLetters: () =>
        queueDeadLetters(sqs, Object.fromEntries(plan.tasks.map((t) => [t.id, (queues[t.id] as QueueWithDlq).dlqUrl]))),
    });
    // Workers: one event source mapping per task queue, the coordinator, the HTTP API.
    const workers: (() => Promise<void>)[] = [];
    const steps = await control.start();
    log(`job '${plan.job}' generation ${steps.generation}${steps.created ? " (new)" : ""}`);
    const deployment: Deployment = { options, plan, graph, ...own, queues, clock, accounting, log, waker };
    const mappings = new Map<string, EventSourceMapping>();
    for (const t of plan.tasks) {
      const esm = startTaskWorker(deployment, t.id);
      mappings.set(t.id, esm);
      workers.push(() => esm.stop());
    }
    // Autoscaling measures the queues and sets the emulated mappings' MaximumConcurrency.
    const scaler = graph.config.aws.autoscale
      ? new SqsTaskScaler({
          sqs: own.coordinatorPorts.sqs,
          queueUrl: (task) => urlOf(queues, task),
          setMaximumConcurrency: async (task, n) => mappings.get(task)?.setMaximumConcurrency(n),
        })
      : undefined;
    const coordinator = startCoordinator(deployment, {
      ...context,
      ...own.coordinatorPorts,
      ...(scaler ? { scaler } : {}),
    });
    coordinatorRef = coordinator;
    coordinator.done.catch((e) => log(`coordinator stopped: ${String(e)}`));
    workers.push(() => coordinator.stop());
    const url = await serveApi(
      options,
      plan.job,
      control,
      workers,
      new DynamoAuditLog(ports.dynamo, ports.tables, plan.job),
    );
    let stopped = false;
    const stopWorkers = async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(workers.map((w) => w()));
    };
    return {
      plan,
      graph,
      control,
      ports,
      accounting,
      ...(cost ? { cost } : {}),
      queues,
      sqsEndpoint,
      dynamoEndpoint,
      ...(url ? { url } : {}),
      coordinatorDone: coordinator.done,
      coordinatorAsleep: () => coordinator.asleep(),
      coordinatorExecutions: () => coordinator.executions(),
      mappings: () => Object.fromEntries([...mappings].map(([t, m]) => [t, m.stats()])),
      stopWorkers,
      stop: async () => {
        await stopWorkers();
        for (const c of cleanups.reverse()) await c();
      },
    };
  } catch (error) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw error;
  }
}

/** Serves the HTTP API when asked (`httpPort`), auditing into `audit`; returns its URL and adds its close to `workers`. */
async function serveApi(
  options: AwsLocalOptions,
  job: string,
  control: StoreJobControl,
  workers: (() => Promise<void>)[],
  audit: AuditLog,
): Promise<string | undefined> {
  if (options.httpPort === undefined) return undefined;
  const api = createHttpApi({
    jobs: (id) => (id === job ? control : undefined),
    credentials: options.apiKeys ?? [],
    audit,
  });
  const server = await serveHttp(api, {
    port: options.httpPort,
    ...(options.httpHost ? { host: options.httpHost } : {}),
  });
  workers.push(() => server.close());
  return server.url;
}

/** Where a deployment's clients go and how they are counted and closed. */
interface ClientPlace {
  readonly sqsEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  /** The segment bucket (absent: segments inline). */
  readonly bucket: string | undefined;
  readonly prefix: string;
  readonly queues: Readonly<Record<string, QueueWithDlq>>;
  readonly plan: Plan;
  readonly accounting: RequestAccounting;
  readonly cleanups: (() => Promise<void>)[];
}

/** Ports with SQS and DynamoDB clients of their own, counted under `origin`. */
function originPorts(origin: string, c: ClientPlace): AwsPorts {
  const sqs = c.accounting.attach(sqsClient(c.sqsEndpoint), origin);
  const ports = awsPorts({
    job: c.plan.job,
    sqs,
    dynamoEndpoint: c.dynamoEndpoint,
    prefix: c.prefix,
    ...(c.bucket === undefined ? {} : { bucket: c.bucket, s3Endpoint: c.s3Endpoint }),
    queueUrl: (task) => urlOf(c.queues, task),
  });
  c.accounting.attach(ports.dynamo, origin);
  if (ports.s3) c.accounting.attach(ports.s3, origin);
  c.cleanups.push(async () => {
    sqs.destroy();
    ports.dynamo.destroy();
    ports.s3?.destroy();
  });
  return ports;
}

/**
 * The clients of the tasks, the coordinator and the event source mappings, each
 * its own (as each Lambda and each mapping has on AWS), so the accounting tells
 * their requests apart.
 */
function workerClients(c: ClientPlace): Pick<Deployment, "taskPorts" | "mappingSqs"> & { coordinatorPorts: AwsPorts } {
  const mappingSqs = c.accounting.attach(sqsClient(c.sqsEndpoint), ORIGINS.mapping);
  c.cleanups.push(async () => mappingSqs.destroy());
  return {
    taskPorts: originPorts(ORIGINS.task, c),
    coordinatorPorts: originPorts(ORIGINS.coordinator, c),
    mappingSqs,
  };
}

/**
 * The job's live cost meter, sampling from now on: quiet for three checkpoint
 * intervals (at least 5 s) after an ingest before an idle window opens; idle
 * windows of 10 s or more count. None when turned off or without a price list.
 */
function liveCost(
  options: AwsLocalOptions,
  plan: Plan,
  graph: JobGraph,
  accounting: RequestAccounting,
  ports: AwsPorts,
  log: (line: string) => void,
): LiveCostMeter | undefined {
  if (options.cost === false) return undefined;
  let prices: ReturnType<typeof loadPrices>;
  try {
    prices = loadPrices();
  } catch (e) {
    log(`no live cost: ${describeCause(e)}`);
    return undefined;
  }
  const interval = options.waitMs?.interval ?? graph.config.checkpoint.intervalMs;
  const meter = new LiveCostMeter({
    accounting,
    prices,
    job: plan.job,
    queues: plan.tasks.length,
    quietMs: options.cost?.quietMs ?? Math.max(5000, 3 * interval),
    ...(options.cost?.minIdleMs !== undefined ? { minIdleMs: options.cost.minIdleMs } : {}),
    ...(options.cost?.sampleMs !== undefined ? { sampleMs: options.cost.sampleMs } : {}),
    storageBytes: () => storedBytes(ports.dynamo, ports.tables),
  });
  meter.start();
  return meter;
}

/** The SQS and DynamoDB endpoints: the given ones, else fauxqs and DynamoDB Local, started here (and stopped by `cleanups`). */
async function emulatorEndpoints(
  options: AwsLocalOptions,
  log: (line: string) => void,
  cleanups: (() => Promise<void>)[],
): Promise<{ sqsEndpoint: string; dynamoEndpoint: string }> {
  let sqsEndpoint = options.sqsEndpoint ?? process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  if (!sqsEndpoint) {
    const server = await startLocalSqs();
    cleanups.push(() => server.stop());
    sqsEndpoint = server.endpoint;
    log(`fauxqs (SQS) on ${sqsEndpoint}`);
  }
  let dynamoEndpoint = options.dynamoEndpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
  if (!dynamoEndpoint) {
    const ddb = await startDynamoLocal();
    cleanups.push(() => ddb.stop());
    dynamoEndpoint = ddb.endpoint;
    log(`DynamoDB Local on ${dynamoEndpoint}`);
  }
  return { sqsEndpoint, dynamoEndpoint };
}

/** One FIFO queue with its DLQ per task, by task id. */
async function createQueues(
  sqs: SQSClient,
  plan: Plan,
  prefix: string,
  options: AwsLocalOptions,
): Promise<Record<string, QueueWithDlq>> {
  const names = plan.tasks.map((t, i) => queueName(prefix, plan.job, t.id, i));
  const created = await ensureQueuesWithDlq(sqs, names, {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 2,
    maxReceiveCount: options.maxReceiveCount ?? 5,
  });
  const queues: Record<string, QueueWithDlq> = {};
  plan.tasks.forEach((t, i) => {
    queues[t.id] = created[names[i] as string] as QueueWithDlq;
  });
  return queues;
}

function urlOf(queues: Readonly<Record<string, QueueWithDlq>>, task: string): string {
  const q = queues[task];
  if (!q) throw new Error(`no queue for task '${task}'`);
  return q.url;
}

/** Queue name of a task: SQS allows A-Z a-z 0-9 - _ and 80 characters (with `.fifo` and `-dlq`). */
export function queueName(prefix: string, job: string, task: string, index: number): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "-");
  return `${clean(prefix)}-${clean(job)}-${index}-${clean(task)}`.slice(0, 70);
}
