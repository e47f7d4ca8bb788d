/**
 * The HTTP routes of dynamic tables. Every read goes through `readTable`
 * (`core/tables/read-table.ts`) and reports the checkpoint it was read at, in its body
 * and in the `riffle-checkpoint` header:
 *
 * - `GET /jobs/{job}/tables`: the tables (name, columns, primary key) and the kept checkpoints;
 * - `GET /jobs/{job}/tables/{table}?key=…`: a point lookup (`key=a,b` for a composite key);
 *   without `key`, the whole snapshot;
 * - `GET /jobs/{job}/tables/{table}/changes?from=n`: the changes after checkpoint n as NDJSON,
 *   or as Server-Sent Events with `accept: text/event-stream` (each event's id is its
 *   checkpoint, so a reconnecting client's `last-event-id` resumes after it);
 * - `POST /jobs/{job}/query` with `{"sql": "SELECT …"}`: batch SQL over the snapshots.
 *
 * Reads take `at` (a checkpoint) or `savepoint` (query parameters, or body fields of a
 * query); the default is the newest checkpoint.
 */

import { authorize, ForbiddenError } from "../../core/governance/principal.ts";
import type { TableReadContext } from "../../core/tables/read.ts";
import { readErrorStatus, TableReadError } from "../../core/tables/read.ts";
import { readTable, type TableAnswer, type TableRequest } from "../../core/tables/read-table.ts";
import { HttpError, type HttpResponse, jsonResponse } from "./errors.ts";
import { controlBody, type Route, type RouteContext } from "./route-context.ts";

/** How long an SSE client waits before asking for the next changes, in ms. */
export const CHANGES_RETRY_MS = 1000;

function tablesOf(ctx: RouteContext): TableReadContext {
  const tables = ctx.control.tables?.();
  if (!tables)
    throw new HttpError(404, "no-tables", `job '${ctx.control.job}' runs where dynamic tables are not kept yet`);
  return tables;
}

function checkpointParam(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < (name === "from" ? 0 : 1) || (typeof value === "string" && !/^\d+$/.test(value)))
    throw new HttpError(
      400,
      "invalid-checkpoint",
      `'${name}' must be a checkpoint id (an integer), got ${JSON.stringify(value)}`,
    );
  return n;
}

/** `at` / `savepoint` of a read, from query parameters or a body. */
function readAt(source: Readonly<Record<string, unknown>> | undefined): { at?: number; savepoint?: string } {
  const at = checkpointParam(source?.at, "at");
  const savepoint = source?.savepoint;
  if (savepoint !== undefined && typeof savepoint !== "string")
    throw new HttpError(
      400,
      "invalid-savepoint",
      `'savepoint' must be a savepoint name, got ${JSON.stringify(savepoint)}`,
    );
  if (at !== undefined && savepoint !== undefined)
    throw new HttpError(400, "invalid-read", "give 'at' or 'savepoint', not both");
  return { ...(at === undefined ? {} : { at }), ...(savepoint === undefined ? {} : { savepoint }) };
}

/** Runs one read; a refused read is a precise 4xx. */
/**
 * Row policies and masks (`core/governance/`) are not applied on these reads yet, so a
 * principal they would restrict is refused here rather than shown unfiltered rows: it
 * needs `unmask` (classified columns are masked otherwise) and no policy on any table.
 */
function ungoverned(ctx: RouteContext): void {
  const p = ctx.principal;
  const policies = Object.keys(p.policies ?? {});
  if (policies.length > 0)
    throw new ForbiddenError(
      p.name,
      "unmask",
      `read dynamic tables: its row policies (on ${policies.join(", ")}) are not applied to them yet`,
    );
  authorize(p, "unmask", "read dynamic tables (their masks are not applied to them yet)");
}

async function read(ctx: RouteContext, request: TableRequest): Promise<TableAnswer> {
  if (request.kind !== "list") ungoverned(ctx);
  try {
    const answer = await readTable(tablesOf(ctx), request);
    ctx.access.checkpoint = answer.checkpoint;
    if ("table" in request && typeof request.table === "string") ctx.access.tables.push(request.table);
    return answer;
  } catch (e) {
    if (e instanceof TableReadError) throw new HttpError(readErrorStatus(e), e.reason, e.message, { cause: e });
    if (e instanceof Error && e.name === "SqlError") throw new HttpError(400, "invalid-sql", e.message, { cause: e });
    throw e;
  }
}

const withCheckpoint = (a: TableAnswer) => ({ "riffle-checkpoint": String(a.checkpoint) });

async function listTables(ctx: RouteContext): Promise<HttpResponse> {
  const answer = await read(ctx, { kind: "list", at: readAt(ctx.event.queryStringParameters) });
  return jsonResponse(200, answer, withCheckpoint(answer));
}

async function getTable(ctx: RouteContext): Promise<HttpResponse> {
  const q = ctx.event.queryStringParameters ?? {};
  const table = ctx.params.table as string;
  const at = readAt(q);
  if (q.key === "") throw new HttpError(400, "invalid-key", "query parameter 'key' is empty");
  const answer =
    q.key === undefined
      ? await read(ctx, { kind: "snapshot", table, at })
      : await read(ctx, { kind: "lookup", table, key: [q.key], at });
  return jsonResponse(200, answer, withCheckpoint(answer));
}

async function tableChanges(ctx: RouteContext): Promise<HttpResponse> {
  const q = ctx.event.queryStringParameters ?? {};
  const sse = (ctx.event.headers?.accept ?? "").includes("text/event-stream");
  const resumed = sse ? ctx.event.headers?.["last-event-id"] : undefined;
  const from = checkpointParam(resumed ?? q.from ?? "0", "from") ?? 0;
  const through = checkpointParam(q.through, "through");
  const answer = await read(ctx, {
    kind: "changes",
    table: ctx.params.table as string,
    from,
    ...(through === undefined ? {} : { through }),
  });
  if (answer.kind !== "changes") throw new Error("a changes read answered otherwise");
  const headers = { ...withCheckpoint(answer), "cache-control": "no-store" };
  if (!sse) {
    const body = answer.changes.map((c) => `${JSON.stringify(c)}\n`).join("");
    return { statusCode: 200, headers: { "content-type": "application/x-ndjson", ...headers }, body };
  }
  // One event per change, then a `checkpoint` event whose id is where the next request resumes.
  const events = answer.changes.map((c) => `event: change\ndata: ${JSON.stringify(c)}\n\n`).join("");
  const end = `id: ${answer.checkpoint}\nevent: checkpoint\ndata: ${JSON.stringify({ checkpoint: answer.checkpoint })}\n\n`;
  return {
    statusCode: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", ...headers },
    body: `retry: ${CHANGES_RETRY_MS}\n${events}${end}`,
  };
}

async function query(ctx: RouteContext): Promise<HttpResponse> {
  const body = controlBody(ctx);
  const sql = body?.sql;
  if (typeof sql !== "string" || sql.trim() === "")
    throw new HttpError(
      400,
      "invalid-body",
      'request body must be a JSON object with a string \'sql\' (e.g. {"sql":"SELECT …"})',
    );
  const answer = await read(ctx, { kind: "query", sql, at: readAt(body) });
  return jsonResponse(200, answer, withCheckpoint(answer));
}

/** The routes of dynamic tables; a query may name any table, so it needs `read:*`. */
export const TABLE_ROUTES: readonly Route[] = [
  { path: "/jobs/{job}/tables", methods: { GET: listTables }, grants: { GET: "monitor" } },
  { path: "/jobs/{job}/tables/{table}", methods: { GET: getTable }, grants: { GET: "read:{table}" } },
  { path: "/jobs/{job}/tables/{table}/changes", methods: { GET: tableChanges }, grants: { GET: "read:{table}" } },
  { path: "/jobs/{job}/query", methods: { POST: query }, grants: { POST: "read:*" } },
];
