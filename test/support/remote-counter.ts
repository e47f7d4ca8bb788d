/**
 * The keyed-counter job of the remote-function exactly-once tests and its oracle:
 * `count` records (i = 0..count-1) keyed by {@link keyOf}, counted by the Python
 * function `count` of `test/fixtures/remote_counter.py` through riffle's state.
 */

import { expect } from "vitest";
import { defineJob, type Job } from "../../core/api/environment.ts";
import { remoteProcess } from "../../core/remote/remote-process.ts";
import type { RemoteFunctionSpec } from "../../core/remote/spec.ts";

const KEYS = 17;
/** The key of record `i`. */
export const keyOf = (i: number) => `k${(i * 7919) % KEYS}`;

/** One output: the key, its count after the record, the record. */
export interface Count {
  readonly key: string;
  readonly n: number;
  readonly v: number;
}

/** The job: a generator, keyBy, the remote counter (no retries inside a call: a crash fails the batch). */
export function counterJob(name: string, count: number, target: string, extra: Partial<RemoteFunctionSpec> = {}): Job {
  return defineJob(name, (env) => {
    env.enableCheckpointing(100);
    env.configure({ maxRecordAttempts: 50, sourceBatchSize: 100, maxRecordsPerEnvelope: 40 });
    env
      .fromGenerator((i) => i, { count })
      .keyBy(keyOf)
      .process(remoteProcess<number, Count>({ name: "count", target, retries: 0, batchSize: 1000, ...extra }))
      .uid("counter")
      .sinkTo("counts");
  });
}

/** Per key, the counts 1..(records of the key), each once, and every record once. */
export function expectOracle(out: readonly Count[], count: number): void {
  const want = new Map<string, number>();
  for (let i = 0; i < count; i++) want.set(keyOf(i), (want.get(keyOf(i)) ?? 0) + 1);
  const got = new Map<string, number[]>();
  for (const c of out) got.set(c.key, [...(got.get(c.key) ?? []), c.n]);
  expect(out.length).toBe(count);
  for (const [k, n] of want) {
    expect((got.get(k) ?? []).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  }
  expect(new Set(out.map((c) => c.v)).size).toBe(count);
}

/** Crashes the fixture logged so far. */
export function crashesIn(stderr: string): number {
  return (stderr.match(/crash on call/g) ?? []).length;
}
