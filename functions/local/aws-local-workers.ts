/**
 * The workers of a local AWS deployment (`aws-local.ts`): one event source mapping
 * per task queue invoking the real task handler in a container pool, and the
 * coordinator's state machine in aws-local-stepfunctions with its Lambda tasks bound
 * to the real step handlers. Every invocation is timed into the request accounting,
 * under the origin `task` or `coordinator` (the mapping's own receives and deletes
 * under `mapping`), and the state machine's transitions and executions are counted.
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import type { Job } from "../../core/api/environment.ts";
import { coordinatorDefinition, tickSecondsFor } from "../../core/checkpoint/asl.ts";
import type { StepContext } from "../../core/checkpoint/steps.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan } from "../../core/graph/plan.ts";
import type { SystemClock } from "../../core/ports/clock.ts";
import type { CoordinatorWaker } from "../../core/ports/coordinator-waker.ts";
import type { RequestAccounting } from "../aws/accounting.ts";
import type { AwsPorts } from "../aws/ports.ts";
import type { QueueWithDlq } from "../aws/sqs-admin.ts";
import { createCoordinatorHandlers, type StepHandler, type StepInput } from "../handlers/coordinator.ts";
import { createTaskHandler, type TaskHandlerOptions, type TaskPorts } from "../handlers/task.ts";
import { containerPool } from "./containers.ts";
import { type EventSourceMapping, startEventSourceMapping } from "./esm.ts";
import { type LocalCoordinator, runCoordinatorLocally } from "./stepfunctions.ts";

/** Lambda memory assumed for GB-second accounting. */
export const MEMORY_MB = 1024;

/** How the workers run (part of `AwsLocalOptions`). */
export interface WorkerOptions {
  readonly job: Job;
  readonly parallelism?: number;
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
}

/** What the workers of a local deployment share. */
export interface Deployment {
  readonly options: WorkerOptions;
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

/** A task's Lambda: an event source mapping on its queue invoking the task handler in a container pool. Returns its stop. */
export function startTaskWorker(d: Deployment, task: string): () => Promise<void> {
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
  const handler = (event: SQSEvent, context: Context) => accounting.within("task", () => pool.invoke(event, context));
  const q = d.queues[task] as QueueWithDlq;
  const esm: EventSourceMapping = accounting.within("mapping", () =>
    startEventSourceMapping({
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
    }),
  );
  return () => esm.stop();
}

/** The coordinator's state machine in aws-local-stepfunctions, its Lambda tasks bound to the step handlers (timed). */
export function startCoordinator(d: Deployment, context: StepContext): LocalCoordinator {
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
  const run = () =>
    runCoordinatorLocally(
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
        meter: accounting,
      },
    );
  // Everything the steps and the state machine do counts under the coordinator's origin.
  return accounting.within("coordinator", run);
}
