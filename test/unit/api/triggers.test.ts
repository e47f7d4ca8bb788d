import { describe, expect, it } from "vitest";
import type { DataStream } from "../../../core/api/datastream.ts";
import { CountEvictor, CountTrigger, GlobalWindows, TimeEvictor, type Trigger } from "../../../core/api/triggers.ts";
import { EventTimeSessionWindows, TumblingEventTimeWindows } from "../../../core/api/windows.ts";
import { JobDefinitionError } from "../../../core/errors.ts";
import { OperatorHarness } from "../../../core/testing/harness.ts";

type E = { k: string; v: number };
const sum = (a: E, b: E) => ({ k: a.k, v: a.v + b.v });

describe("count windows", () => {
  it("countWindow(n) fires and purges every n elements per key, across a restart", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .countWindow(3)
        .reduce(sum),
    );
    await h.processElements([
      { k: "a", v: 1 },
      { k: "a", v: 2 },
      { k: "b", v: 10 },
    ]);
    await h.restart();
    await h.processElements([
      { k: "a", v: 3 },
      { k: "a", v: 4 },
      { k: "b", v: 20 },
      { k: "b", v: 30 },
    ]);
    expect(h.output()).toEqual([
      { k: "a", v: 6 },
      { k: "b", v: 60 },
    ]);
    await h.endInput(); // an incomplete count window never fires
    expect(h.output()).toHaveLength(2);
  });

  it("countWindow(size, slide) fires every `slide` elements over the last `size`", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .keyBy(() => 0)
        .countWindow(3, 2)
        .process<number[]>((_k, _w, elements, out) => out([...elements])),
    );
    await h.processElements([1, 2, 3, 4, 5, 6]);
    expect(h.output()).toEqual([
      [1, 2],
      [2, 3, 4],
      [4, 5, 6],
    ]);
  });
});

describe("custom triggers", () => {
  it("a trigger with its own state and timers: fire early at a threshold, and at the window's end", async () => {
    // Fires when a window's sum reaches 10 (once), and when the watermark passes its end.
    const early: Trigger<E> = {
      onElement(e, _t, w, ctx) {
        ctx.registerEventTimeTimer(w.end - 1);
        const total = (ctx.getState<number>("sum") ?? 0) + e.v;
        ctx.setState("sum", total);
        if (total >= 10 && !ctx.getState("fired")) {
          ctx.setState("fired", true);
          return "FIRE";
        }
        return "CONTINUE";
      },
      onEventTime: (t, w) => (t === w.end - 1 ? "FIRE_AND_PURGE" : "CONTINUE"),
      onProcessingTime: () => "CONTINUE",
    };
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .window(TumblingEventTimeWindows.of(100))
        .trigger(early)
        .reduce(sum, (k, w, e) => ({ k, end: w.end, v: e.v })),
    );
    await h.processElements(
      [
        { k: "a", v: 4 },
        { k: "a", v: 7 },
        { k: "a", v: 1 },
      ],
      [10, 20, 30],
    );
    expect(h.take()).toEqual([{ k: "a", end: 100, v: 11 }]);
    await h.restart();
    await h.processWatermark(99);
    expect(h.take()).toEqual([{ k: "a", end: 100, v: 12 }]);
    await h.processElements([{ k: "a", v: 5 }], [150]);
    await h.endInput();
    expect(h.take()).toEqual([{ k: "a", end: 200, v: 5 }]);
  });

  it("a global window without a trigger never fires; with one it does", async () => {
    const never = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .keyBy(() => 0)
        .window(GlobalWindows.create())
        .reduce((a, b) => a + b),
    );
    await never.processElements([1, 2, 3]);
    await never.endInput();
    expect(never.output()).toEqual([]);
    const every2 = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .keyBy(() => 0)
        .window(GlobalWindows.create())
        .trigger(CountTrigger.of(2))
        .reduce((a, b) => a + b),
    );
    await every2.processElements([1, 2, 3, 4]);
    expect(every2.output()).toEqual([3, 10]); // FIRE without PURGE keeps the contents
  });

  it("session windows refuse custom triggers at plan time", async () => {
    await expect(
      OperatorHarness.create((s: DataStream<E>) =>
        s
          .keyBy((e) => e.k)
          .window(EventTimeSessionWindows.withGap(10))
          .trigger(CountTrigger.of(2))
          .reduce(sum),
      ),
    ).rejects.toThrow(JobDefinitionError);
  });
});

describe("evictors", () => {
  it("TimeEvictor keeps the elements at most `ms` older than the newest when the window fires", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .window(TumblingEventTimeWindows.of(1000))
        .evictor(TimeEvictor.of(100))
        .process<number[]>((_k, _w, es, out) => out(es.map((e) => e.v))),
    );
    await h.processElements(
      [
        { k: "a", v: 1 },
        { k: "a", v: 2 },
        { k: "a", v: 3 },
      ],
      [100, 650, 700],
    );
    await h.processWatermark(999);
    expect(h.output()).toEqual([[2, 3]]);
  });

  it("CountEvictor after the window function keeps the last n for the next firing", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .keyBy(() => 0)
        .window(GlobalWindows.create())
        .trigger(CountTrigger.of(2))
        .evictor(CountEvictor.of(1, true))
        .reduce((a, b) => a + b),
    );
    await h.processElements([1, 2, 3, 4]);
    // Fires at 2 with [1, 2] and keeps [2]; fires again at 4 with [2, 3, 4].
    expect(h.output()).toEqual([3, 9]);
  });
});
