/**
 * Counts what a run asks of AWS: requests, payload bytes and billed units per
 * service and operation (through AWS SDK v3 middleware), and Lambda invocations,
 * billed duration and GB-seconds. Used to print cost figures at the end of a run
 * and per million events in benchmarks.
 */

import { Readable } from "node:stream";
import { RiffleError } from "../../core/errors.ts";
import { CAPACITY_OPERATIONS, type Capacity, estimateCapacity, reportedCapacity } from "./accounting-dynamo.ts";
import { formatAccounting } from "./accounting-format.ts";
import type { AccountingSnapshot, AccountingTotals, LambdaStats, OperationStats } from "./accounting-snapshot.ts";

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

interface Counter {
  requests: number;
  billedRequests: number;
  requestBytes: number;
  responseBytes: number;
  readUnits: number;
  writeUnits: number;
  estimated: boolean;
}

let instances = 0;

/** Counts AWS requests and Lambda usage; see the module comment. */
export class RequestAccounting {
  private readonly services = new Map<string, Map<string, Counter>>();
  private readonly lambdas = new Map<string, { invocations: number; durationMs: number; gbSeconds: number }>();
  private readonly stacks = new WeakSet<object>();
  private readonly id = ++instances;
  /** Where the two middlewares share one send's record, in the SDK's per-send context. */
  private readonly key = `__riffleAccounting${this.id}`;

  /**
   * Adds the counting middleware to `client` (idempotent per middleware stack: a
   * `DynamoDBDocumentClient` shares its base client's stack, so attaching either
   * counts both, once). DynamoDB operations that accept it get
   * `ReturnConsumedCapacity: "TOTAL"` unless they ask for `INDEXES`.
   */
  attach<C extends AccountableClient>(client: C): C {
    const stack = client.middlewareStack as MiddlewareStackLike;
    if (typeof stack?.add !== "function") {
      throw new RiffleError("accounting", "attach() needs an AWS SDK v3 client (no middlewareStack.add)");
    }
    if (this.stacks.has(stack)) return client;
    this.stacks.add(stack);
    const tags = ["RIFFLE_ACCOUNTING"];
    stack.add(this.outer(), { step: "initialize", priority: "high", name: `riffleAccounting${this.id}`, tags });
    stack.add(this.transport(), { step: "deserialize", priority: "low", name: `riffleAccountingHttp${this.id}`, tags });
    return client;
  }

  /** Records one Lambda invocation of `durationMs` (billed rounded up to 1 ms) at `memoryMb`. */
  recordInvocation(fn: string, durationMs: number, memoryMb: number): void {
    if (!Number.isFinite(durationMs) || durationMs < 0 || !Number.isFinite(memoryMb) || memoryMb <= 0) {
      throw new RiffleError(
        "accounting",
        `invocation of '${fn}': duration must be ≥ 0 ms and memory > 0 MB, got ${durationMs} ms, ${memoryMb} MB`,
      );
    }
    const billed = Math.max(1, Math.ceil(durationMs));
    const l = this.lambdas.get(fn) ?? { invocations: 0, durationMs: 0, gbSeconds: 0 };
    l.invocations += 1;
    l.durationMs += billed;
    l.gbSeconds += (memoryMb / 1024) * (billed / 1000);
    this.lambdas.set(fn, l);
  }

  /** A JSON-serializable copy of every counter. */
  snapshot(): AccountingSnapshot {
    const services: Record<string, Record<string, OperationStats>> = {};
    for (const [service, ops] of [...this.services].sort(([a], [b]) => a.localeCompare(b))) {
      const out: Record<string, OperationStats> = {};
      for (const [op, c] of [...ops].sort(([a], [b]) => a.localeCompare(b))) {
        const base = { requests: c.requests, requestBytes: c.requestBytes, responseBytes: c.responseBytes };
        if (service === "SQS") out[op] = { ...base, billedRequests: c.billedRequests };
        else if (service === "DynamoDB" && CAPACITY_OPERATIONS.has(op)) {
          out[op] = { ...base, readUnits: c.readUnits, writeUnits: c.writeUnits, estimated: c.estimated };
        } else out[op] = base;
      }
      services[service] = out;
    }
    const lambda: Record<string, LambdaStats> = {};
    for (const [fn, l] of [...this.lambdas].sort(([a], [b]) => a.localeCompare(b))) lambda[fn] = { ...l };
    const counters = [...this.services.values()].flatMap((ops) => [...ops.values()]);
    const sum = (f: (c: Counter) => number) => counters.reduce((n, c) => n + f(c), 0);
    const lambdas = [...this.lambdas.values()];
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
    return { services, lambda, totals };
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
    this.lambdas.clear();
  }

  /** Outermost: injects ReturnConsumedCapacity, then records the send once it has settled. */
  private outer(): Middleware {
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
        this.settle(service, operation, record, result.output, undefined);
        return result;
      } catch (error) {
        this.settle(service, operation, record, undefined, error);
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

  private settle(service: string, operation: string, record: SendRecord, output: unknown, error: unknown): void {
    const c = this.counter(service, operation);
    for (const a of record.attempts) {
      c.requests += 1;
      c.requestBytes += a.request;
      c.responseBytes += a.response;
      if (service === "SQS") {
        c.billedRequests += Math.max(1, Math.ceil(Math.max(a.request, a.response) / SQS_BILLING_CHUNK_BYTES));
      }
    }
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

  private counter(service: string, operation: string): Counter {
    let ops = this.services.get(service);
    if (!ops) {
      ops = new Map();
      this.services.set(service, ops);
    }
    let c = ops.get(operation);
    if (!c) {
      c = {
        requests: 0,
        billedRequests: 0,
        requestBytes: 0,
        responseBytes: 0,
        readUnits: 0,
        writeUnits: 0,
        estimated: false,
      };
      ops.set(operation, c);
    }
    return c;
  }
}

function serviceOf(context: Record<string, unknown>): string {
  const name = context.clientName;
  if (typeof name === "string" && name.length > 0) return name.replace(/Client$/, "");
  const smithy = context.__smithy_context as { service?: string } | undefined;
  return smithy?.service ?? "unknown";
}

function operationOf(context: Record<string, unknown>): string {
  const name = context.commandName;
  if (typeof name === "string" && name.length > 0) return name.replace(/Command$/, "");
  const smithy = context.__smithy_context as { operation?: string } | undefined;
  return smithy?.operation ?? "unknown";
}

function header(message: unknown, name: string): number | undefined {
  const headers = (message as { headers?: Record<string, string> } | undefined)?.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : Number(headers[key]);
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function bodySize(request: unknown): number {
  const body = (request as { body?: unknown } | undefined)?.body;
  if (typeof body === "string") return Buffer.byteLength(body, "utf8");
  if (body instanceof Uint8Array) return body.byteLength;
  return header(request, "content-length") ?? 0;
}

/**
 * The response body's size: its Content-Length, else counted as the deserializer
 * reads it (the body stream is wrapped; `onData` receives each chunk's size).
 */
function responseSize(response: unknown, onData: (bytes: number) => void): number {
  const length = header(response, "content-length");
  if (length !== undefined) return length;
  const r = response as { body?: unknown } | undefined;
  const body = r?.body;
  if (typeof body === "string") return Buffer.byteLength(body, "utf8");
  if (body instanceof Uint8Array) return body.byteLength;
  if (r && body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const source = body as AsyncIterable<Uint8Array | string>;
    r.body = Readable.from(
      (async function* counted() {
        for await (const chunk of source) {
          onData(typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength);
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
  }
  return 0;
}
