import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import {
  EventTimeSessionWindows,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from "../../core/api/windows.ts";
import { OperatorHarness } from "../../core/testing/harness.ts";

type E = { k: string; v: number };
const e = (k: string, v: number): E => ({ k, v });

describe("window assigners", () => {
  it("tumbling and sliding windows follow Flink's [k·slide, k·slide + size)", () => {
    expect(TumblingEventTimeWindows.of(10).assign(12)).toEqual([{ start: 10, end: 20 }]);
    expect(TumblingEventTimeWindows.of(10).assign(-3)).toEqual([{ start: -10, end: 0 }]);
    expect(SlidingEventTimeWindows.of(10_000, 2_000).assign(5_000)).toEqual([
      { start: 4_000, end: 14_000 },
      { start: 2_000, end: 12_000 },
      { start: 0, end: 10_000 },
      { start: -2_000, end: 8_000 },
      { start: -4_000, end: 6_000 },
    ]);
    expect(SlidingEventTimeWindows.of(10, 5).assign(10)).toEqual([
      { start: 10, end: 20 },
      { start: 5, end: 15 },
    ]);
    expect(() => TumblingEventTimeWindows.of(0)).toThrow(/positive/);
  });
});

describe("event-time windows through the TaskRunner", () => {
  it("tumbling reduce fires when the watermark passes the window's end - 1", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((x) => x.k)
        .window(TumblingEventTimeWindows.of(10))
        .reduce(
          (a, b) => e(a.k, a.v + b.v),
          (key, w, r) => ({ key, start: w.start, end: w.end, sum: r.v }),
        ),
    );
    await h.processElements([e("a", 1), e("a", 2), e("b", 5), e("a", 4)], [1, 5, 7, 12]);
    await h.processWatermark(8);
    expect(h.take()).toEqual([]);
    await h.processWatermark(9);
    expect(h.take()).toEqual([
      { key: "a", start: 0, end: 10, sum: 3 },
      { key: "b", start: 0, end: 10, sum: 5 },
    ]);
    await h.restart(); // windows and their timers are keyed state
    await h.endInput();
    expect(h.take()).toEqual([{ key: "a", start: 10, end: 20, sum: 4 }]);
  });

  it("sliding aggregate counts each record in every window that contains it", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((x) => x.k)
        .window(SlidingEventTimeWindows.of(10, 5))
        .aggregate(
          { createAccumulator: () => 0, add: (_v, acc: number) => acc + 1, getResult: (acc) => acc },
          (key, w, n) => `${key}[${w.start},${w.end})=${n}`,
        ),
    );
    await h.processElements([e("a", 0), e("a", 0), e("a", 0)], [3, 7, 12]);
    await h.endInput();
    expect(h.output()).toEqual(["a[-5,5)=1", "a[0,10)=2", "a[5,15)=2", "a[10,20)=1"]);
  });

  it("session windows merge records closer than the gap", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((x) => x.k)
        .window(EventTimeSessionWindows.withGap(3))
        .process<string>((key, w, xs, out) => out(`${key}[${w.start},${w.end}):${xs.map((x) => x.v).join(",")}`)),
    );
    await h.processElements([e("a", 1), e("a", 2), e("b", 9)], [1, 5, 1]);
    await h.processElements([e("a", 3)], [3]); // bridges [1,4) and [5,8)
    await h.processElements([e("a", 4)], [20]);
    await h.endInput();
    expect(h.output().sort()).toEqual(["a[1,8):1,2,3", "a[20,23):4", "b[1,4):9"]);
  });

  it("drops late records, and with allowed lateness re-fires the window per late record", async () => {
    const strict = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((x) => x.k)
        .window(TumblingEventTimeWindows.of(10))
        .reduce((a, b) => e(a.k, a.v + b.v)),
    );
    await strict.processElements([e("a", 1)], [1]);
    await strict.processWatermark(20);
    await strict.processElements([e("a", 100)], [2]); // late: dropped
    await strict.endInput();
    expect(strict.output()).toEqual([e("a", 1)]);

    const lenient = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((x) => x.k)
        .window(TumblingEventTimeWindows.of(10))
        .allowedLateness(15)
        .reduce((a, b) => e(a.k, a.v + b.v)),
    );
    await lenient.processElements([e("a", 1)], [1]);
    await lenient.processWatermark(20);
    await lenient.processElements([e("a", 100)], [2]); // late but allowed: fires again
    await lenient.processWatermark(30); // 9 + 15 = 24 passed: window purged
    await lenient.processElements([e("a", 1000)], [3]); // now too late
    await lenient.endInput();
    expect(lenient.output()).toEqual([e("a", 1), e("a", 101)]);
  });

  it("processing-time windows fire from the runtime clock", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((x) => x.k)
        .window(TumblingProcessingTimeWindows.of(1000))
        .aggregate({ createAccumulator: () => 0, add: (x, acc: number) => acc + x.v, getResult: (a) => a }),
    );
    await h.processElements([e("a", 1), e("a", 2)]);
    await h.advanceProcessingTime(998);
    expect(h.take()).toEqual([]);
    await h.advanceProcessingTime(1);
    expect(h.take()).toEqual([3]);
  });

  it("an event-time window over a stream without timestamps fails clearly", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((x) => x.k)
        .window(TumblingEventTimeWindows.of(10))
        .reduce((a) => a),
    );
    await expect(h.processElements([e("a", 1)])).rejects.toThrow(
      /needs event times: call assignTimestampsAndWatermarks/,
    );
  });
});
