/**
 * The dashboard's static files, served under `/ui/` by the same handler as the API.
 * They hold no data: the page asks for an API key, keeps it in session storage and
 * reads everything through the authenticated routes, so the files themselves are
 * served without a credential. Every answer carries a strict Content-Security-Policy
 * (no inline script or style, no host but this one), so the page works without the
 * internet and an injected string cannot run.
 *
 * The files are the committed build in `dashboard/dist` (`npm run build:dashboard`);
 * a deployed API function finds them beside its bundle (`stacks/bundle.ts` copies
 * them), or wherever `RIFFLE_DASHBOARD_DIR` says.
 */

import { existsSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { HttpError, type HttpResponse } from "./errors.ts";

/** The path prefix of the dashboard. */
export const DASHBOARD_PATH = "/ui";

/** The Content-Security-Policy of every dashboard file. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

const TEXT = new Set([".html", ".js", ".css", ".svg", ".json"]);

/** True for a path the dashboard answers (`/ui` and below). */
export function isDashboardPath(path: string): boolean {
  return path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
}

/**
 * Where the built dashboard is: `RIFFLE_DASHBOARD_DIR`, else `dashboard/` beside a
 * Lambda bundle, else the repository's `dashboard/dist`. Undefined when none holds
 * an `index.html`.
 */
export function findDashboardDir(): string | undefined {
  const candidates = [
    process.env.RIFFLE_DASHBOARD_DIR,
    fileURLToPath(new URL("./dashboard/", import.meta.url)),
    fileURLToPath(new URL("../../dashboard/dist/", import.meta.url)),
  ];
  return candidates.find((dir) => dir !== undefined && dir !== "" && existsSync(join(dir, "index.html")));
}

function headersFor(ext: string): Record<string, string> {
  return {
    "content-type": TYPES[ext] ?? "application/octet-stream",
    "content-security-policy": DASHBOARD_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    // Built assets carry a content hash in their names; the page itself is revalidated.
    "cache-control": ext === ".html" ? "no-cache" : "public, max-age=31536000, immutable",
  };
}

/** The files read so far, by path: a build never changes while it is served, so each is read once. */
const files = new Map<string, Buffer>();

/** The bytes of `file`, read once; undefined while it does not exist. */
function readOnce(file: string): Buffer | undefined {
  let bytes = files.get(file);
  if (bytes === undefined && existsSync(file)) {
    bytes = readFileSync(file);
    files.set(file, bytes);
  }
  return bytes;
}

/** Serves one dashboard file from `dir` (GET and HEAD); throws {@link HttpError}s for 4xx/503. */
export function serveDashboard(event: APIGatewayProxyEventV2, dir: string | undefined): HttpResponse {
  const method = event.requestContext.http.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") {
    throw new HttpError(405, "method-not-allowed", `${method} is not allowed on ${DASHBOARD_PATH}: use GET, HEAD`, {
      headers: { allow: "GET, HEAD" },
    });
  }
  if (event.rawPath === DASHBOARD_PATH) {
    return { statusCode: 308, headers: { location: `${DASHBOARD_PATH}/` }, body: "" };
  }
  if (dir === undefined || readOnce(join(dir, "index.html")) === undefined) {
    throw new HttpError(503, "dashboard-not-built", "the dashboard is not built: run `npm run build:dashboard`");
  }
  const rel = event.rawPath.slice(DASHBOARD_PATH.length + 1) || "index.html";
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(rel)) {
    throw new HttpError(404, "not-found", `no dashboard file '${rel}'`);
  }
  const bytes = readOnce(join(dir, rel));
  if (bytes === undefined) throw new HttpError(404, "not-found", `no dashboard file '${rel}'`);
  const ext = extname(rel);
  const text = TEXT.has(ext);
  const body = method === "HEAD" ? "" : text ? bytes.toString("utf8") : bytes.toString("base64");
  const headers = { ...headersFor(ext), ...(method === "HEAD" ? { "content-length": String(bytes.length) } : {}) };
  return { statusCode: 200, headers, body, ...(text || method === "HEAD" ? {} : { isBase64Encoded: true }) };
}
