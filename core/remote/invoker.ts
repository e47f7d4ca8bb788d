/**
 * The port through which riffle reaches a remote function, and how a job's target
 * string becomes one. `http://` and `https://` targets are called here, over
 * kept-alive connections; any other target (a Lambda function name or ARN) goes to
 * the invoker the runtime installed with {@link setLambdaInvokers} (the AWS task
 * handler, aws-local and the CLI install the `@aws-sdk/client-lambda` one), so core
 * needs no AWS code.
 */

import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
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

/**
 * Keep-alive agents shared by every HTTP target of the process, with Nagle off: a
 * batch is one small write each way, and a new connection per call (or a write held
 * for a delayed ACK) would cost more than the function.
 */
const AGENTS = {
  "http:": new HttpAgent({ keepAlive: true, noDelay: true }),
  "https:": new HttpsAgent({ keepAlive: true, noDelay: true }),
} as const;

/** Calls a function over HTTP: `POST` of the request, a 2xx answer with the response. */
export class HttpInvoker implements RemoteInvoker {
  readonly target: string;
  private readonly url: URL;
  constructor(url: string) {
    this.target = url;
    this.url = new URL(url);
  }

  invoke(body: string, signal: AbortSignal): Promise<string> {
    const secure = this.url.protocol === "https:";
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    return new Promise<string>((resolve, reject) => {
      const failed = (cause: unknown) => reject(new RemoteFunctionError(this.target, "the request failed", { cause }));
      const options = { method: "POST", headers, signal, agent: AGENTS[secure ? "https:" : "http:"] };
      const req = (secure ? httpsRequest : httpRequest)(this.url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", failed);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else reject(new RemoteFunctionError(this.target, `answered ${status}: ${text.slice(0, 200)}`));
        });
      });
      req.on("error", failed);
      req.end(body);
    });
  }
}
