/**
 * Exactly-once through a Python remote function, embedded: a keyed counter whose
 * count lives in riffle's state, served by a Python process that crashes on every
 * 5th call. Each crash fails the task's batch (no retry inside the call), so the
 * batch is run again from riffle's committed state; the committed output must be
 * exactly the oracle's: per key the counts 1..n, each once.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { RemoteDataStream } from "../../core/remote/remote-stream.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { type PythonFunction, startPythonFunction } from "../support/python-function.ts";
import { type Count, counterJob, crashesIn, expectOracle } from "../support/remote-counter.ts";

const N = 3000;

let fn: PythonFunction;
beforeAll(async () => {
  fn = await startPythonFunction("test/fixtures/remote_counter.py", { RIFFLE_CRASH_EVERY: "5" });
});
afterAll(() => fn?.stop());

describe("remote functions, embedded", () => {
  it("a Python keyed counter crashing on every 5th call: the output equals the oracle", async () => {
    const before = crashesIn(fn.stderr());
    const out = await runToCompletion(counterJob("remote-count", N, fn.url), { parallelism: 3, retryDelayMs: 1 });
    expect(crashesIn(fn.stderr()) - before).toBeGreaterThanOrEqual(3);
    expectOracle((out.get("counts") ?? []) as Count[], N);
  }, 120_000);

  it("a stateless Python map, retried inside the call, answers every record once", async () => {
    const job = defineJob("remote-upper", (env) => {
      env.enableCheckpointing(50);
      const words = env.fromGenerator((i) => `w${i}`, { count: 500 });
      RemoteDataStream.map<string, string>(words, { name: "upper", target: fn.url, retries: 2, backoffMs: 1 })
        .uid("upper")
        .sinkTo("upper");
    });
    const out = await runToCompletion(job, { parallelism: 2 });
    expect(((out.get("upper") ?? []) as string[]).sort()).toEqual(
      Array.from({ length: 500 }, (_, i) => `W${i}`).sort(),
    );
  }, 60_000);
});
