/**
 * HTTP errors and JSON responses of the riffle HTTP API. Every response is JSON;
 * every error body is `{"error": <code>, "message": <why>, ...details}`. One
 * function, {@link errorResponse}, maps any thrown value to a response, so the
 * mapping of control errors to status codes is decided here, once.
 */

import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describeCause, RiffleError } from "../../core/errors.ts";
import { ForbiddenError } from "../../core/governance/principal.ts";

/** The `retry-after` (seconds) sent with a 503 for a retryable control error. */
export const RETRY_AFTER_SECONDS = 1;

/** A response of the HTTP API: always a status code, headers and a JSON body. */
export interface HttpResponse extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Options of {@link HttpError}. */
export interface HttpErrorOptions {
  /** Further fields of the error body (e.g. `record`, `line`, `sources`). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Extra response headers (e.g. `allow`, `www-authenticate`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** A request the API refuses with a 4xx status, a stable `error` code and a precise message. */
export class HttpError extends RiffleError {
  /** The HTTP status code. */
  readonly status: number;
  /** The body's `error` field (e.g. `unknown-job`, `schema-mismatch`). */
  readonly code: string;
  /** Further body fields. */
  readonly details: Readonly<Record<string, unknown>>;
  /** Extra response headers. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, options?: HttpErrorOptions) {
    super("http", message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = options?.details ?? {};
    this.headers = options?.headers ?? {};
  }
}

/** A JSON response with `content-type: application/json`. */
export function jsonResponse(status: number, body: unknown, headers?: Readonly<Record<string, string>>): HttpResponse {
  return {
    statusCode: status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** Where an error happened, for the log line and the 500 message. */
export interface ErrorContext {
  readonly method: string;
  readonly path: string;
  readonly requestId?: string;
}

/**
 * Maps a thrown value to a response:
 * - {@link HttpError}: its status, code, details and headers;
 * - a {@link ForbiddenError} (a missing grant): 403 `forbidden`, with the `grant` needed;
 * - a retryable {@link RiffleError}: 503 with `retry-after`, the error's reason and message (logged);
 * - a {@link RiffleError} with reason `usage`: 400;
 * - any other {@link RiffleError} from the control (e.g. a `SavepointError`): 409 with its reason and message;
 * - anything else: 500 `internal`, logged with its stack; the response names no internals.
 */
export function errorResponse(error: unknown, where: ErrorContext, log: (line: string) => void): HttpResponse {
  if (error instanceof HttpError) {
    return jsonResponse(error.status, { error: error.code, message: error.message, ...error.details }, error.headers);
  }
  if (error instanceof ForbiddenError) {
    return jsonResponse(403, { error: "forbidden", message: error.message, grant: error.grant });
  }
  const at = `${where.method} ${where.path}${where.requestId ? ` (request ${where.requestId})` : ""}`;
  if (error instanceof RiffleError && error.retryable) {
    log(`riffle http: 503 on ${at}: ${error.reason}: ${error.message}`);
    return jsonResponse(
      503,
      { error: error.reason, message: error.message },
      { "retry-after": String(RETRY_AFTER_SECONDS) },
    );
  }
  if (error instanceof RiffleError) {
    return jsonResponse(error.reason === "usage" ? 400 : 409, { error: error.reason, message: error.message });
  }
  const detail = error instanceof Error && error.stack ? error.stack : describeCause(error);
  log(`riffle http: 500 on ${at}: ${detail}`);
  return jsonResponse(500, {
    error: "internal",
    message: `internal error while handling ${at}; the server log has the details`,
  });
}
