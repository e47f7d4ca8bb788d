/**
 * A tiny Lambda `Invoke` endpoint for aws-local, on 127.0.0.1: `POST
 * /2015-03-31/functions/{name}/invocations` forwards the payload to the function's
 * local HTTP server (a Python function under `riffle_sdk.serve`) and answers as
 * Lambda does: 200 with the function's response, or 200 with
 * `X-Amz-Function-Error: Unhandled` when the function failed (an error status), 404
 * for a function it does not know. So the task's real `@aws-sdk/client-lambda` code
 * path runs locally; only the endpoint differs from AWS.
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setLambdaInvokers } from "../../core/remote/invoker.ts";
import { lambdaClient, lambdaInvokers } from "../aws/lambda-invoker.ts";

/** A running endpoint. */
export interface LambdaEndpoint {
  /** Base URL, for the Lambda client's `endpoint`. */
  readonly url: string;
  /** Invocations per function name, so far. */
  readonly invocations: Map<string, number>;
  stop(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** The function name of a name, partial ARN or ARN (`…:function:name[:qualifier]`). */
export function functionNameOf(ref: string): string {
  const m = /(?:^|:)function:([^:]+)/.exec(ref);
  return m ? (m[1] as string) : ref;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(body);
}

/** Serves `functions` (name → URL of its local server) on a free loopback port. */
export async function startLambdaEndpoint(functions: Readonly<Record<string, string>>): Promise<LambdaEndpoint> {
  const invocations = new Map<string, number>();
  const server = createServer((req, res) => {
    const m = req.method === "POST" ? PATH.exec((req.url ?? "").split("?")[0] as string) : null;
    if (!m) return send(res, 404, JSON.stringify({ Type: "User", message: "not a Lambda Invoke request" }));
    const name = functionNameOf(decodeURIComponent(m[1] as string));
    const url = functions[name];
    if (!url) {
      const message = `Function not found: ${name}`;
      return send(res, 404, JSON.stringify({ Type: "User", message }), {
        "x-amzn-errortype": "ResourceNotFoundException",
      });
    }
    invocations.set(name, (invocations.get(name) ?? 0) + 1);
    void (async () => {
      try {
        const body = await readBody(req);
        const r = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
        const text = await r.text();
        if (r.ok) return send(res, 200, text, { "x-amz-executed-version": "$LATEST" });
        const error = JSON.stringify({ errorType: "Unhandled", errorMessage: `${r.status}: ${text.slice(0, 500)}` });
        send(res, 200, error, { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "$LATEST" });
      } catch (cause) {
        const error = JSON.stringify({ errorType: "Unhandled", errorMessage: String(cause) });
        send(res, 200, error, { "x-amz-function-error": "Unhandled" });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    invocations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves `functions` on a local Lambda Invoke endpoint and installs this process's Lambda invoker on it. */
export async function serveRemoteFunctions(
  functions: Readonly<Record<string, string>>,
  cleanups: (() => Promise<void>)[],
  log: (line: string) => void,
): Promise<void> {
  const endpoint = await startLambdaEndpoint(functions);
  const client = lambdaClient(endpoint.url);
  setLambdaInvokers(lambdaInvokers(client));
  cleanups.push(async () => {
    setLambdaInvokers(undefined);
    client.destroy();
    await endpoint.stop();
  });
  log(`Lambda Invoke endpoint for ${Object.keys(functions).join(", ")} at ${endpoint.url}`);
}
