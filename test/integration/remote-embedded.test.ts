/**
 * Exactly-once through a Python remote function, embedded: a keyed counter whose
 * count lives in riffle's state, served by a Python process that crashes on every
 * 7th call. Each crash fails the task's batch (no retry inside the call), so the
 * batch is run again from riffle's committed state; the committed output must be
 * exactly the oracle's: per key the counts 1..n, each once.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { remoteProcess } from "../../core/remote/remote-process.ts";
import { RemoteDataStream } from "../../core/remote/remote-stream.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { type PythonFunction, startPythonFunction } from "../support/python-function.ts";

const N = 3000;
const KEYS = 17;
const keyOf = (i: number) => `k${(i * 7919) % KEYS}`;

let fn: PythonFunction;
beforeAll(async () => {
  fn = await startPythonFunction("test/fixtures/remote_counter.py", { RIFFLE_CRASH_EVERY: "7" });
});
afterAll(() => fn?.stop());

interface Count {
  key: string;
  n: number;
  v: number;
}

/** Per key, the counts 1..(records of the key), each once. */
function expectOracle(out: readonly Count[]): void {
  const want = new Map<string, number>();
  for (let i = 0; i < N; i++) want.set(keyOf(i), (want.get(keyOf(i)) ?? 0) + 1);
  const got = new Map<string, number[]>();
  for (const c of out) got.set(c.key, [...(got.get(c.key) ?? []), c.n]);
  expect(out.length).toBe(N);
  for (const [k, n] of want) {
    expect((got.get(k) ?? []).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  }
  expect(new Set(out.map((c) => c.v)).size).toBe(N);
}

describe("remote functions, embedded", () => {
  it("a Python keyed counter crashing on every 7th call: the output equals the oracle", async () => {
    const job = defineJob("remote-count", (env) => {
      env.enableCheckpointing(50);
      env.configure({ maxRecordAttempts: 50, sourceBatchSize: 100, maxRecordsPerEnvelope: 40 });
      env
        .fromGenerator((i) => i, { count: N })
        .keyBy(keyOf)
        .process(remoteProcess<number, Count>({ name: "count", target: fn.url, retries: 0, batchSize: 1000 }))
        .uid("counter")
        .sinkTo("counts");
    });
    const crashes = () => (fn.stderr().match(/crash on call/g) ?? []).length;
    const before = crashes();
    const out = await runToCompletion(job, { parallelism: 3, retryDelayMs: 1 });
    expect(crashes() - before).toBeGreaterThanOrEqual(3);
    expectOracle((out.get("counts") ?? []) as Count[]);
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
    expect(((out.get("upper") ?? []) as string[]).sort()).toEqual(Array.from({ length: 500 }, (_, i) => `W${i}`).sort());
  }, 60_000);
});
