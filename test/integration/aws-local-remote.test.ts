/**
 * Exactly-once through a Python remote function on aws-local: the task Lambdas
 * invoke the function with the real `@aws-sdk/client-lambda` code path, against
 * aws-local's Lambda Invoke endpoint, which forwards to the Python server. The
 * function crashes on every 7th call, and the task Lambda's container dies at each
 * crash (the error is fatal to it): its batch is redelivered by SQS to a new
 * container. The committed output must equal the oracle.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteFunctionError } from "../../core/errors.ts";
import { api, awsLocalJobs, describeJob, readOutput, until } from "../support/aws-local-harness.ts";
import { type PythonFunction, startPythonFunction } from "../support/python-function.ts";
import { type Count, counterJob, crashesIn, expectOracle } from "../support/remote-counter.ts";

const N = 600;
const ARN = "arn:aws:lambda:us-east-1:000000000000:function:riffle-count";
const jobs = awsLocalJobs();

let fn: PythonFunction;
beforeAll(async () => {
  fn = await startPythonFunction("test/fixtures/remote_counter.py", { RIFFLE_CRASH_EVERY: "7" });
});
afterAll(() => fn?.stop());

/** True when `e` or one of its causes is a remote function's failure. */
function remoteFailure(e: unknown): boolean {
  for (let c = e; c; c = (c as { cause?: unknown }).cause) if (c instanceof RemoteFunctionError) return true;
  return false;
}

describe("remote functions on aws-local", () => {
  it("a Python keyed counter behind Lambda Invoke, crashing on every 7th call with the task container: output equals the oracle", async () => {
    const before = crashesIn(fn.stderr());
    let died = 0;
    const l = await jobs.start({
      job: counterJob("remote-count", N, ARN),
      parallelism: 2,
      remoteFunctions: { "riffle-count": fn.url },
      fatal: (e) => {
        const fatal = remoteFailure(e);
        if (fatal) died++;
        return fatal;
      },
    });
    await until(
      "the job finished and its output published",
      async () => {
        const s = (await (await api(l.url as string, "/jobs/remote-count")).json()) as { finished: boolean };
        return s.finished && (await readOutput<Count>(l.ports.output, "remote-count", "counts")).length >= N;
      },
      120_000,
      () => describeJob(l),
    );
    expect(crashesIn(fn.stderr()) - before).toBeGreaterThanOrEqual(2);
    expect(died).toBeGreaterThanOrEqual(2);
    expectOracle(await readOutput<Count>(l.ports.output, "remote-count", "counts"), N);
  }, 180_000);
});
