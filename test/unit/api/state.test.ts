import { describe, expect, it } from "vitest";
import type { DataStream } from "../../../core/api/datastream.ts";
import { aggregatingState, listState, mapState, reducingState, valueState } from "../../../core/api/state.ts";
import { StateTtlConfig } from "../../../core/api/state-ttl.ts";
import { JobDefinitionError } from "../../../core/errors.ts";
import { OperatorHarness } from "../../../core/testing/harness.ts";

type E = { k: string; v: number };

describe("reducing and aggregating state", () => {
  it("fold what is added per key and survive a restart", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .process({
          state: {
            max: reducingState<number>((a, b) => Math.max(a, b)),
            avg: aggregatingState({
              createAccumulator: () => ({ sum: 0, n: 0 }),
              add: (v: number, acc: { sum: number; n: number }) => ({ sum: acc.sum + v, n: acc.n + 1 }),
              getResult: (acc) => acc.sum / acc.n,
            }),
          },
          processElement(e, ctx) {
            if (e.v < 0) {
              ctx.state.max.clear();
              ctx.state.avg.clear();
              ctx.emit({ k: ctx.key, max: ctx.state.max.get(), avg: ctx.state.avg.get() });
              return;
            }
            ctx.state.max.add(e.v);
            ctx.state.avg.add(e.v);
            ctx.emit({ k: ctx.key, max: ctx.state.max.get(), avg: ctx.state.avg.get() });
          },
        }),
    );
    await h.processElements([
      { k: "a", v: 4 },
      { k: "a", v: 2 },
      { k: "b", v: 1 },
    ]);
    await h.restart();
    await h.processElements([
      { k: "a", v: 9 },
      { k: "b", v: -1 },
      { k: "b", v: 5 },
    ]);
    expect(h.output()).toEqual([
      { k: "a", max: 4, avg: 4 },
      { k: "a", max: 4, avg: 3 },
      { k: "b", max: 1, avg: 1 },
      { k: "a", max: 9, avg: 5 },
      { k: "b", max: undefined, avg: undefined },
      { k: "b", max: 5, avg: 5 },
    ]);
  });
});

describe("state TTL", () => {
  const ttl = StateTtlConfig.newBuilder(1000).build();

  it("hides a value once its TTL passed since the last write, and a write restarts it", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .process({
          state: { last: valueState<number>({ ttl }) },
          processElement(e, ctx) {
            ctx.emit(ctx.state.last.value() ?? null);
            if (e.v > 0) ctx.state.last.update(e.v);
          },
        }),
    );
    await h.processElements([{ k: "a", v: 1 }]);
    await h.advanceProcessingTime(600);
    await h.processElements([{ k: "a", v: 2 }]); // reads 1, writes 2 at t=600
    await h.advanceProcessingTime(600);
    await h.processElements([{ k: "a", v: 0 }]); // t=1200: 2 is 600 ms old
    await h.restart();
    await h.advanceProcessingTime(400);
    await h.processElements([{ k: "a", v: 0 }]); // t=1600: expired
    expect(h.output()).toEqual([null, 1, 2, null]);
  });

  it("OnReadAndWrite: reads keep a value alive", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .process({
          state: {
            last: valueState<number>({
              ttl: StateTtlConfig.newBuilder(1000).setUpdateType("OnReadAndWrite").build(),
            }),
          },
          processElement(e, ctx) {
            ctx.emit(ctx.state.last.value() ?? null);
            if (e.v > 0) ctx.state.last.update(e.v);
          },
        }),
    );
    await h.processElements([{ k: "a", v: 7 }]);
    for (let i = 0; i < 3; i++) {
      await h.advanceProcessingTime(900);
      await h.processElements([{ k: "a", v: 0 }]);
    }
    expect(h.output()).toEqual([null, 7, 7, 7]);
  });

  it("expires map entries and list elements one by one", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .process({
          state: { seen: listState<number>({ ttl }), byV: mapState<number>({ ttl }) },
          processElement(e, ctx) {
            ctx.state.seen.add(e.v);
            ctx.state.byV.put(String(e.v), e.v);
            ctx.emit({ list: ctx.state.seen.get(), map: Object.fromEntries(ctx.state.byV.entries()) });
          },
        }),
    );
    await h.processElements([{ k: "a", v: 1 }]);
    await h.advanceProcessingTime(500);
    await h.processElements([{ k: "a", v: 2 }]);
    await h.advanceProcessingTime(700);
    await h.processElements([{ k: "a", v: 3 }]);
    expect(h.output()).toEqual([
      { list: [1], map: { 1: 1 } },
      { list: [1, 2], map: { 1: 1, 2: 2 } },
      { list: [2, 3], map: { 2: 2, 3: 3 } },
    ]);
  });

  it("a cleanup timer removes expired state of a key that is never read again", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .process({
          state: { last: valueState<number>({ ttl }) },
          processElement(e, ctx) {
            ctx.state.last.update(e.v);
          },
        })
        .uid("ttl"),
    );
    await h.processElements([{ k: "a", v: 1 }]);
    const stored = async () => (await h.store.scanState("ttl", "ttl/last", 0, 127)).length;
    expect(await stored()).toBe(1);
    await h.advanceProcessingTime(999);
    expect(await stored()).toBe(1);
    await h.restart(); // the cleanup timer is state: it survives a crash
    await h.advanceProcessingTime(1001);
    expect(await stored()).toBe(0);
  });

  it("refuses a TTL that is not positive", () => {
    expect(() => StateTtlConfig.newBuilder(0)).toThrow(JobDefinitionError);
  });
});
