/**
 * Remote functions named by a Lambda function name or ARN, from the CLI's embedded
 * runtime: invoked with `@aws-sdk/client-lambda` and the usual credentials and region
 * (or `AWS_ENDPOINT_URL_LAMBDA`). The client is loaded on the first call, so a job
 * without such a function starts as fast as before.
 */

import type { LambdaClient } from "@aws-sdk/client-lambda";
import { setLambdaInvokers } from "../core/remote/invoker.ts";

/** Installs the lazy Lambda invoker for this process. */
export function installLambdaInvokers(): void {
  let client: Promise<{ client: LambdaClient; mod: typeof import("../functions/aws/lambda-invoker.ts") }> | undefined;
  const load = () => {
    client ??= import("../functions/aws/lambda-invoker.ts").then((mod) => ({ client: mod.lambdaClient(), mod }));
    return client;
  };
  setLambdaInvokers((name) => ({
    target: name,
    invoke: async (body, signal) => {
      const { client: c, mod } = await load();
      return new mod.LambdaInvoker(c, name).invoke(body, signal);
    },
  }));
}
