/**
 * A tiny local HTTP server (node:http) in front of an API Gateway HTTP API
 * (payload format 2.0) handler, for local development (`riffle dev`) and tests:
 * each request becomes an `APIGatewayProxyEventV2`, the handler's result becomes
 * the response. A body larger than the handler's limit (plus some slack, so the
 * handler itself answers a body just over it, after authentication) is refused
 * with 413 as soon as that is known: from `content-length` before reading
 * anything, or once the streamed bytes pass the cap, without buffering the rest.
 */

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import { describeCause } from "../../core/errors.ts";

/** Default body limit when neither the options nor the handler name one (1 MiB). */
const DEFAULT_MAX_BODY_BYTES = 1_048_576;
/** Default bytes read past the limit before the server itself answers 413. */
export const DEFAULT_BODY_SLACK_BYTES = 65_536;

/** A handler the server can run: an HTTP API v2 handler, optionally announcing its body limit. */
export type HttpEventHandler = ((event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>) & {
  readonly maxBodyBytes?: number;
};

/** Options of {@link serveHttp}. */
export interface ServeHttpOptions {
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** The body limit (default: the handler's `maxBodyBytes`, else 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Bytes accepted past `maxBodyBytes` and left for the handler to refuse (default 64 KiB). */
  readonly slackBytes?: number;
  /** Receives one line per handler failure; default `console.error`. */
  readonly log?: (line: string) => void;
}

/** A running local server. */
export interface LocalHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Thrown inside {@link readBody} when the body passes the cap; carries what was seen. */
class BodyTooLarge {
  readonly seen: number;
  readonly declared: boolean;
  constructor(seen: number, declared: boolean) {
    this.seen = seen;
    this.declared = declared;
  }
}

function readBody(req: IncomingMessage, cap: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > cap) return Promise.reject(new BodyTooLarge(declared, true));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > cap) {
        req.off("data", onData);
        req.pause();
        chunks.length = 0;
        reject(new BodyTooLarge(size, false));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function gatewayTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}

/** Converts a node:http request and its body to an API Gateway v2 event, as API Gateway would. */
export function toGatewayEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQueryString = q === -1 ? "" : url.slice(q + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") cookies = String(value).split(/;\s*/);
    else headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  let queryStringParameters: Record<string, string> | undefined;
  for (const [k, v] of new URLSearchParams(rawQueryString)) {
    queryStringParameters ??= {};
    queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
  }
  let text: string | undefined;
  if (body.length > 0) {
    try {
      text = utf8.decode(body);
    } catch {
      text = undefined;
    }
  }
  const now = new Date();
  const method = (req.method ?? "GET").toUpperCase();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0] as string,
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: gatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length === 0
      ? { isBase64Encoded: false }
      : text === undefined
        ? { body: body.toString("base64"), isBase64Encoded: true }
        : { body: text, isBase64Encoded: false }),
  };
}

/** Writes a handler result as API Gateway v2 does: a bare value or string is a 200 JSON body. */
export function writeGatewayResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (result === null || typeof result !== "object" || !("statusCode" in result || "body" in result)) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(typeof result === "string" ? result : JSON.stringify(result));
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  const body = result.body ?? "";
  res.end(result.isBase64Encoded ? Buffer.from(body, "base64") : body);
}

function writeJson(res: ServerResponse, status: number, body: unknown, extra?: Record<string, string>): void {
  res.writeHead(status, { "content-type": "application/json", ...extra });
  res.end(JSON.stringify(body));
}

/** Serves `handler` over HTTP until `close()`. */
export async function serveHttp(handler: HttpEventHandler, options: ServeHttpOptions = {}): Promise<LocalHttpServer> {
  const limit = options.maxBodyBytes ?? handler.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const cap = limit + (options.slackBytes ?? DEFAULT_BODY_SLACK_BYTES);
  const log = options.log ?? ((line: string) => console.error(line));
  const server = createServer(async (req, res) => {
    let body: Buffer;
    try {
      body = await readBody(req, cap);
    } catch (e) {
      if (!(e instanceof BodyTooLarge)) {
        if (!res.headersSent)
          writeJson(res, 400, { error: "bad-request", message: `reading the body failed: ${describeCause(e)}` });
        return;
      }
      const size = e.declared ? `${e.seen} bytes (content-length)` : `at least ${e.seen} bytes (stopped reading there)`;
      // Answer now and close the connection: the rest of the body is never read.
      res.once("finish", () => req.socket.destroySoon());
      writeJson(
        res,
        413,
        {
          error: "body-too-large",
          message: `request body is ${size}, over the limit of ${limit} bytes; send the records in smaller requests`,
          limit,
        },
        { connection: "close" },
      );
      return;
    }
    try {
      writeGatewayResult(res, await handler(toGatewayEvent(req, body)));
    } catch (e) {
      log(
        `riffle http (local): handler failed on ${req.method} ${req.url}: ${e instanceof Error ? e.stack : describeCause(e)}`,
      );
      if (!res.headersSent)
        writeJson(res, 500, { error: "internal", message: "the handler failed; the server log has the details" });
      else res.destroy();
    }
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
