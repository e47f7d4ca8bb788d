/**
 * The AWS runtime on local emulators (`riffle dev --runtime aws-local`): SQS FIFO
 * queues with DLQs (fauxqs, or any SQS endpoint), DynamoDB tables (DynamoDB Local,
 * or any DynamoDB endpoint), one event-source-mapping emulator per task queue
 * invoking the real task handler, the coordinator's real state machine definition
 * in aws-local-stepfunctions with its Lambda tasks bound to the real step handlers,
 * and the HTTP API handler served over real HTTP.
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { buildGraph, type Job } from "../../core/api/environment.ts";
import { coordinatorDefinition, tickSecondsFor } from "../../core/checkpoint/asl.ts";
import type { StepContext } from "../../core/checkpoint/steps.ts";
import { StoreJobControl } from "../../core/control/store-control.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan } from "../../core/graph/plan.ts";
import { planJob } from "../../core/graph/planner.ts";
import { SystemClock } from "../../core/ports/clock.ts";
import type { CoordinatorWaker } from "../../core/ports/coordinator-waker.ts";
import { RequestAccounting } from "../aws/accounting.ts";
import { type AwsPorts, awsPorts, prepareTables } from "../aws/ports.ts";
import { approximateBacklog, ensureQueuesWithDlq, type QueueWithDlq, queueDeadLetters } from "../aws/sqs-admin.ts";
import { sqsClient } from "../aws/sqs-queue.ts";
import { createCoordinatorHandlers, type StepHandler, type StepInput } from "../handlers/coordinator.ts";
import { createTaskHandler, type TaskHandlerOptions, type TaskPorts } from "../handlers/task.ts";
import { createHttpApi } from "../http/api.ts";
import { containerPool } from "./containers.ts";
import { startDynamoLocal } from "./dynamo-local.ts";
import { type EventSourceMapping, startEventSourceMapping } from "./esm.ts";
import { serveHttp } from "./http-server.ts";
import { startLocalSqs } from "./sqs-local.ts";
import { type LocalCoordinator, runCoordinatorLocally } from "./stepfunctions.ts";

/** Options of {@link startAwsLocal}. */
export interface AwsLocalOptions {
  readonly job: Job;
  readonly parallelism?: number;
  /** A running SQS endpoint (e.g. LocalStack); default: env `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`, else fauxqs is started. */
  readonly sqsEndpoint?: string;
  /** A running DynamoDB endpoint; default: env `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`, else DynamoDB Local is started. */
  readonly dynamoEndpoint?: string;
  /** Prefix of queue and table names (default `riffle`). */
  readonly prefix?: string;
  /** Serve the HTTP API on this port (0: any free port). Omit for no HTTP server. */
  readonly httpPort?: number;
  /** Interface of the HTTP API (default 127.0.0.1; it checks credentials, unlike the emulators, which always listen on 127.0.0.1). */
  readonly httpHost?: string;
  /** Credentials the HTTP API accepts. */
  readonly apiKeys?: readonly string[];
  /** Visibility timeout of the task queues, seconds (default 2). */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before SQS moves a message to its DLQ (default 5). */
  readonly maxReceiveCount?: number;
  /**
   * Wait overrides of the state machine, in ms (default interval: the job's checkpoint
   * interval, at most the job's `timerTickSeconds` when it has keyed tasks; poll 100).
   */
  readonly waitMs?: { readonly interval?: number; readonly poll?: number };
  /** Decorates the ports of each task handler (a new container), e.g. to inject faults in tests. */
  readonly taskPorts?: (ports: TaskPorts) => TaskPorts;
  /** Errors the task handlers' containers do not survive (see {@link TaskHandlerOptions.fatal}). */
  readonly fatal?: TaskHandlerOptions["fatal"];
  /** Concurrent invocations per task queue (default 4). */
  readonly concurrency?: number;
  /** Counts every AWS request; a new one by default. */
  readonly accounting?: RequestAccounting;
  readonly log?: (line: string) => void;
}

/** A running local AWS deployment of a job. */
export interface AwsLocal {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly control: StoreJobControl;
  readonly ports: AwsPorts;
  readonly accounting: RequestAccounting;
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
  /** Stops the workers (event source mappings, coordinator, HTTP), keeping the emulators and their data. */
  stopWorkers(): Promise<void>;
  /** Stops everything, the emulators this started included. */
  stop(): Promise<void>;
}

/** Lambda memory assumed for GB-second accounting. */
const MEMORY_MB = 1024;

/** Starts a job on local AWS emulators; see the module comment. */
export async function startAwsLocal(options: AwsLocalOptions): Promise<AwsLocal> {
  const log = options.log ?? (() => {});
  const graph = buildGraph(options.job, options.parallelism === undefined ? {} : { parallelism: options.parallelism });
  const plan = planJob(graph);
  const accounting = options.accounting ?? new RequestAccounting();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const { sqsEndpoint, dynamoEndpoint } = await emulatorEndpoints(options, log, cleanups);
    const sqs: SQSClient = sqsClient(sqsEndpoint);
    accounting.attach(sqs);
    cleanups.push(async () => sqs.destroy());
    const prefix = options.prefix ?? "riffle";
    const queues = await createQueues(sqs, plan, prefix, options);
    const ports = await awsPorts({
      job: plan.job,
      sqs,
      dynamoEndpoint,
      prefix,
      queueUrl: (task) => urlOf(queues, task),
    });
    accounting.attach(ports.dynamo);
    cleanups.push(async () => ports.dynamo.destroy());
    await prepareTables(ports);
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
    const control = new StoreJobControl({
      ...context,
      backlog: (task) => approximateBacklog(sqs, urlOf(queues, task)),
      queueDeadLetters: () =>
        queueDeadLetters(sqs, Object.fromEntries(plan.tasks.map((t) => [t.id, (queues[t.id] as QueueWithDlq).dlqUrl]))),
    });
    // Workers: one event source mapping per task queue, the coordinator, the HTTP API.
    const workers: (() => Promise<void>)[] = [];
    const steps = await control.start();
    log(`job '${plan.job}' generation ${steps.generation}${steps.created ? " (new)" : ""}`);
    const deployment: Deployment = { options, plan, graph, sqs, queues, ports, clock, accounting, log, waker };
    for (const t of plan.tasks) workers.push(startTaskWorker(deployment, t.id));
    const coordinator = startCoordinator(deployment, context);
    coordinatorRef = coordinator;
    coordinator.done.catch((e) => log(`coordinator stopped: ${String(e)}`));
    workers.push(() => coordinator.stop());
    let url: string | undefined;
    if (options.httpPort !== undefined) {
      const api = createHttpApi({
        jobs: (id) => (id === plan.job ? control : undefined),
        credentials: options.apiKeys ?? [],
      });
      const server = await serveHttp(api, {
        port: options.httpPort,
        ...(options.httpHost ? { host: options.httpHost } : {}),
      });
      url = server.url;
      workers.push(() => server.close());
    }
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
      queues,
      sqsEndpoint,
      dynamoEndpoint,
      ...(url ? { url } : {}),
      coordinatorDone: coordinator.done,
      coordinatorAsleep: () => coordinator.asleep(),
      coordinatorExecutions: () => coordinator.executions(),
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

/** What the workers of a local deployment share. */
interface Deployment {
  readonly options: AwsLocalOptions;
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly sqs: SQSClient;
  readonly queues: Readonly<Record<string, QueueWithDlq>>;
  readonly ports: AwsPorts;
  readonly clock: SystemClock;
  readonly accounting: RequestAccounting;
  readonly log: (line: string) => void;
  /** Wakes the sleeping coordinator (scale to zero). */
  readonly waker: CoordinatorWaker;
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

/** A task's Lambda: an event source mapping on its queue invoking the task handler in a container pool. Returns its stop. */
function startTaskWorker(d: Deployment, task: string): () => Promise<void> {
  const { options, plan, ports, clock, accounting, log } = d;
  const fn = `${plan.job}-${task}`;
  const pool = containerPool(() =>
    createTaskHandler({
      job: options.job,
      task,
      ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
      ports: options.taskPorts ? options.taskPorts({ ...ports, clock }) : { ...ports, clock },
      ...(options.fatal ? { fatal: options.fatal } : {}),
      waker: d.waker,
      onInvoke: (i) => accounting.recordInvocation(fn, i.durationMs, MEMORY_MB),
      log,
    }),
  );
  const handler = (event: SQSEvent, context: Context) => pool.invoke(event, context);
  const q = d.queues[task] as QueueWithDlq;
  const esm: EventSourceMapping = startEventSourceMapping({
    client: d.sqs,
    queueUrl: q.url,
    queueArn: q.arn,
    handler,
    concurrency: options.concurrency ?? 4,
    waitTimeSeconds: 0,
    pollIntervalMs: 20,
    retryDelayMs: 0,
    functionName: fn,
    log,
  });
  return () => esm.stop();
}

/** The coordinator's state machine in aws-local-stepfunctions, its Lambda tasks bound to the step handlers (timed). */
function startCoordinator(d: Deployment, context: StepContext): LocalCoordinator {
  const { plan, graph, options, accounting } = d;
  const handlers = createCoordinatorHandlers(context, { startExecution: async () => {}, log: d.log });
  const timed =
    (name: string, h: StepHandler) =>
    async (input: StepInput): Promise<unknown> => {
      const t0 = performance.now();
      try {
        return await h(input);
      } finally {
        accounting.recordInvocation(`${plan.job}-coordinator-${name}`, performance.now() - t0, MEMORY_MB);
      }
    };
  const tickSeconds = tickSecondsFor(plan, graph.config.aws);
  const intervalMs = graph.config.checkpoint.intervalMs;
  const definition = coordinatorDefinition({
    ...(tickSeconds === undefined ? {} : { tickSeconds }),
    checkpoint: graph.config.checkpoint,
    functions: {
      trigger: "trigger",
      poll: "poll",
      complete: "complete",
      abort: "abort",
      restore: "restore",
      continueAsNew: "continueAsNew",
    },
  });
  return runCoordinatorLocally(
    definition,
    {
      trigger: timed("trigger", handlers.trigger),
      poll: timed("poll", handlers.poll),
      complete: timed("complete", handlers.complete),
      abort: timed("abort", handlers.abort),
      restore: timed("restore", handlers.restore),
    },
    {
      job: plan.job,
      waitMs: {
        interval: options.waitMs?.interval ?? Math.min(intervalMs, (tickSeconds ?? Number.POSITIVE_INFINITY) * 1000),
        poll: options.waitMs?.poll ?? 100,
        retry: 100,
      },
      log: d.log,
    },
  );
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
