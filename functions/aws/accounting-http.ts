/**
 * The HTTP side of {@link RequestAccounting}: which service and operation an SDK
 * middleware context belongs to, and the body sizes of a request and its response.
 */

import { Readable } from "node:stream";

/** The service of a send: `SQS`, `DynamoDB`, ... */
export function serviceOf(context: Record<string, unknown>): string {
  const name = context.clientName;
  if (typeof name === "string" && name.length > 0) return name.replace(/Client$/, "");
  const smithy = context.__smithy_context as { service?: string } | undefined;
  return smithy?.service ?? "unknown";
}

/** The operation of a send: `SendMessageBatch`, `PutItem`, ... */
export function operationOf(context: Record<string, unknown>): string {
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

/** The request body's size in bytes. */
export function bodySize(request: unknown): number {
  const body = (request as { body?: unknown } | undefined)?.body;
  if (typeof body === "string") return Buffer.byteLength(body, "utf8");
  if (body instanceof Uint8Array) return body.byteLength;
  return header(request, "content-length") ?? 0;
}

/**
 * The response body's size: its Content-Length, else counted as the deserializer
 * reads it (the body stream is wrapped; `onData` receives each chunk's size).
 */
export function responseSize(response: unknown, onData: (bytes: number) => void): number {
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
