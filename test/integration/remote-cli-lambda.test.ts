/**
 * `riffle run` of a job whose remote functions are named by a Lambda ARN: the CLI's
 * embedded runtime invokes them with `@aws-sdk/client-lambda` (here against a local
 * Invoke endpoint through `AWS_ENDPOINT_URL_LAMBDA`, which forwards to the README's
 * Python functions), and prints what the README's example prints.
 */

import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LambdaEndpoint, startLambdaEndpoint } from "../../functions/local/lambda-endpoint.ts";
import { type PythonFunction, startPythonModule } from "../support/python-function.ts";

const ROOT = join(import.meta.dirname, "..", "..");
let fn: PythonFunction;
let endpoint: LambdaEndpoint;
beforeAll(async () => {
  fn = await startPythonModule("examples/remote", "functions");
  endpoint = await startLambdaEndpoint({ words: fn.url });
});
afterAll(async () => {
  await endpoint?.stop();
  await fn?.stop();
});

describe("riffle run with a Lambda-named remote function", () => {
  it("invokes the function through the Lambda client and prints the counts", async () => {
    // Not spawnSync: the endpoint runs in this process and must answer while the CLI runs.
    const child = spawn(join(ROOT, "riffle"), ["run", "examples/remote-count.ts", "--no-progress"], {
      cwd: ROOT,
      env: {
        ...process.env,
        RIFFLE_FUNCTION_URL: "arn:aws:lambda:us-east-1:000000000000:function:words",
        AWS_ENDPOINT_URL_LAMBDA: endpoint.url,
        AWS_ACCESS_KEY_ID: "riffle",
        AWS_SECRET_ACCESS_KEY: "riffle",
        AWS_REGION: "us-east-1",
      },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code, err).toBe(0);
    expect(out.split("\n").filter(Boolean).sort()).toEqual([
      '{"sink":"counts","value":{"word":"ADA","n":1}}',
      '{"sink":"counts","value":{"word":"ADA","n":2}}',
      '{"sink":"counts","value":{"word":"ADA","n":3}}',
      '{"sink":"counts","value":{"word":"BOB","n":1}}',
      '{"sink":"counts","value":{"word":"CY","n":1}}',
    ]);
    expect(endpoint.invocations.get("words")).toBeGreaterThanOrEqual(2); // shout and count
  }, 60_000);
});
