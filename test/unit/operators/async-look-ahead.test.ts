/**
 * The async I/O operator's batch mode with calls started ahead of their slice
 * (`AsyncWaitOperator.lookAhead`): the slice that consumes the envelopes takes those
 * answers without calling again; it calls once for the rest; a call ahead that failed
 * outright is made again; answers of envelopes it does not consume are dropped.
 */
import { describe, expect, it } from "vitest";
import { type AsyncBatch, AsyncWaitOperator, type BatchEnvelope } from "../../../core/operators/async-wait.ts";
import type { Operator } from "../../../core/operators/operator.ts";

/** An envelope of `records` on channel up#0 at `seq`. */
const env = (seq: number, records: number[]): BatchEnvelope => ({ from: "up#0", seq, records });

/** The operator over a batch function that doubles, logging each call's records (it fails while `failing`). */
function setup() {
  const calls: number[][] = [];
  const state = { failing: false };
  const batch: AsyncBatch = async (envelopes) => {
    calls.push(envelopes.flatMap((e) => e.records as number[]));
    if (state.failing) throw new Error("the function is down");
    return envelopes.map((e) => ({ values: (e.records as number[]).map((v) => v * 2), many: false }));
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

  it("drops answers of envelopes the next slice does not consume, and calls again for them later", async () => {
    const { op, calls, out, slice } = setup();
    const [a, b] = [env(1, [1]), env(2, [2])];

    op.lookAhead([a, b]);
    await slice([a]); // the slice took only a: b's answer is dropped
    await slice([b]);

    expect(calls).toEqual([[1, 2], [2]]);
    expect(out).toEqual([2, 4]);
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
