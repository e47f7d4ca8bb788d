/**
 * The riffle HTTP API: an API Gateway HTTP API (payload format 2.0) Lambda
 * handler built with middy. A `before` middleware authenticates every request
 * (before anything else, so an unknown job without credentials is 401, not 404)
 * and finds its principal, except the dashboard's static files under `/ui/`
 * (`dashboard.ts`); the handler routes it to the job's {@link JobControl} once the
 * principal's grant for the route is checked; an `onError` middleware turns every
 * thrown value into a JSON error response (see `errors.ts`). Every request but the
 * dashboard's files is appended to the audit log with its outcome (`access.ts`).
 * `functions/local/http-server.ts` serves the same handler over node:http.
 */

import middy, { type MiddyfiedHandler } from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { JobDirectory } from "../../core/control/job-control.ts";
import { authorize } from "../../core/governance/principal.ts";
import { InMemoryAuditLog } from "../../core/memory/in-memory-audit-log.ts";
import type { AuditLog } from "../../core/ports/audit-log.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../core/runtime/prometheus.ts";
import { auditEntryOf, newAccess, type RouteAccess } from "./access.ts";
import { authenticate, type Credentials, parseKeyList } from "./auth.ts";
import { findDashboardDir, isDashboardPath, serveDashboard } from "./dashboard.ts";
import { errorResponse, type HttpResponse } from "./errors.ts";
import { route } from "./routes.ts";

/** Default limit on a request body, in bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;
/** Default limit on the records of one ingest request. */
export const DEFAULT_MAX_RECORDS = 10_000;

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /** Finds a job's control by id. */
  readonly jobs: JobDirectory;
  /** Accepted API keys / bearer tokens, or a (possibly async) function called on every request. Empty: every request is 401. */
  readonly credentials: Credentials;
  /** Largest accepted request body, in decoded bytes (default {@link DEFAULT_MAX_BODY_BYTES}). */
  readonly maxBodyBytes?: number;
  /** Most records in one ingest request (default {@link DEFAULT_MAX_RECORDS}). */
  readonly maxRecords?: number;
  /** Receives one line per 5xx (with the stack of an unexpected error); default `console.error`. */
  readonly log?: (line: string) => void;
  /** Directory of the built dashboard served under `/ui/` (default: {@link findDashboardDir}). */
  readonly dashboardDir?: string;
  /** When given, `GET /metrics` answers its Prometheus text (authenticated like every route; grant `monitor`). */
  readonly metrics?: () => string;
  /** Where every access is recorded (default: in memory, ending with the process). */
  readonly audit?: AuditLog;
  /** The audit's clock, epoch ms (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * The HTTP API handler: a middy handler taking an API Gateway v2 event (the Lambda
 * context is optional) and resolving to a structured result with a JSON body.
 * `maxBodyBytes` is its body limit, for a server in front of it to refuse larger
 * bodies before buffering them.
 */
export type HttpApiHandler = MiddyfiedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> & {
  (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResponse>;
  readonly maxBodyBytes: number;
};

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return v;
}

/** Builds the HTTP API handler over a job directory. */
export function createHttpApi(options: HttpApiOptions): HttpApiHandler {
  const limits = {
    maxBodyBytes: positiveInteger("maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES),
    maxRecords: positiveInteger("maxRecords", options.maxRecords, DEFAULT_MAX_RECORDS),
  };
  const log = options.log ?? ((line: string) => console.error(line));
  const dashboard = options.dashboardDir ?? findDashboardDir();
  const audit = options.audit ?? new InMemoryAuditLog();
  const now = options.now ?? Date.now;
  const accesses = new WeakMap<APIGatewayProxyEventV2, RouteAccess>();
  const record = async (event: APIGatewayProxyEventV2, status: number, error?: unknown) => {
    const access = accesses.get(event);
    if (access === undefined) return;
    const http = event.requestContext?.http;
    await audit.append(auditEntryOf(access, http?.method ?? "?", event.rawPath ?? "?", status, now(), error));
  };
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .before(async (request) => {
      // The dashboard's files hold no data: the page reads everything through the API below.
      if (isDashboardPath(request.event.rawPath ?? "")) return serveDashboard(request.event, dashboard);
      const access = newAccess();
      accesses.set(request.event, access);
      access.principal = await authenticate(request.event.headers ?? {}, options.credentials);
      return undefined;
    })
    .after(async (request) => {
      await record(request.event, request.response?.statusCode ?? 200);
    })
    .onError(async (request) => {
      const event = request.event;
      const where = {
        method: event.requestContext?.http?.method ?? "?",
        path: event.rawPath ?? "?",
        requestId: event.requestContext?.requestId,
      };
      const response = errorResponse(request.error, where, log);
      request.response = response;
      // Best effort here: the request failed already (perhaps at the audit itself).
      await record(event, response.statusCode, request.error).catch((e: unknown) =>
        log(`riffle http: audit append failed on ${where.method} ${where.path}: ${(e as Error).message}`),
      );
    })
    .handler(async (event) => {
      const access = accesses.get(event) as RouteAccess & { principal: NonNullable<RouteAccess["principal"]> };
      const metrics = options.metrics;
      if (metrics !== undefined && event.rawPath === "/metrics" && event.requestContext.http.method === "GET") {
        access.route = "GET /metrics";
        authorize(access.principal, "monitor", "call GET /metrics");
        return { statusCode: 200, headers: { "content-type": PROMETHEUS_CONTENT_TYPE }, body: metrics() };
      }
      return route(event, options.jobs, limits, access);
    });
  return Object.assign(handler, { maxBodyBytes: limits.maxBodyBytes }) as unknown as HttpApiHandler;
}

/**
 * The HTTP API with its keys from the environment variable `RIFFLE_API_KEYS`
 * (comma-separated), read on every request. When it is unset or empty every
 * request is 401 with a message saying the server has no credentials configured.
 */
export function httpHandlerFromEnv(
  jobs: JobDirectory,
  options?: Omit<HttpApiOptions, "jobs" | "credentials">,
): HttpApiHandler {
  return createHttpApi({ ...options, jobs, credentials: () => parseKeyList(process.env.RIFFLE_API_KEYS) });
}
