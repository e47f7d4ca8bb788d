/**
 * The async I/O operator's batch mode with calls started ahead of their slice
 * (`AsyncWaitOperator.lookAhead`): the slice that consumes the envelopes takes those
 * answers without calling again; it calls once for the rest; a call ahead that failed
 * outright is made again; answers of envelopes it does not consume are dropped.
 */
import { describe, expect, it } from "vitest";
import type { Limiter } from "../../../core/concurrency.ts";
import { type AsyncBatch, AsyncWaitOperator, type BatchEnvelope } from "../../../core/operators/async-wait.ts";
import type { Operator } from "../../../core/operators/operator.ts";

/** An envelope of `records` on channel up#0 at `seq`. */
const env = (seq: number, records: number[]): BatchEnvelope => ({ from: "up#0", seq, records });

/** The operator over a batch function that doubles, logging each call's records (it fails while `failing`). */
function setup() {
  const calls: number[][] = [];
  const state = { failing: false };
  // One call a batch, through the operator's limiter (as a remote function's requests go).
  const batch: AsyncBatch = async (envelopes, _site, limiter) => {
    const answer = async () => {
      calls.push(envelopes.flatMap((e) => e.records as number[]));
      if (state.failing) throw new Error("the function is down");
      return envelopes.map((e) => ({ values: (e.records as number[]).map((v) => v * 2), many: false }));
    };
    return limiter ? limiter.run(answer) : answer();
  };
  const out: unknown[] = [];
  const sink: Operator = {
    processRecord: (v) => out.push(v),
    processWatermark: () => {},
    processTime: () => {},
    endInput: () => {},
  };
  const fn = () => Promise.reject(new Error("batch mode"));
  const op = new AsyncWaitOperator("double", sink, { fn, ordered: true, timeoutMs: 1000, capacity: 4, batch });
  /** Prefetches and processes `envelopes` as one slice. */
  const slice = async (envelopes: BatchEnvelope[]) => {
    await op.prefetch(envelopes);
    for (const e of envelopes) {
      op.startRecords(e.records);
      for (const r of e.records) op.processRecord(r, undefined);
    }
  };
  return { op, calls, out, state, slice };
}

describe("async I/O batch mode: calls ahead of the slice", () => {
  it("answers a slice from the calls made ahead, calling once for the envelopes not looked ahead", async () => {
    const { op, calls, out, slice } = setup();
    const [a, b, c] = [env(1, [1, 2]), env(2, [3]), env(3, [4, 5])];

    expect(op.lookAhead([a, b])).toBe(true);
    expect(op.lookAhead([a, b])).toBe(false); // already under way: no second call
    await slice([a, b, c]);

    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(out).toEqual([2, 4, 6, 8, 10]);
  });

  it("keeps the answers of envelopes a slice did not consume for the slice that does", async () => {
    const { op, calls, out, slice } = setup();
    const [a, b] = [env(1, [1]), env(2, [2])];

    op.lookAhead([a, b]);
    await slice([a]); // the slice took only a: b's answer waits for the next
    await slice([b]);

    expect(calls).toEqual([[1, 2]]);
    expect(out).toEqual([2, 4]);
  });

  it("drops the answers of envelopes a slice passed by, and calls again if they come after all", async () => {
    const { op, calls, out, slice } = setup();
    const [a, b, c] = [env(1, [1]), env(2, [2]), env(3, [3])];

    op.lookAhead([a, b, c]);
    await slice([b]); // b came first (a queue rebuilt after a failover): a is behind it, stale
    await slice([a]);
    await slice([c]);

    expect(calls).toEqual([[1, 2, 3], [1]]);
    expect(out).toEqual([4, 2, 6]);
  });

  it("calls ahead again whenever a call ends with its place free, for what is next in line then", async () => {
    const { op, calls, out, slice } = setup();
    const queue = [env(1, [1]), env(2, [2])]; // what is next in line: a slice takes its envelopes out
    expect(op.aheadFrom(() => queue)).toBe(true);
    queue.push(env(3, [3])); // the source read more while the first call was out
    await slice(queue.splice(0, 2));
    await new Promise((resolve) => setImmediate(resolve));

    expect(calls).toEqual([[1, 2], [3]]); // 3 called ahead once the call for 1 and 2 ended
    await slice(queue.splice(0, 1));
    expect(calls).toHaveLength(2);
    expect(out).toEqual([2, 4, 6]);
  });

  it("calls ahead as a place frees only for at least a request's worth of records", async () => {
    const calls: number[][] = [];
    const batch = Object.assign(
      async (envelopes: readonly BatchEnvelope[], _site: string, limiter?: Limiter) =>
        (limiter as Limiter).run(async () => {
          calls.push(envelopes.flatMap((e) => e.records as number[]));
          return envelopes.map((e) => ({ values: e.records, many: false }));
        }),
      { batchRecords: 3 },
    );
    const sink: Operator = { processRecord() {}, processWatermark() {}, processTime() {}, endInput() {} };
    const fn = () => Promise.reject(new Error("batch mode"));
    const op = new AsyncWaitOperator("same", sink, { fn, ordered: true, timeoutMs: 1000, capacity: 4, batch });
    const queue = [env(1, [1])];
    op.aheadFrom(() => queue); // when a slice has its answers: whatever is next
    queue.push(env(2, [2, 3])); // 2 records come while the call is out: fewer than 3
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([[1]]);
    queue.push(env(3, [4]), env(4, [5, 6])); // now 5 wait; the next call to end starts theirs
    op.lookAhead([env(9, [9])]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([[1], [9], [2, 3, 4, 5, 6]]); // 1 is under way already
  });

  it("calls again for envelopes whose call ahead failed outright", async () => {
    const { op, calls, out, state, slice } = setup();
    const a = env(1, [7]);

    state.failing = true;
    op.lookAhead([a]);
    await Promise.resolve(); // the failed call settles before the function is back
    state.failing = false;
    await slice([a]);

    expect(calls).toEqual([[7], [7]]);
    expect(out).toEqual([14]);
  });

  it("keeps answers ahead for at most 64 envelopes, dropping the oldest", async () => {
    const { op, calls, slice } = setup();
    const envs = Array.from({ length: 70 }, (_, i) => env(i + 1, [i + 1]));
    for (const e of envs) op.lookAhead([e]);
    await new Promise((resolve) => setImmediate(resolve)); // the calls, 4 at a time, are done
    expect(calls).toHaveLength(70);
    await slice([envs[5] as BatchEnvelope]); // among the 6 oldest, whose answers went: called again
    await slice([envs[6] as BatchEnvelope]); // answered ahead: no call
    expect(calls.slice(70)).toEqual([[6]]);
  });

  it("looks ahead only in batch mode", () => {
    const next: Operator = { processRecord() {}, processWatermark() {}, processTime() {}, endInput() {} };
    const op = new AsyncWaitOperator("per-record", next, {
      fn: async (v) => v,
      ordered: true,
      timeoutMs: 1000,
      capacity: 4,
    });
    expect(op.lookAhead([env(1, [1])])).toBe(false);
  });
});
