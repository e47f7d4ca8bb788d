/**
 * What a route of the HTTP API works with: the request, its decoded path parameters,
 * the job's control, the limits, who asks and the request's audit record; and the JSON
 * body of a control route.
 */

import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { JobControl } from "../../core/control/job-control.ts";
import type { Principal } from "../../core/governance/principal.ts";
import type { RouteAccess } from "./access.ts";
import { HttpError, type HttpResponse } from "./errors.ts";
import { bodyText, mediaType } from "./ingest-body.ts";

/** Limits a route applies to a request. */
export interface RouteLimits {
  readonly maxBodyBytes: number;
  readonly maxRecords: number;
}

/** What a route handler receives. */
export interface RouteContext {
  readonly event: APIGatewayProxyEventV2;
  /** Decoded path parameters (`job`, `source`). */
  readonly params: Readonly<Record<string, string>>;
  readonly control: JobControl;
  readonly limits: RouteLimits;
  /** Who asks (authenticated; the route's grant checked). */
  readonly principal: Principal;
  /** The request's audit record: a handler adds the tables it touched, rows, checkpoint, fingerprint. */
  readonly access: RouteAccess;
}

export type RouteHandler = (ctx: RouteContext) => Promise<HttpResponse>;

/** A path template and the handlers of its methods. */
export interface Route {
  /** Path template, e.g. `/jobs/{job}/checkpoints`. */
  readonly path: string;
  readonly methods: Readonly<Record<string, RouteHandler>>;
  /** The grant each method needs, e.g. `monitor`, `admin`, `ingest:{source}` (a path parameter filled in). */
  readonly grants: Readonly<Record<string, string>>;
}

/** A JSON object body of a control route; undefined when the request has no body. */
export function controlBody(ctx: RouteContext): Record<string, unknown> | undefined {
  const text = bodyText(ctx.event, ctx.limits.maxBodyBytes);
  if (text.trim() === "") return undefined;
  const { type } = mediaType(ctx.event);
  if (type !== undefined && type !== "application/json" && !type.endsWith("+json")) {
    throw new HttpError(
      415,
      "unsupported-media-type",
      `content-type '${type}' is not supported: send application/json`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, "malformed-json", `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, "invalid-body", "request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
