/**
 * What a job's stack creates, decided from core alone (no CDK): the job's plan, the
 * name of every resource, and each task's function and queue settings from the
 * job's `aws` config. Pure, so it is tested and printed without synthesizing.
 */

import { createHash } from "node:crypto";
import type { AwsConfig } from "../core/api/aws-config.ts";
import { buildGraph, type Job } from "../core/api/environment.ts";
import { tickSecondsFor } from "../core/checkpoint/asl.ts";
import type { CheckpointConfig } from "../core/checkpoint/config.ts";
import { notifiedTasks } from "../core/checkpoint/signals.ts";
import { ingestRoutes } from "../core/control/ingest-routing.ts";
import { RiffleError } from "../core/errors.ts";
import type { JobGraph } from "../core/graph/graph.ts";
import type { Plan, TaskPlan } from "../core/graph/plan.ts";
import { planJob } from "../core/graph/planner.ts";
import { lambdaTargetsOf } from "../core/remote/targets.ts";

/** SQS and Lambda's recommendation: a queue's visibility timeout is at least 6× its function's timeout. */
export const VISIBILITY_FACTOR = 6;

/** One task's resources. */
export interface TaskDeployment {
  readonly task: TaskPlan;
  /** Position of the task in the plan (topological order). */
  readonly index: number;
  /** The FIFO queue's name without `.fifo`; its DLQ is `<name>-dlq.fifo`. */
  readonly queueName: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** {@link VISIBILITY_FACTOR} × `timeoutSeconds`. */
  readonly visibilityTimeoutSeconds: number;
  /** Tasks whose queues this task's function sends to: its downstream tasks, and itself if it is a source (polls). */
  readonly sendsTo: readonly string[];
  /** True when the task reads an ingest log (HTTP source). */
  readonly readsIngest: boolean;
  /** The Lambda functions (names or ARNs) its remote functions invoke: its only `lambda:InvokeFunction` grants. */
  readonly invokes: readonly string[];
}

/** Everything the stack needs to know about a job. */
export interface DeploymentPlan {
  readonly job: string;
  readonly graph: JobGraph;
  readonly plan: Plan;
  /** The `--parallelism` the job is deployed with, when given. */
  readonly parallelism?: number;
  /** Prefix of every named resource: `<stage>-riffle-<job>`. */
  readonly prefix: string;
  readonly tasks: readonly TaskDeployment[];
  /** Ids of the source tasks (the coordinator sends them start signals and barriers). */
  readonly sources: readonly string[];
  /** Ids of the tasks the coordinator sends timer ticks (keyed tasks, when ticking) and checkpoint-complete signals. */
  readonly signalled: readonly string[];
  readonly aws: AwsConfig;
  readonly checkpoint: CheckpointConfig;
  /** Name of the coordinator's state machine (fixed, so functions can know its ARN without a cycle). */
  readonly stateMachineName: string;
  /** Name of the coordinator's Express machine of rounds (run by the Standard one). */
  readonly roundsMachineName: string;
}

/** Options of {@link deploymentPlan}. */
export interface DeploymentPlanOptions {
  /** The SST stage (e.g. `prod`). */
  readonly stage: string;
  /** Default parallelism, overriding the job's (as `riffle run --parallelism`). */
  readonly parallelism?: number;
}

/** Characters SQS, Step Functions and DynamoDB all accept in names. */
export function cleanName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, "-");
}

/** `name` cut to `max` characters, with a short hash of the whole name when it had to be cut (stays unique). */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${name.slice(0, max - 9)}-${hash}`;
}

/**
 * Plans the deployment of `job`.
 * @throws RiffleError (`deploy-config`) when the job's `aws` config names a task the
 *   plan does not have, or `maxReceiveCount` does not exceed `maxRecordAttempts`.
 */
export function deploymentPlan(job: Job, options: DeploymentPlanOptions): DeploymentPlan {
  const graph = buildGraph(job, options.parallelism === undefined ? {} : { parallelism: options.parallelism });
  const plan = planJob(graph);
  const aws = graph.config.aws;
  const ids = plan.tasks.map((t) => t.id);
  for (const id of Object.keys(aws.tasks)) {
    if (!ids.includes(id)) {
      throw new RiffleError(
        "deploy-config",
        `configureAws: tasks['${id}'] names no task of job '${plan.job}' (its tasks: ${ids.join(", ")})`,
      );
    }
  }
  if (aws.maxReceiveCount <= graph.config.maxRecordAttempts) {
    throw new RiffleError(
      "deploy-config",
      `configureAws: maxReceiveCount (${aws.maxReceiveCount}) must exceed maxRecordAttempts (${graph.config.maxRecordAttempts}) of job '${plan.job}', so that riffle dead-letters a failing record before SQS moves its envelope to the DLQ`,
    );
  }
  const prefix = `${cleanName(options.stage)}-riffle-${cleanName(plan.job)}`;
  const ingestTasks = new Set([...ingestRoutes(graph, plan).values()].map((r) => r.task));
  const tasks = plan.tasks.map((task, index): TaskDeployment => {
    const o = aws.tasks[task.id] ?? {};
    const timeoutSeconds = o.timeoutSeconds ?? aws.timeoutSeconds;
    const downstream = task.outputs.map((out) => out.to);
    return {
      task,
      index,
      // 80 characters at most with `-dlq.fifo`.
      queueName: fitName(`${prefix}-${index}-${cleanName(task.id)}`, 71),
      memoryMb: o.memoryMb ?? aws.memoryMb,
      timeoutSeconds,
      visibilityTimeoutSeconds: VISIBILITY_FACTOR * timeoutSeconds,
      sendsTo: [...new Set(task.isSource ? [task.id, ...downstream] : downstream)],
      readsIngest: ingestTasks.has(task.id),
      invokes: lambdaTargetsOf(graph, task),
    };
  });
  return {
    job: plan.job,
    graph,
    plan,
    ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }),
    prefix,
    tasks,
    sources: plan.tasks.filter((t) => t.isSource).map((t) => t.id),
    signalled: [
      ...new Set([
        ...(tickSecondsFor(plan, aws) === undefined ? [] : plan.tasks.filter((t) => t.keyed).map((t) => t.id)),
        ...notifiedTasks(plan, graph),
      ]),
    ],
    aws,
    checkpoint: graph.config.checkpoint,
    stateMachineName: fitName(`${prefix}-coordinator`, 80),
    roundsMachineName: fitName(`${prefix}-rounds`, 80),
  };
}
