/**
 * The routes of the HTTP API and the router that matches a request to one. Each
 * route speaks only to the job's `JobControl`. Path segments are URL-decoded
 * before matching; an unknown path is 404, a known path with another method 405
 * (with `allow`), an unknown job 404. HEAD is answered wherever GET is: the GET
 * response with its headers (and the `content-length` of its body) and no body.
 * Each route declares the grant each method needs (`{param}` filled from the path);
 * the router checks it before looking up the job (403 `forbidden`, naming the grant).
 */

import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { RestoreInterruptedError } from "../../core/checkpoint/restore.ts";
import { checkSavepointName, SavepointError } from "../../core/checkpoint/savepoint.ts";
import type { JobDirectory } from "../../core/control/job-control.ts";
import { authorize, type Principal } from "../../core/governance/principal.ts";
import type { RouteAccess } from "./access.ts";
import { HttpError, type HttpResponse, jsonResponse } from "./errors.ts";
import { bodyText, parseRecords, validateRecords } from "./ingest-body.ts";
import { liveSnapshot } from "./live.ts";
import { controlBody, type Route, type RouteContext, type RouteLimits } from "./route-context.ts";
import { TABLE_ROUTES } from "./table-routes.ts";

export type { Route, RouteContext, RouteLimits } from "./route-context.ts";

function requiredString(body: Record<string, unknown> | undefined, field: string, example: string): string {
  const value = body?.[field];
  if (typeof value !== "string" || value === "") {
    throw new HttpError(
      400,
      "invalid-body",
      `request body must be a JSON object with a non-empty string '${field}' (e.g. ${example})` +
        (value === undefined ? `; '${field}' is missing` : `; got ${JSON.stringify(value)}`),
    );
  }
  return value;
}

async function ingestEvents(ctx: RouteContext): Promise<HttpResponse> {
  const name = ctx.params.source as string;
  const sources = ctx.control.ingestSources();
  const source = sources.find((s) => s.name === name);
  if (source === undefined) {
    const names = sources.map((s) => s.name);
    throw new HttpError(
      404,
      "unknown-source",
      `job '${ctx.control.job}' has no ingest source '${name}' (ingest sources: ${names.length ? names.join(", ") : "none"})`,
      { details: { sources: names } },
    );
  }
  const key = ctx.event.queryStringParameters?.key;
  if (key === "") throw new HttpError(400, "invalid-key", "query parameter 'key' is empty: omit it or give a key");
  const text = bodyText(ctx.event, ctx.limits.maxBodyBytes);
  const parsed = parseRecords(ctx.event, text, ctx.limits.maxRecords);
  const records = await validateRecords(source.schema, parsed, name);
  const { partition, first, last } = await ctx.control.ingest(name, records, key);
  ctx.access.tables.push(name);
  ctx.access.rows = records.length;
  return jsonResponse(202, { accepted: records.length, partition, first, last });
}

async function takeSavepoint(ctx: RouteContext): Promise<HttpResponse> {
  const name = requiredString(controlBody(ctx), "name", '{"name":"before-upgrade"}');
  try {
    checkSavepointName(name);
  } catch (e) {
    if (e instanceof SavepointError) throw new HttpError(400, "invalid-name", e.message);
    throw e;
  }
  return jsonResponse(201, await ctx.control.savepoint(name));
}

async function restore(ctx: RouteContext): Promise<HttpResponse> {
  const savepoint = requiredString(controlBody(ctx), "savepoint", '{"savepoint":"before-upgrade"}');
  try {
    const { generation } = await ctx.control.restore(savepoint);
    return jsonResponse(200, { generation });
  } catch (e) {
    // Begun, not finished: it completes by itself (never half-done), so 202, not a 503 to retry.
    if (!(e instanceof RestoreInterruptedError)) throw e;
    return jsonResponse(202, { generation: e.generation, restoring: true, message: e.message });
  }
}

async function replay(ctx: RouteContext): Promise<HttpResponse> {
  const ids = controlBody(ctx)?.ids;
  if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === "string"))) {
    throw new HttpError(
      400,
      "invalid-body",
      `'ids' must be an array of dead-letter id strings, got ${JSON.stringify(ids)}`,
    );
  }
  const { replayed } = await ctx.control.replay(ids as string[] | undefined);
  return jsonResponse(200, { replayed });
}

/** Every route of the API. */
export const ROUTES: readonly Route[] = [
  {
    path: "/jobs/{job}",
    methods: { GET: async (ctx) => jsonResponse(200, await ctx.control.status()) },
    grants: { GET: "monitor" },
  },
  {
    path: "/jobs/{job}/checkpoints",
    methods: { GET: async (ctx) => jsonResponse(200, { checkpoints: await ctx.control.checkpoints() }) },
    grants: { GET: "monitor" },
  },
  {
    path: "/jobs/{job}/plan",
    methods: { GET: async (ctx) => jsonResponse(200, await ctx.control.plan()) },
    grants: { GET: "monitor" },
  },
  {
    path: "/jobs/{job}/savepoints",
    methods: {
      GET: async (ctx) => jsonResponse(200, { savepoints: await ctx.control.listSavepoints() }),
      POST: takeSavepoint,
    },
    grants: { GET: "monitor", POST: "admin" },
  },
  { path: "/jobs/{job}/events", methods: { GET: (ctx) => liveSnapshot(ctx.control) }, grants: { GET: "monitor" } },
  { path: "/jobs/{job}/restore", methods: { POST: restore }, grants: { POST: "admin" } },
  // Dead letters hold records: admin, not monitor.
  {
    path: "/jobs/{job}/dlq",
    methods: { GET: async (ctx) => jsonResponse(200, await ctx.control.deadLetters()) },
    grants: { GET: "admin" },
  },
  { path: "/jobs/{job}/dlq/replay", methods: { POST: replay }, grants: { POST: "admin" } },
  {
    path: "/jobs/{job}/sources/{source}/events",
    methods: { POST: ingestEvents },
    grants: { POST: "ingest:{source}" },
  },
  ...TABLE_ROUTES,
];

/** The grant `method` on `r` needs, its `{param}`s filled in from the path. */
export function routeGrant(r: Route, method: string, params: Readonly<Record<string, string>>): string {
  const template = r.grants[method];
  if (template === undefined) throw new Error(`route ${method} ${r.path} declares no grant`);
  return template.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? "");
}

function decodeSegments(rawPath: string): string[] {
  return rawPath
    .replace(/^\//, "")
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch (cause) {
        throw new HttpError(400, "bad-path", `path segment '${segment}' is not valid percent-encoding`, { cause });
      }
    });
}

function match(template: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = template.replace(/^\//, "").split("/");
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const segment = segments[i] as string;
    if (part.startsWith("{")) params[part.slice(1, -1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}

/** Methods a route answers: its own, and HEAD where it has GET (the gateway needs a route for each). */
export function routeMethods(r: Route): string[] {
  const methods = Object.keys(r.methods);
  return methods.includes("GET") ? [...methods, "HEAD"] : methods;
}

/** The answer to HEAD: the GET response's status and headers, with the length of the body it leaves out. */
function withoutBody(response: HttpResponse): HttpResponse {
  const length = String(Buffer.byteLength(response.body, response.isBase64Encoded ? "base64" : "utf8"));
  return { ...response, headers: { ...response.headers, "content-length": length }, body: "" };
}

/**
 * Routes a request: matches path and method, checks the principal's grant, finds the
 * job, runs the route. Throws {@link HttpError}s for 4xx, a `ForbiddenError` for a
 * missing grant. `access` (its principal set) receives the route for the audit.
 */
export async function route(
  event: APIGatewayProxyEventV2,
  jobs: JobDirectory,
  limits: RouteLimits,
  access: RouteAccess & { readonly principal: Principal },
): Promise<HttpResponse> {
  const method = event.requestContext.http.method.toUpperCase();
  const segments = decodeSegments(event.rawPath);
  for (const r of ROUTES) {
    const params = match(r.path, segments);
    if (params === undefined) continue;
    const handler = r.methods[method === "HEAD" ? "GET" : method];
    if (handler === undefined) {
      const allow = routeMethods(r).join(", ");
      throw new HttpError(405, "method-not-allowed", `${method} is not allowed on ${r.path}: use ${allow}`, {
        headers: { allow },
      });
    }
    const as = method === "HEAD" ? "GET" : method;
    const job = params.job as string;
    access.route = `${method} ${r.path}`;
    access.job = job;
    authorize(access.principal, routeGrant(r, as, params), `call ${as} ${r.path}`);
    const control = jobs(job);
    if (control === undefined) throw new HttpError(404, "unknown-job", `no job '${job}'`);
    const response = await handler({ event, params, control, limits, principal: access.principal, access });
    return method === "HEAD" ? withoutBody(response) : response;
  }
  const routes = ROUTES.flatMap((r) => Object.keys(r.methods).map((m) => `${m} ${r.path}`)).join(", ");
  throw new HttpError(404, "not-found", `no route for ${method} ${event.rawPath} (routes: ${routes})`);
}
