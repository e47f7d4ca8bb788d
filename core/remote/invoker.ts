/**
 * The port through which riffle reaches a remote function, and how a job's target
 * string becomes one. `http://` and `https://` targets are called here, over
 * kept-alive connections (core/remote/http-client.ts); any other target (a Lambda function name or ARN) goes to
 * the invoker the runtime installed with {@link setLambdaInvokers} (the AWS task
 * handler, aws-local and the CLI install the `@aws-sdk/client-lambda` one), so core
 * needs no AWS code. HTTP goes through undici's `Pool` (kept-alive HTTP/1.1
 * connections per origin, as many as calls in flight).
 */

import { Pool } from "undici";
import { RemoteFunctionError } from "../errors.ts";

/** Sends one request body (JSON) to a remote function and returns its response body. */
export interface RemoteInvoker {
  /** What the invoker calls, for messages. */
  readonly target: string;
  /**
   * One call. Rejects with a {@link RemoteFunctionError} when the function failed
   * (crashed, answered an error status); `signal` aborts a call that timed out.
   */
  invoke(body: string, signal: AbortSignal): Promise<string>;
}

/** Makes the invoker of a Lambda function (name or ARN). */
export type LambdaInvokerFactory = (functionName: string) => RemoteInvoker;

let lambdaInvokers: LambdaInvokerFactory | undefined;

/** Installs how this process invokes Lambda functions (the runtime does; a test may). */
export function setLambdaInvokers(factory: LambdaInvokerFactory | undefined): void {
  lambdaInvokers = factory;
}

/** True when `target` names a Lambda function (not a URL). */
export function isLambdaTarget(target: string): boolean {
  return !/^https?:\/\//.test(target);
}

/** The invoker of `target`: an HTTP endpoint, or a Lambda function through the installed factory. */
export function invokerFor(target: string): RemoteInvoker {
  if (!isLambdaTarget(target)) return new HttpInvoker(target);
  if (!lambdaInvokers) {
    throw new RemoteFunctionError(target, "this runtime cannot invoke Lambda functions (no invoker installed)", {
      retryable: false,
    });
  }
  return lambdaInvokers(target);
}

/** Kept-alive connections per origin, shared by every HTTP target of the process. */
const POOLS = new Map<string, Pool>();

/** Errors of a connection that broke before its answer came (a kept-alive one the server had closed). */
const STALE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

/** Calls a function over HTTP: `POST` of the request, a 2xx answer with the response. */
export class HttpInvoker implements RemoteInvoker {
  readonly target: string;
  private readonly pool: Pool;
  private readonly path: string;
  constructor(url: string) {
    this.target = url;
    const u = new URL(url);
    this.path = `${u.pathname || "/"}${u.search}`;
    let pool = POOLS.get(u.origin);
    if (!pool) {
      pool = new Pool(u.origin, { keepAliveTimeout: 30_000 });
      POOLS.set(u.origin, pool);
    }
    this.pool = pool;
  }

  async invoke(body: string, signal: AbortSignal): Promise<string> {
    let answer: { status: number; text: string };
    try {
      answer = await this.post(body, signal);
    } catch (error) {
      // A kept-alive connection the server closed as the request came: once more, on a new one.
      const code = (error as { code?: unknown } | null)?.code;
      if (signal.aborted || typeof code !== "string" || !STALE.has(code)) throw this.failed(error);
      answer = await this.post(body, signal).catch((again: unknown) => Promise.reject(this.failed(again)));
    }
    const { status, text } = answer;
    if (status >= 200 && status < 300) return text;
    throw new RemoteFunctionError(this.target, `answered ${status}: ${text.slice(0, 200)}`);
  }

  private async post(body: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
    const r = await this.pool.request({
      method: "POST",
      path: this.path,
      headers: { "content-type": "application/json" },
      body,
      signal,
    });
    return { status: r.statusCode, text: await r.body.text() };
  }

  private failed(cause: unknown): RemoteFunctionError {
    return new RemoteFunctionError(this.target, "the request failed", { cause });
  }
}
