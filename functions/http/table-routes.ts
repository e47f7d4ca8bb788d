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

import type { GovernanceReport } from "../../core/governance/rewrite.ts";
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

/**
 * Runs one read as the request's principal: its row policies and masks apply, and
 * classified columns are masked without `unmask` (`core/tables/governed-read.ts`); what
 * was applied and the rows returned go into the request's audit record. A refused read
 * is a precise 4xx.
 */
async function read(ctx: RouteContext, request: TableRequest): Promise<TableAnswer> {
  const access = ctx.access;
  const applied = (r: GovernanceReport) => {
    for (const t of r.tables) if (!access.tables.includes(t)) access.tables.push(t);
    access.predicates.push(...r.predicates);
    access.masked.push(...r.masked);
  };
  try {
    const answer = await readTable(tablesOf(ctx), request, { principal: ctx.principal, applied });
    access.checkpoint = answer.checkpoint;
    if ("table" in request && typeof request.table === "string" && !access.tables.includes(request.table))
      access.tables.push(request.table);
    access.rows = rowsOf(answer);
    if (answer.kind === "query") {
      if (request.kind === "query") access.query = request.sql;
      if (answer.fingerprint !== undefined) access.fingerprint = answer.fingerprint;
    }
    return answer;
  } catch (e) {
    if (e instanceof TableReadError) throw new HttpError(readErrorStatus(e), e.reason, e.message, { cause: e });
    if (e instanceof Error && e.name === "SqlError") throw new HttpError(400, "invalid-sql", e.message, { cause: e });
    throw e;
  }
}

function rowsOf(a: TableAnswer): number {
  if (a.kind === "lookup") return a.row === null ? 0 : 1;
  if (a.kind === "snapshot" || a.kind === "query") return a.rows.length;
  if (a.kind === "changes") return a.changes.length;
  return 0;
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
