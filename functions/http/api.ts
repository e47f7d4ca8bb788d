/**
 * The riffle HTTP API: an API Gateway HTTP API (payload format 2.0) Lambda
 * handler built with middy. A `before` middleware authenticates every request
 * (before anything else, so an unknown job without credentials is 401, not 404),
 * except the dashboard's static files under `/ui/` (`dashboard.ts`);
 * the handler routes it to the job's {@link JobControl}; an `onError` middleware
 * turns every thrown value into a JSON error response (see `errors.ts`).
 * `functions/local/http-server.ts` serves the same handler over node:http.
 */

import middy, { type MiddyfiedHandler } from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { JobDirectory } from "../../core/control/job-control.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../core/runtime/prometheus.ts";
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
  /** When given, `GET /metrics` answers its Prometheus text (authenticated like every route). */
  readonly metrics?: () => string;
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
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .before(async (request) => {
      // The dashboard's files hold no data: the page reads everything through the API below.
      if (isDashboardPath(request.event.rawPath ?? "")) return serveDashboard(request.event, dashboard);
      await authenticate(request.event.headers ?? {}, options.credentials);
      return undefined;
    })
    .onError((request) => {
      const event = request.event;
      request.response = errorResponse(
        request.error,
        {
          method: event.requestContext?.http?.method ?? "?",
          path: event.rawPath ?? "?",
          requestId: event.requestContext?.requestId,
        },
        log,
      );
    })
    .handler(async (event) => {
      const metrics = options.metrics;
      if (metrics !== undefined && event.rawPath === "/metrics" && event.requestContext.http.method === "GET") {
        return { statusCode: 200, headers: { "content-type": PROMETHEUS_CONTENT_TYPE }, body: metrics() };
      }
      return route(event, options.jobs, limits);
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
