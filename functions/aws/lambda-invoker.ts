/**
 * Remote functions on AWS Lambda: the {@link RemoteInvoker} that calls a function
 * with `Invoke` (RequestResponse) of `@aws-sdk/client-lambda`. The same code runs
 * against aws-local's Invoke endpoint (`functions/local/lambda-endpoint.ts`) through
 * the client's endpoint, and against AWS through the default one (or
 * `AWS_ENDPOINT_URL_LAMBDA`).
 */

import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import { RemoteFunctionError } from "../../core/errors.ts";
import type { LambdaInvokerFactory, RemoteInvoker } from "../../core/remote/invoker.ts";

/** A Lambda client: on `endpoint` (a local one, with dummy credentials), else AWS's. */
export function lambdaClient(endpoint?: string): LambdaClient {
  const region = process.env.AWS_REGION ?? "us-east-1";
  if (endpoint === undefined) return new LambdaClient({ region });
  return new LambdaClient({ region, endpoint, credentials: { accessKeyId: "riffle", secretAccessKey: "riffle" } });
}

/** Invokes one Lambda function synchronously with a request body. */
export class LambdaInvoker implements RemoteInvoker {
  readonly target: string;
  private readonly client: LambdaClient;
  constructor(client: LambdaClient, functionName: string) {
    this.client = client;
    this.target = functionName;
  }

  async invoke(body: string, signal: AbortSignal): Promise<string> {
    let out: InvokeCommandOutput;
    try {
      out = await this.client.send(
        new InvokeCommand({ FunctionName: this.target, InvocationType: "RequestResponse", Payload: Buffer.from(body) }),
        { abortSignal: signal },
      );
    } catch (cause) {
      throw new RemoteFunctionError(this.target, "Invoke failed", { cause });
    }
    const payload = out.Payload ? Buffer.from(out.Payload).toString("utf8") : "";
    if (out.FunctionError) {
      throw new RemoteFunctionError(this.target, `function error (${out.FunctionError}): ${payload.slice(0, 300)}`);
    }
    return payload;
  }
}

/** The factory `setLambdaInvokers` takes: one client for every function. */
export function lambdaInvokers(client: LambdaClient): LambdaInvokerFactory {
  return (name) => new LambdaInvoker(client, name);
}
