/**
 * Counts what a run asks of AWS: requests, payload bytes and billed units per
 * service and operation (through AWS SDK v3 middleware), Lambda invocations, billed
 * duration and GB-seconds, and Step Functions executions and state transitions.
 * Used to print cost figures at the end of a run, per million events in
 * benchmarks, and for the live cost of a job on aws-local.
 *
 * Every count carries an origin, who caused it: the origin a client was attached
 * with (a deployment gives the coordinator, the tasks and the mapping clients of
 * their own, as each Lambda has on AWS), or the one given to a `record…` call;
 * {@link UNSCOPED} by default. A snapshot shows one origin or all of them.
 */

import { RiffleError } from "../../core/errors.ts";
import { ComputeMeter } from "./accounting-compute.ts";
import { addCounter, type Counter, counterIn, operationStats } from "./accounting-counter.ts";
import { CAPACITY_OPERATIONS, type Capacity, estimateCapacity, reportedCapacity } from "./accounting-dynamo.ts";
import { formatAccounting } from "./accounting-format.ts";
import { bodySize, operationOf, responseSize, serviceOf } from "./accounting-http.ts";
import type { AccountingSnapshot, AccountingTotals, OperationStats, WorkflowType } from "./accounting-snapshot.ts";

/** SQS bills each started 64 KB of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 65_536;

/** Failures that DynamoDB still bills write capacity for (the condition was evaluated). */
const BILLED_FAILURES = new Set(["ConditionalCheckFailedException", "TransactionCanceledException"]);

/** The part of a middleware's arguments that accounting reads. */
interface MiddlewareArgs {
  readonly input: object;
  readonly request?: unknown;
}
type Handler = (args: MiddlewareArgs) => Promise<{ output?: unknown; response?: unknown }>;
type Middleware = (next: Handler, context: Record<string, unknown>) => Handler;

/**
 * Any AWS SDK v3 client (`SQSClient`, `DynamoDBClient`, `DynamoDBDocumentClient`, ...).
 * Typed loosely: the SDK's overloaded `middlewareStack.add` differs per client.
 */
export interface AccountableClient {
  readonly middlewareStack: object;
}

/** The part of the SDK's middleware stack that accounting uses. */
interface MiddlewareStackLike {
  add(
    middleware: Middleware,
    options: { step: "initialize" | "deserialize"; priority: "high" | "low"; name: string; tags: string[] },
  ): void;
}

/** What one `client.send` did, filled in by the two middlewares. */
interface SendRecord {
  /** The input passed on by the outer middleware. */
  readonly passed: object;
  /** The input as serialized (marshalled, for a document client). */
  sent: object;
  /** One entry per HTTP attempt. */
  readonly attempts: { request: number; response: number }[];
}

let instances = 0;

/** The origin of counts given none. */
export const UNSCOPED = "other";
/** The origins a local deployment counts under: who caused a request, an invocation or a transition. */
export const ORIGINS = {
  /** The coordinator's step Lambdas and its state machine. */
  coordinator: "coordinator",
  /** The task Lambdas. */
  task: "task",
  /** The event source mappings' receives and deletes. */
  mapping: "mapping",
  /** The HTTP API Lambda (ingest calls) and the job control behind it. */
  api: "api",
} as const;

/** Counts AWS requests, Lambda and Step Functions usage; see the module comment. */
export class RequestAccounting {
  /** origin → service → operation → counters. */
  private readonly services = new Map<string, Map<string, Map<string, Counter>>>();
  private readonly compute = new ComputeMeter();
  private readonly stacks = new WeakSet<object>();
  private readonly id = ++instances;
  /** Where the two middlewares share one send's record, in the SDK's per-send context. */
  private readonly key = `__riffleAccounting${this.id}`;

  /**
   * Adds the counting middleware to `client`, its requests counted under `origin`
   * (idempotent per middleware stack: a `DynamoDBDocumentClient` shares its base
   * client's stack, so attaching either counts both, once, under the first origin).
   * DynamoDB operations that accept it get `ReturnConsumedCapacity: "TOTAL"` unless
   * they ask for `INDEXES`.
   */
  attach<C extends AccountableClient>(client: C, origin: string = UNSCOPED): C {
    const stack = client.middlewareStack as MiddlewareStackLike;
    if (typeof stack?.add !== "function") {
      throw new RiffleError("accounting", "attach() needs an AWS SDK v3 client (no middlewareStack.add)");
    }
    if (this.stacks.has(stack)) return client;
    this.stacks.add(stack);
    const tags = ["RIFFLE_ACCOUNTING"];
    stack.add(this.outer(origin), { step: "initialize", priority: "high", name: `riffleAccounting${this.id}`, tags });
    stack.add(this.transport(), { step: "deserialize", priority: "low", name: `riffleAccountingHttp${this.id}`, tags });
    return client;
  }

  /** Origins that have counted something so far. */
  origins(): string[] {
    return [...new Set([...this.services.keys(), ...this.compute.origins()])].sort();
  }

  /** Records one Lambda invocation of `durationMs` (billed rounded up to 1 ms) at `memoryMb`. */
  recordInvocation(fn: string, durationMs: number, memoryMb: number, origin: string = UNSCOPED): void {
    if (!Number.isFinite(durationMs) || durationMs < 0 || !Number.isFinite(memoryMb) || memoryMb <= 0) {
      throw new RiffleError(
        "accounting",
        `invocation of '${fn}': duration must be ≥ 0 ms and memory > 0 MB, got ${durationMs} ms, ${memoryMb} MB`,
      );
    }
    this.compute.invocation(origin, fn, durationMs, memoryMb);
  }

  /** Records `n` states entered (retries included) by state machine `machine`. */
  recordStateTransitions(machine: string, type: WorkflowType, n = 1, origin: string = UNSCOPED): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new RiffleError("accounting", `transitions of '${machine}' must be an integer ≥ 0, got ${n}`);
    }
    this.compute.transitions(origin, machine, type, n);
  }

  /** Records one execution of `machine` that ran `durationMs` (Express bills it in 100 ms steps at 64 MB). */
  recordExecution(machine: string, type: WorkflowType, durationMs: number, origin: string = UNSCOPED): void {
    this.compute.execution(origin, machine, type, checkedDuration(machine, durationMs));
  }

  /** Records `durationMs` more of an execution of `machine` that still runs (counted as it passes, not rounded). */
  recordExecutionTime(machine: string, type: WorkflowType, durationMs: number, origin: string = UNSCOPED): void {
    this.compute.execution(origin, machine, type, checkedDuration(machine, durationMs), 0);
  }

  /** A JSON-serializable copy of every counter: of every origin, or of `origin` alone. */
  snapshot(origin?: string): AccountingSnapshot {
    const merged = new Map<string, Map<string, Counter>>();
    for (const [o, byService] of this.services) {
      if (origin !== undefined && o !== origin) continue;
      for (const [service, ops] of byService) {
        for (const [op, c] of ops) addCounter(counterIn(merged, service, op), c);
      }
    }
    const services: Record<string, Record<string, OperationStats>> = {};
    for (const [service, ops] of [...merged].sort(([a], [b]) => a.localeCompare(b))) {
      const out: Record<string, OperationStats> = {};
      for (const [op, c] of [...ops].sort(([a], [b]) => a.localeCompare(b))) out[op] = operationStats(service, op, c);
      services[service] = out;
    }
    const lambda = this.compute.lambdaStats(origin);
    const counters = [...merged.values()].flatMap((ops) => [...ops.values()]);
    const sum = (f: (c: Counter) => number) => counters.reduce((n, c) => n + f(c), 0);
    const lambdas = Object.values(lambda);
    const totals: AccountingTotals = {
      requests: sum((c) => c.requests),
      billedRequests: sum((c) => c.billedRequests),
      requestBytes: sum((c) => c.requestBytes),
      responseBytes: sum((c) => c.responseBytes),
      readUnits: sum((c) => c.readUnits),
      writeUnits: sum((c) => c.writeUnits),
      lambdaInvocations: lambdas.reduce((n, l) => n + l.invocations, 0),
      lambdaDurationMs: lambdas.reduce((n, l) => n + l.durationMs, 0),
      lambdaGbSeconds: lambdas.reduce((n, l) => n + l.gbSeconds, 0),
      estimated: counters.some((c) => c.estimated),
    };
    return { services, lambda, stepFunctions: this.compute.workflowStats(origin), totals };
  }

  /** The totals scaled to one million events, for a run that processed `events` events. */
  perMillion(events: number): AccountingTotals {
    if (!Number.isFinite(events) || events <= 0) {
      throw new RiffleError("accounting", `perMillion needs a positive event count, got ${events}`);
    }
    const t = this.snapshot().totals;
    const k = 1_000_000 / events;
    return {
      requests: t.requests * k,
      billedRequests: t.billedRequests * k,
      requestBytes: t.requestBytes * k,
      responseBytes: t.responseBytes * k,
      readUnits: t.readUnits * k,
      writeUnits: t.writeUnits * k,
      lambdaInvocations: t.lambdaInvocations * k,
      lambdaDurationMs: t.lambdaDurationMs * k,
      lambdaGbSeconds: t.lambdaGbSeconds * k,
      estimated: t.estimated,
    };
  }

  /** A readable table of every counter and the totals (`events`: add a per-million-events line). */
  format(events?: number): string {
    return formatAccounting(this.snapshot(), events === undefined ? undefined : this.perMillion(events));
  }

  /** Clears every counter (attached clients stay attached). */
  reset(): void {
    this.services.clear();
    this.compute.reset();
  }

  /** Outermost: injects ReturnConsumedCapacity, then records the send once it has settled. */
  private outer(origin: string): Middleware {
    return (next, context) => async (args) => {
      const service = serviceOf(context);
      const operation = operationOf(context);
      let input = args.input as Record<string, unknown>;
      const rcc = input.ReturnConsumedCapacity;
      if (service === "DynamoDB" && CAPACITY_OPERATIONS.has(operation) && rcc !== "TOTAL" && rcc !== "INDEXES") {
        input = { ...input, ReturnConsumedCapacity: "TOTAL" };
      }
      const record: SendRecord = { passed: input, sent: input, attempts: [] };
      context[this.key] = record;
      try {
        const result = await next({ ...args, input });
        this.settle(origin, service, operation, record, result.output, undefined);
        return result;
      } catch (error) {
        this.settle(origin, service, operation, record, undefined, error);
        throw error;
      }
    };
  }

  /** Innermost, around the HTTP call: one attempt, its request and response body sizes. */
  private transport(): Middleware {
    return (next, context) => async (args) => {
      const record = context[this.key] as SendRecord | undefined;
      if (record === undefined) return next(args);
      record.sent = args.input;
      const attempt = { request: bodySize(args.request), response: 0 };
      record.attempts.push(attempt);
      const result = await next(args);
      attempt.response = responseSize(result.response, (n) => {
        attempt.response += n;
      });
      return result;
    };
  }

  private settle(
    origin: string,
    service: string,
    operation: string,
    record: SendRecord,
    output: unknown,
    error: unknown,
  ): void {
    let byService = this.services.get(origin);
    if (!byService) {
      byService = new Map();
      this.services.set(origin, byService);
    }
    const c = counterIn(byService, service, operation);
    for (const a of record.attempts) {
      c.requests += 1;
      c.requestBytes += a.request;
      c.responseBytes += a.response;
      if (service === "SQS") {
        c.billedRequests += Math.max(1, Math.ceil(Math.max(a.request, a.response) / SQS_BILLING_CHUNK_BYTES));
      }
    }
    const messages = (output as { Messages?: unknown } | undefined)?.Messages;
    if (service === "SQS" && Array.isArray(messages)) c.receivedMessages += messages.length;
    if (service !== "DynamoDB" || !CAPACITY_OPERATIONS.has(operation) || record.attempts.length === 0) return;
    const native = record.sent !== record.passed; // a document client marshalled the input: its output is native
    let units: Capacity | undefined;
    let estimated = false;
    if (error === undefined) {
      const out = output as { ConsumedCapacity?: unknown } | undefined;
      const reported = reportedCapacity(operation, out?.ConsumedCapacity);
      const estimate = estimateCapacity(operation, record.sent, output, native);
      // DynamoDB Local under-reports some transactions (2 WCU for two 1 KB puts, where AWS
      // bills 4): never report less than AWS's rules give for what was sent and read.
      units = {
        read: Math.max(reported?.read ?? 0, estimate.read),
        write: Math.max(reported?.write ?? 0, estimate.write),
      };
      estimated = reported === undefined || estimate.read > reported.read || estimate.write > reported.write;
    } else if (BILLED_FAILURES.has((error as { name?: string }).name ?? "")) {
      units = estimateCapacity(operation, record.sent, undefined, native);
      estimated = true;
    }
    if (units) {
      c.readUnits += units.read;
      c.writeUnits += units.write;
      c.estimated ||= estimated && units.read + units.write > 0;
    }
  }
}

function checkedDuration(machine: string, durationMs: number): number {
  if (!Number.isFinite(durationMs) || durationMs < 0) {
    throw new RiffleError("accounting", `execution of '${machine}': duration must be ≥ 0 ms, got ${durationMs}`);
  }
  return durationMs;
}
