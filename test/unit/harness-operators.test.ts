import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { listState, mapState, valueState } from "../../core/api/state.ts";
import { OperatorHarness } from "../../core/testing/harness.ts";

describe("stateless operators", () => {
  it("map, filter and flatMap chain in order", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .map((n) => n * 10)
        .filter((n) => n !== 20)
        .flatMap((n) => [n, n + 1]),
    );
    await h.processElements([1, 2, 3]);
    expect(h.output()).toEqual([10, 11, 30, 31]);
  });

  it("a throwing map fails the batch and commits nothing", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s.map((n) => {
        if (n === 2) throw new Error("boom");
        return n;
      }),
    );
    await expect(h.processElements([1, 2, 3])).rejects.toThrow(/operator 'map-\d+' failed: boom/);
    expect(h.output()).toEqual([]);
    await h.processElements([4]);
    expect(h.output()).toEqual([4]);
  });
});

describe("keyed process", () => {
  it("keeps value, list and map state per key across batches and restarts", async () => {
    const h = await OperatorHarness.create((s: DataStream<{ k: string; v: number }>) =>
      s
        .keyBy((e) => e.k)
        .process({
          state: { count: valueState<number>(), seen: listState<number>(), byParity: mapState<number>() },
          processElement(e, ctx) {
            const count = (ctx.state.count.value() ?? 0) + 1;
            ctx.state.count.update(count);
            ctx.state.seen.add(e.v);
            const parity = e.v % 2 === 0 ? "even" : "odd";
            ctx.state.byParity.put(parity, (ctx.state.byParity.get(parity) ?? 0) + 1);
            ctx.emit({
              k: ctx.key,
              count,
              seen: ctx.state.seen.get(),
              parity: Object.fromEntries(ctx.state.byParity.entries()),
            });
          },
        }),
    );
    await h.processElements([
      { k: "a", v: 1 },
      { k: "b", v: 2 },
      { k: "a", v: 4 },
    ]);
    await h.restart();
    await h.processElements([{ k: "a", v: 7 }]);
    expect(h.output()).toEqual([
      { k: "a", count: 1, seen: [1], parity: { odd: 1 } },
      { k: "b", count: 1, seen: [2], parity: { even: 1 } },
      { k: "a", count: 2, seen: [1, 4], parity: { odd: 1, even: 1 } },
      { k: "a", count: 3, seen: [1, 4, 7], parity: { odd: 2, even: 1 } },
    ]);
  });

  it("clear removes state", async () => {
    const h = await OperatorHarness.create((s: DataStream<string>) =>
      s
        .keyBy((w) => w)
        .process({
          state: { n: valueState<number>() },
          processElement(w, ctx) {
            const n = (ctx.state.n.value() ?? 0) + 1;
            if (n === 2) ctx.state.n.clear();
            else ctx.state.n.update(n);
            ctx.emit(`${w}:${n}`);
          },
        }),
    );
    await h.processElements(["x", "x", "x"]);
    expect(h.output()).toEqual(["x:1", "x:2", "x:1"]);
  });

  it("fires event-time timers when the watermark passes them, once, in time order", async () => {
    const h = await OperatorHarness.create((s: DataStream<{ k: string; at: number }>) =>
      s
        .keyBy((e) => e.k)
        .process({
          processElement(e, ctx) {
            ctx.timers.registerEventTimeTimer(e.at);
            ctx.timers.registerEventTimeTimer(e.at); // duplicate registration is one timer
          },
          onTimer(t, ctx) {
            ctx.emit(`${ctx.key}@${t}/${ctx.timeDomain}`);
          },
        }),
    );
    await h.processElements([
      { k: "a", at: 30 },
      { k: "b", at: 10 },
      { k: "c", at: 50 },
    ]);
    await h.processWatermark(29);
    expect(h.take()).toEqual(["b@10/event"]);
    await h.restart(); // timers are state: they survive a crash
    await h.processWatermark(30);
    expect(h.take()).toEqual(["a@30/event"]);
    await h.endInput();
    expect(h.take()).toEqual(["c@50/event"]);
  });

  it("deleted timers do not fire", async () => {
    const h = await OperatorHarness.create((s: DataStream<{ k: string; del: boolean }>) =>
      s
        .keyBy((e) => e.k)
        .process({
          processElement(e, ctx) {
            if (e.del) ctx.timers.deleteEventTimeTimer(100);
            else ctx.timers.registerEventTimeTimer(100);
          },
          onTimer(t, ctx) {
            ctx.emit(`${ctx.key}@${t}`);
          },
        }),
    );
    await h.processElements([
      { k: "a", del: false },
      { k: "b", del: false },
      { k: "a", del: true },
    ]);
    await h.processWatermark(200);
    expect(h.output()).toEqual(["b@100"]);
  });

  it("fires processing-time timers from the runtime clock", async () => {
    const h = await OperatorHarness.create((s: DataStream<string>) =>
      s
        .keyBy((k) => k)
        .process({
          processElement(k, ctx) {
            ctx.timers.registerProcessingTimeTimer(ctx.timers.currentProcessingTime() + 1000);
            ctx.emit(`${k} registered`);
          },
          onTimer(t, ctx) {
            ctx.emit(`${ctx.key} fired at ${t} (${ctx.timeDomain})`);
          },
        }),
    );
    await h.processElements(["a"]);
    await h.advanceProcessingTime(999);
    expect(h.take()).toEqual(["a registered"]);
    await h.advanceProcessingTime(1);
    expect(h.take()).toEqual(["a fired at 1000 (processing)"]);
  });
});

describe("rolling aggregations", () => {
  it("reduce, sum, min and max emit running results per key", async () => {
    const sum = await OperatorHarness.create((s: DataStream<number>) => s.keyBy((n) => n % 2).sum());
    await sum.processElements([1, 2, 3, 4, 5]);
    expect(sum.output()).toEqual([1, 2, 4, 6, 9]);

    type R = { k: string; v: number; tag: string };
    const rows: R[] = [
      { k: "a", v: 5, tag: "first" },
      { k: "a", v: 2, tag: "second" },
      { k: "a", v: 9, tag: "third" },
    ];
    const min = await OperatorHarness.create((s: DataStream<R>) => s.keyBy((r) => r.k).min("v"));
    await min.processElements(rows);
    expect(min.output()).toEqual([
      { k: "a", v: 5, tag: "first" },
      { k: "a", v: 2, tag: "first" },
      { k: "a", v: 2, tag: "first" },
    ]);
    const max = await OperatorHarness.create((s: DataStream<R>) => s.keyBy((r) => r.k).max("v"));
    await max.processElements(rows);
    expect(max.output().map((r) => (r as R).v)).toEqual([5, 5, 9]);

    const reduce = await OperatorHarness.create((s: DataStream<string>) =>
      s.keyBy((w) => w.length).reduce((a, b) => `${a}+${b}`),
    );
    await reduce.processElements(["ab", "cd", "e", "fg"]);
    expect(reduce.output()).toEqual(["ab", "ab+cd", "e", "ab+cd+fg"]);
  });

  it("sum over a non-numeric field is an operator error", async () => {
    const h = await OperatorHarness.create((s: DataStream<{ k: string; v: unknown }>) =>
      s.keyBy((r) => r.k).sum("v" as never),
    );
    await expect(h.processElements([{ k: "a", v: "x" }])).rejects.toThrow(/field 'v' is string, not a number/);
  });
});
