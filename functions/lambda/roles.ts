/**
 * The deployed Lambdas of one job, by role: the task function, the coordinator's
 * round and continue-as-new, and the HTTP API. A thin composition root over the handler factories
 * (`functions/handlers/*`, `functions/http/api.ts`) and the AWS ports built from the
 * function's environment, which the stack (`stacks/`) sets:
 *
 * | variable | who | meaning |
 * | --- | --- | --- |
 * | `RIFFLE_TABLE_PREFIX` | all | table names `<prefix>-log` … (`tableNames`) |
 * | `RIFFLE_QUEUE_URLS` | all | JSON task id → FIFO queue URL (only the queues the role sends to) |
 * | `RIFFLE_PARALLELISM` | all | the `--parallelism` the job was deployed with, if any |
 * | `RIFFLE_TASK` | task | the task this function runs |
 * | `RIFFLE_STATE_MACHINE_ARN` | continueAsNew, task, http, round | the coordinator state machine: continue-as-new starts its next execution; a task or the API wakes a sleeping coordinator (scale to zero); with it set, a round may put a quiet job's coordinator to sleep |
 * | `RIFFLE_DLQ_URLS` | http | JSON task id → dead-letter queue URL |
 * | `RIFFLE_API_KEYS_SECRET` | http | ARN of the Secrets Manager secret holding the accepted keys, read at run time (cached a minute) |
 * | `RIFFLE_API_KEYS` | http | accepted keys, comma-separated: only where no secret is named (local runs) |
 *
 * Each role is built on its first invocation (a cold start), so a function only
 * needs the variables of its own role.
 */

import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { buildGraph, type Job } from "../../core/api/environment.ts";
import type { StepContext } from "../../core/checkpoint/steps.ts";
import { StoreJobControl } from "../../core/control/store-control.ts";
import { RiffleError } from "../../core/errors.ts";
import { planJob } from "../../core/graph/planner.ts";
import { SystemClock } from "../../core/ports/clock.ts";
import { setLambdaInvokers } from "../../core/remote/invoker.ts";
import type { AccountableClient } from "../aws/accounting.ts";
import { DynamoAuditLog } from "../aws/dynamo-audit-log.ts";
import { InvocationCost } from "../aws/invocation-cost.ts";
import { lambdaClient, lambdaInvokers } from "../aws/lambda-invoker.ts";
import { awsPortsFromEnv } from "../aws/ports.ts";
import { secretApiKeys } from "../aws/secret-keys.ts";
import { approximateBacklog, queueDeadLetters } from "../aws/sqs-admin.ts";
import { taskScalerFromEnv } from "../aws/sqs-lambda-scaler.ts";
import { COORDINATOR_TELEMETRY, lambdaTelemetry } from "../aws/telemetry.ts";
import { type CoordinatorHandlers, createCoordinatorHandlers, type StepInput } from "../handlers/coordinator.ts";
import { createTaskHandler } from "../handlers/task.ts";
import { createHttpApi } from "../http/api.ts";
import { API_KEYS_SECRET_VAR, type Credentials, parseKeyList } from "../http/auth.ts";

/** A Lambda handler: an event and the (optional, for local callers) context. */
export type LambdaHandler<E = never, R = unknown> = (event: E, context?: Context) => Promise<R>;

/** The handlers of every role; a function's `handler` setting picks one. */
export interface LambdaRoles {
  readonly task: LambdaHandler<Parameters<ReturnType<typeof createTaskHandler>>[0]>;
  readonly round: LambdaHandler<StepInput>;
  readonly continueAsNew: LambdaHandler<StepInput>;
  readonly http: LambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
}

/** API Gateway's HTTP API integration timeout is 30 s: a savepoint request must answer before. */
const SAVEPOINT_TIMEOUT_MS = 25_000;

/**
 * Builds the roles of `job` over `env` (default `process.env`; read when a role is
 * first used, and for `RIFFLE_API_KEYS` on every request).
 */
export function lambdaRoles(job: Job, env: NodeJS.ProcessEnv = process.env): LambdaRoles {
  const deployment = once(() => {
    const parallelism = env.RIFFLE_PARALLELISM ? positive("RIFFLE_PARALLELISM", env.RIFFLE_PARALLELISM) : undefined;
    const graph = buildGraph(job, parallelism === undefined ? {} : { parallelism });
    const plan = planJob(graph);
    const ports = awsPortsFromEnv(plan.job, env);
    const clock = new SystemClock();
    const machine = env.RIFFLE_STATE_MACHINE_ARN;
    // With the machine known, a quiet job's coordinator sleeps, and tasks and the API wake it (sleep.ts).
    const waker = machine
      ? { start: (name: string) => startExecution(machine, { job: plan.job, round: 0 }, name) }
      : undefined;
    const context: StepContext = {
      plan,
      graph,
      clock,
      ...ports,
      ...(waker ? { waker } : {}),
    };
    return { parallelism, context, ports };
  });
  const task = once(() => {
    const { parallelism, context, ports } = deployment();
    const id = required(env, "RIFFLE_TASK");
    // Remote functions the job names by Lambda name or ARN: invoked with this container's client
    // (the SDK honours AWS_ENDPOINT_URL_LAMBDA).
    setLambdaInvokers(lambdaInvokers(lambdaClient()));
    return createTaskHandler({
      job,
      task: id,
      telemetry: lambdaTelemetry(context.plan.job, id, invocationCost(env, [ports.dynamo, ports.sqs, ports.s3])),
      ...(parallelism === undefined ? {} : { parallelism }),
      ports: { ...ports, clock: context.clock },
      ...(context.waker ? { waker: context.waker } : {}),
    });
  });
  const coordinator = once((): CoordinatorHandlers => {
    const { context, ports } = deployment();
    // Autoscaling measures the task queues and sets the event source mappings' maximum concurrency.
    const scaler = context.graph.config.aws.autoscale
      ? taskScalerFromEnv(ports.sqs, (t) => urlOf(jsonUrls(env, "RIFFLE_QUEUE_URLS"), t), env)
      : undefined;
    return createCoordinatorHandlers(
      { ...context, ...(scaler ? { scaler } : {}) },
      {
        startExecution: (input, name) => startExecution(required(env, "RIFFLE_STATE_MACHINE_ARN"), input, name),
        telemetry: lambdaTelemetry(context.plan.job, COORDINATOR_TELEMETRY),
      },
    );
  });
  const http = once(() => {
    const { context, ports } = deployment();
    const queues = jsonUrls(env, "RIFFLE_QUEUE_URLS");
    const dlqs = jsonUrls(env, "RIFFLE_DLQ_URLS");
    const control = new StoreJobControl({
      ...context,
      ingest: ports.ingest,
      savepointTimeoutMs: SAVEPOINT_TIMEOUT_MS,
      backlog: (t) => approximateBacklog(ports.sqs, urlOf(queues, t)),
      queueDeadLetters: () => queueDeadLetters(ports.sqs, dlqs),
    });
    return createHttpApi({
      jobs: (id) => (id === control.job ? control : undefined),
      credentials: apiKeys(env),
      audit: new DynamoAuditLog(ports.dynamo, ports.tables, control.job),
    });
  });
  const step =
    (name: keyof CoordinatorHandlers): LambdaHandler<StepInput> =>
    (input, context) =>
      coordinator()[name](input, context);
  return {
    task: (event, context) => task()(event, context ?? lambdaContext("task")),
    round: step("round"),
    continueAsNew: step("continueAsNew"),
    http: (event, context) => http()(event, context),
  };
}

/** Counts a task function's requests for its EMF cost units (memory from Lambda's environment; 128 MB outside it). */
function invocationCost(env: NodeJS.ProcessEnv, clients: readonly (AccountableClient | undefined)[]): InvocationCost {
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 128) || 128;
  return new InvocationCost(env.AWS_LAMBDA_FUNCTION_NAME ?? "task", memoryMb, clients);
}

/** The queue URL of task `t` in `RIFFLE_QUEUE_URLS`. */
function urlOf(queues: Readonly<Record<string, string>>, t: string): string {
  const url = queues[t];
  if (!url) throw new RiffleError("config", `RIFFLE_QUEUE_URLS has no queue for task '${t}'`);
  return url;
}

/**
 * Where the HTTP API's keys come from: the secret named by `RIFFLE_API_KEYS_SECRET`
 * (deployed), else `RIFFLE_API_KEYS`, read on every request.
 */
function apiKeys(env: NodeJS.ProcessEnv): Credentials {
  const secret = env[API_KEYS_SECRET_VAR];
  if (secret) return secretApiKeys(secret);
  return () => parseKeyList(env.RIFFLE_API_KEYS);
}

let sfn: SFNClient | undefined;

/** Starts the next coordinator execution (ContinueAsNew). */
async function startExecution(
  stateMachineArn: string,
  input: { job: string; round: number },
  name: string | undefined,
): Promise<void> {
  sfn ??= new SFNClient({});
  try {
    await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), ...(name ? { name } : {}) }),
    );
  } catch (cause) {
    // A retried ContinueAsNew: the execution it asks for was already started.
    if ((cause as { name?: string }).name === "ExecutionAlreadyExists") return;
    throw new RiffleError("start-execution", `could not start a new execution of ${stateMachineArn}`, {
      cause,
      retryable: true,
    });
  }
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new RiffleError("config", `${name} is not set in this function's environment`);
  return value;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RiffleError("config", `${name} must be a positive integer, got '${text}'`);
  return n;
}

function jsonUrls(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  try {
    const value = JSON.parse(env[name] ?? "{}");
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new TypeError("not an object");
    return value as Record<string, string>;
  } catch (cause) {
    throw new RiffleError("config", `${name} must be a JSON object of task id → queue URL`, { cause });
  }
}

/** A minimal context for local callers that pass none. */
function lambdaContext(role: string): Context {
  return { functionName: `riffle-${role}`, awsRequestId: "local" } as Context;
}
