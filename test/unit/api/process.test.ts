import { describe, expect, it } from "vitest";
import type { DataStream } from "../../../core/api/datastream.ts";
import { defineJob } from "../../../core/api/environment.ts";
import type { RuntimeContext } from "../../../core/api/functions.ts";
import { OutputTag } from "../../../core/api/output-tag.ts";
import { valueState } from "../../../core/api/state.ts";
import { TumblingEventTimeWindows } from "../../../core/api/windows.ts";
import { JobDefinitionError } from "../../../core/errors.ts";
import { runToCompletion } from "../../../core/runtime/run-to-completion.ts";
import { OperatorHarness } from "../../../core/testing/harness.ts";

describe("non-keyed process", () => {
  it("emits any number of records per input, with its event time and the clocks", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s.process<{ n: number; ts: number | undefined; now: number }>({
        processElement(n, ctx) {
          for (let i = 0; i < n; i++) ctx.emit({ n, ts: ctx.timestamp, now: ctx.timers.currentProcessingTime() });
        },
      }),
    );
    h.clock.advance(42);
    await h.processElements([0, 2, 1], [10, 20, 30]);
    expect(h.output()).toEqual([
      { n: 2, ts: 20, now: 42 },
      { n: 2, ts: 20, now: 42 },
      { n: 1, ts: 30, now: 42 },
    ]);
  });
});

describe("side outputs", () => {
  const odd = new OutputTag<string>("odd");

  it("ctx.output sends records to getSideOutput(tag), never to the main output", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .process<number>({
          processElement(n, ctx) {
            if (n % 2 === 0) ctx.emit(n);
            else ctx.output(odd, `odd ${n}`);
          },
        })
        .getSideOutput(odd),
    );
    await h.processElements([1, 2, 3, 4]);
    expect(h.output()).toEqual(["odd 1", "odd 3"]);
  });

  it("main and side outputs read by different tasks, keyed and not, across a shuffle", async () => {
    const job = defineJob("sides", (env) => {
      const main = env
        .fromElements([1, 2, 3, 4, 5, 6])
        .rebalance()
        .process<number>({
          processElement(n, ctx) {
            if (n % 2 === 0) ctx.emit(n);
            else ctx.output(odd, `odd ${n}`);
          },
        })
        .setParallelism(2);
      main.getSideOutput(odd).sinkTo("odd");
      main
        .keyBy((n) => n % 4)
        .sum()
        .sinkTo("even");
    });
    const out = await runToCompletion(job);
    expect([...(out.get("odd") ?? [])].sort()).toEqual(["odd 1", "odd 3", "odd 5"]);
    expect([...(out.get("even") ?? [])].sort()).toEqual([2, 4, 8]); // running sums per n % 4
  });

  it("a side output nobody reads is dropped; the main output chains on", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .process<number>({
          processElement(n, ctx) {
            ctx.output(odd, "x");
            ctx.emit(n * 2);
          },
        })
        .map((n) => n + 1),
    );
    await h.processElements([1, 2]);
    expect(h.output()).toEqual([3, 5]);
  });

  it("a keyed process function has side outputs too, and keyBy after it sees only main records", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) => {
      const main = s
        .keyBy((n) => n % 3)
        .process<{ k: number; n: number }, { count: ReturnType<typeof valueState<number>> }>({
          state: { count: valueState<number>() },
          processElement(n, ctx) {
            const c = (ctx.state.count.value() ?? 0) + 1;
            ctx.state.count.update(c);
            if (c > 1) ctx.output(odd, `repeat ${ctx.key}`);
            ctx.emit({ k: ctx.key, n });
          },
        });
      return main.getSideOutput(odd);
    });
    await h.processElements([1, 4, 2, 7]);
    expect(h.output()).toEqual(["repeat 1", "repeat 1"]);
  });

  it("late window data is one kind of side output", async () => {
    const late = new OutputTag<{ v: number }>("late");
    const h = await OperatorHarness.create((s: DataStream<{ v: number }>) => {
      const win = s
        .keyBy(() => "k")
        .window(TumblingEventTimeWindows.of(10))
        .sideOutputLateData(late)
        .reduce((a, b) => ({ v: a.v + b.v }));
      return win.getSideOutput(late).map((e) => ({ late: e.v }));
    });
    await h.processElements([{ v: 1 }], [5]);
    await h.processWatermark(20);
    await h.processElements([{ v: 2 }], [6]);
    expect(h.output()).toEqual([{ late: 2 }]);
  });

  it("getSideOutput on an operator without side outputs is a plan-time error", async () => {
    await expect(OperatorHarness.create((s: DataStream<number>) => s.map((n) => n).getSideOutput(odd))).rejects.toThrow(
      JobDefinitionError,
    );
  });
});

describe("rich functions", () => {
  it("open runs before the first record of each chain, close when the chain is dropped", async () => {
    const log: string[] = [];
    let prefix = "";
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .map({
          open(ctx: RuntimeContext) {
            log.push(`open ${ctx.operator} ${ctx.partition}/${ctx.parallelism}`);
            prefix = "p";
          },
          close() {
            log.push("close");
            prefix = "";
          },
          map: (n: number) => `${prefix}${n}`,
        })
        .uid("rich"),
    );
    await h.processElements([1]);
    await h.processElements([2]);
    await h.close();
    await h.processElements([3]);
    await h.restart(); // a crash: no close
    await h.processElements([4]);
    expect(h.output()).toEqual(["p1", "p2", "p3", "p4"]);
    expect(log).toEqual(["open rich 0/1", "close", "open rich 0/1", "open rich 0/1"]);
  });

  it("a keyed process function's open can be async and is awaited", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) => {
      let table: Record<number, string> = {};
      return s
        .keyBy((n) => n)
        .process<string>({
          async open() {
            await new Promise((r) => setTimeout(r, 5));
            table = { 1: "one", 2: "two" };
          },
          processElement(n, ctx) {
            ctx.emit(table[n] ?? "?");
          },
        });
    });
    await h.processElements([2, 1, 3]);
    expect(h.output()).toEqual(["two", "one", "?"]);
  });
});

describe("async functions where a value is needed", () => {
  it("an async map is refused when the job is built", async () => {
    await expect(OperatorHarness.create((s: DataStream<number>) => s.map(async (n) => n + 1))).rejects.toThrow(
      /map\(\): the function is async.*AsyncDataStream/,
    );
  });

  it("a map that returns a Promise fails the job with an error naming the operator, never {}", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) => s.map((n) => Promise.resolve(n)).uid("promised"));
    await expect(h.processElements([1])).rejects.toThrow(/operator 'promised': map returned a Promise/);
    expect(h.output()).toEqual([]);
  });

  it("flatMap and filter returning Promises fail too", async () => {
    const f = await OperatorHarness.create((s: DataStream<number>) => s.flatMap(() => Promise.resolve([1]) as never));
    await expect(f.processElements([1])).rejects.toThrow(/flatMap returned a Promise/);
    const g = await OperatorHarness.create((s: DataStream<number>) => s.filter(() => Promise.resolve(false) as never));
    await expect(g.processElements([1])).rejects.toThrow(/filter returned a Promise/);
  });
});
