/**
 * The port through which riffle reaches a remote function, and how a job's target
 * string becomes one. `http://` and `https://` targets are called here, over
 * kept-alive connections (core/remote/http-client.ts); any other target (a Lambda function name or ARN) goes to
 * the invoker the runtime installed with {@link setLambdaInvokers} (the AWS task
 * handler, aws-local and the CLI install the `@aws-sdk/client-lambda` one), so core
 * needs no AWS code.
 */

import { RemoteFunctionError } from "../errors.ts";
import { type HttpAnswer, type HttpLimit, HttpOrigin, HttpTimeoutError } from "./http-client.ts";

/** Sends one request body (JSON) to a remote function and returns its response body. */
export interface RemoteInvoker {
  /** What the invoker calls, for messages. */
  readonly target: string;
  /**
   * One call. Rejects with a {@link RemoteFunctionError} when the function failed
   * (crashed, answered an error status); `signal` aborts a call that timed out.
   */
  invoke(body: string, signal: AbortSignal): Promise<string>;
  /**
   * Optional: one call that gives up by itself after `timeoutMs`, rejecting with a
   * retryable {@link RemoteFunctionError}; otherwise as {@link invoke}. riffle uses it
   * when present (the HTTP invoker has it: a timer instead of an `AbortSignal`).
   */
  call?(body: string, timeoutMs: number): Promise<string>;
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

/** How an HTTP target is reached. */
export interface HttpOptions {
  /** Connections to the origin shared by the calls (more requests are pipelined); default 1. */
  readonly connections?: number;
}

/** The invoker of `target`: an HTTP endpoint, or a Lambda function through the installed factory. */
export function invokerFor(target: string, http: HttpOptions = {}): RemoteInvoker {
  if (!isLambdaTarget(target)) return new HttpInvoker(target, http);
  if (!lambdaInvokers) {
    throw new RemoteFunctionError(target, "this runtime cannot invoke Lambda functions (no invoker installed)", {
      retryable: false,
    });
  }
  return lambdaInvokers(target);
}

/** Kept-alive connections per origin (and number of them), shared by every HTTP target of the process. */
const ORIGINS = new Map<string, HttpOrigin>();

/** Calls a function over HTTP: `POST` of the request, a 2xx answer with the response. */
export class HttpInvoker implements RemoteInvoker {
  readonly target: string;
  private readonly origin: HttpOrigin;
  constructor(url: string, options: HttpOptions = {}) {
    this.target = url;
    const u = new URL(url);
    const connections = options.connections ?? 1;
    const key = `${u.protocol}//${u.host}${u.pathname}${u.search} ${connections}`;
    let origin = ORIGINS.get(key);
    if (!origin) {
      origin = new HttpOrigin(u, connections);
      ORIGINS.set(key, origin);
    }
    this.origin = origin;
  }

  invoke(body: string, signal: AbortSignal): Promise<string> {
    return this.post(body, signal);
  }

  call(body: string, timeoutMs: number): Promise<string> {
    return this.post(body, timeoutMs);
  }

  private async post(body: string, limit: HttpLimit): Promise<string> {
    let answer: HttpAnswer;
    try {
      answer = await this.origin.post(body, limit);
    } catch (cause) {
      if (cause instanceof HttpTimeoutError) throw new RemoteFunctionError(this.target, cause.message);
      throw new RemoteFunctionError(this.target, "the request failed", { cause });
    }
    const { status, body: text } = answer;
    if (status >= 200 && status < 300) return text;
    throw new RemoteFunctionError(this.target, `answered ${status}: ${text.slice(0, 200)}`);
  }
}
