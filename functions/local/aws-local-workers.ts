/**
 * The workers of a local AWS deployment (`aws-local.ts`): one event source mapping
 * per task queue invoking the real task handler in a container pool, and the
 * coordinator's state machine in aws-local-stepfunctions with its Lambda tasks bound
 * to the real step handlers. The tasks, the mappings and the coordinator each have
 * clients of their own (as each Lambda has on AWS), attached to the request
 * accounting under their origin; every invocation is timed into it under the same
 * origin, and the state machine's transitions and executions are counted.
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import type { Job } from "../../core/api/environment.ts";
import { type CoordinatorAslOptions, coordinatorDefinition, tickSecondsFor } from "../../core/checkpoint/asl.ts";
import { roundsDefinition } from "../../core/checkpoint/asl-rounds.ts";
import type { StepContext } from "../../core/checkpoint/steps.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan } from "../../core/graph/plan.ts";
import type { SystemClock } from "../../core/ports/clock.ts";
import type { CoordinatorWaker } from "../../core/ports/coordinator-waker.ts";
import { ORIGINS, type RequestAccounting } from "../aws/accounting.ts";
import type { AwsPorts } from "../aws/ports.ts";
import type { QueueWithDlq } from "../aws/sqs-admin.ts";
import { createCoordinatorHandlers, type StepHandler, type StepInput } from "../handlers/coordinator.ts";
import { createTaskHandler, type TaskHandlerOptions, type TaskPorts } from "../handlers/task.ts";
import { containerPool } from "./containers.ts";
import { type EventSourceMapping, startEventSourceMapping } from "./esm.ts";
import { type LocalCoordinator, runCoordinatorLocally, type WorkflowMeter } from "./stepfunctions.ts";

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
  /** The event source mappings' client (origin `mapping`). */
  readonly mappingSqs: SQSClient;
  readonly queues: Readonly<Record<string, QueueWithDlq>>;
  /** The task handlers' ports (origin `task`). */
  readonly taskPorts: AwsPorts;
  readonly clock: SystemClock;
  readonly accounting: RequestAccounting;
  readonly log: (line: string) => void;
  /** Wakes the sleeping coordinator (scale to zero). */
  readonly waker: CoordinatorWaker;
}

/** A task's Lambda: an event source mapping on its queue invoking the task handler in a container pool. */
export function startTaskWorker(d: Deployment, task: string): EventSourceMapping {
  const { options, plan, taskPorts: ports, clock, accounting, log } = d;
  const fn = `${plan.job}-${task}`;
  const pool = containerPool(() =>
    createTaskHandler({
      job: options.job,
      task,
      ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
      ports: options.taskPorts ? options.taskPorts({ ...ports, clock }) : { ...ports, clock },
      ...(options.fatal ? { fatal: options.fatal } : {}),
      waker: d.waker,
      onInvoke: (i) => accounting.recordInvocation(fn, i.durationMs, MEMORY_MB, ORIGINS.task),
      log,
    }),
  );
  const handler = (event: SQSEvent, context: Context) => pool.invoke(event, context);
  const q = d.queues[task] as QueueWithDlq;
  const esm: EventSourceMapping = startEventSourceMapping({
    client: d.mappingSqs,
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
  return esm;
}

/**
 * The coordinator's state machine in aws-local-stepfunctions, its Lambda tasks bound
 * to the step handlers (timed); `context` holds the coordinator's own ports.
 */
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
        const ms = performance.now() - t0;
        const memoryMb = graph.config.aws.coordinatorMemoryMb;
        accounting.recordInvocation(`${plan.job}-coordinator-${name}`, ms, memoryMb, ORIGINS.coordinator);
      }
    };
  const tickSeconds = tickSecondsFor(plan, graph.config.aws);
  const intervalMs = graph.config.checkpoint.intervalMs;
  const asl: CoordinatorAslOptions = {
    ...(tickSeconds === undefined ? {} : { tickSeconds }),
    checkpoint: graph.config.checkpoint,
    functions: { round: "round", continueAsNew: "continueAsNew" },
    roundsMachine: "rounds",
  };
  const meter: WorkflowMeter = {
    recordStateTransitions: (m, type, n) => accounting.recordStateTransitions(m, type, n, ORIGINS.coordinator),
    recordExecution: (m, type, ms) => accounting.recordExecution(m, type, ms, ORIGINS.coordinator),
    recordExecutionTime: (m, type, ms) => accounting.recordExecutionTime(m, type, ms, ORIGINS.coordinator),
  };
  return runCoordinatorLocally(
    { coordinator: coordinatorDefinition(asl), rounds: roundsDefinition(asl) },
    { round: timed("round", handlers.round) },
    {
      job: plan.job,
      waitMs: {
        interval: options.waitMs?.interval ?? Math.min(intervalMs, (tickSeconds ?? Number.POSITIVE_INFINITY) * 1000),
        poll: options.waitMs?.poll ?? 100,
        retry: 100,
      },
      log: d.log,
      meter,
    },
  );
}
