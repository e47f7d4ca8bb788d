/** Joins and side outputs end to end, against brute-force oracles. */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { defineJob } from "../../core/api/environment.ts";
import { intervalJoin, join } from "../../core/api/joins.ts";
import type { Source } from "../../core/api/source.ts";
import { valueState } from "../../core/api/state.ts";
import { WatermarkStrategy } from "../../core/api/watermarks.ts";
import { OutputTag, TumblingEventTimeWindows } from "../../core/api/windows.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { multisetDiff } from "../sim/scenarios.ts";

type Ev = { k: number; t: number; id: number };
const left = (i: number): Ev => ({ k: i % 7, t: (i * 37) % 500, id: i });
const right = (i: number): Ev => ({ k: (i * 3) % 7, t: (i * 53) % 500, id: 1000 + i });
const N = 300;
const stamped = (s: DataStream<Ev>) =>
  s.assignTimestampsAndWatermarks(
    WatermarkStrategy.forBoundedOutOfOrderness<Ev>(1000).withTimestampAssigner((e) => e.t),
  );

describe("joins", () => {
  it("interval join matches the brute force (bounds inclusive), at parallelism 3", async () => {
    const job = defineJob("ij", (env) => {
      const a = stamped(env.fromGenerator(left, { count: N }).setParallelism(2)).keyBy((e) => e.k);
      const b = stamped(env.fromGenerator(right, { count: N }).setParallelism(2)).keyBy((e) => e.k);
      intervalJoin(a, b)
        .between(-5, 10)
        .process((x, y) => `${x.id}-${y.id}`)
        .sinkTo("pairs");
    });
    const out = await runToCompletion(job, { clock: new ManualClock(), parallelism: 3 });
    const expected: string[] = [];
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const x = left(i);
        const y = right(j);
        if (x.k === y.k && y.t >= x.t - 5 && y.t <= x.t + 10) expected.push(`${x.id}-${y.id}`);
      }
    }
    expect(expected.length).toBeGreaterThan(50);
    expect(multisetDiff("pairs", out.get("pairs") ?? [], expected)).toEqual([]);
  });

  it("window join pairs records with equal keys in the same tumbling window", async () => {
    const job = defineJob("wj", (env) => {
      const a = stamped(env.fromGenerator(left, { count: N }));
      const b = stamped(env.fromGenerator(right, { count: N }));
      join(a, b)
        .where((e) => e.k)
        .equalTo((e) => e.k)
        .window(TumblingEventTimeWindows.of(100))
        .apply((x, y, _k, w) => `${x.id}-${y.id}@${w.start}`)
        .sinkTo("pairs");
    });
    const out = await runToCompletion(job, { clock: new ManualClock(), parallelism: 2 });
    const expected: string[] = [];
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const x = left(i);
        const y = right(j);
        const w = Math.floor(x.t / 100) * 100;
        if (x.k === y.k && w === Math.floor(y.t / 100) * 100) expected.push(`${x.id}-${y.id}@${w}`);
      }
    }
    expect(multisetDiff("pairs", out.get("pairs") ?? [], expected)).toEqual([]);
  });

  it("connect + keyed co-process keeps shared keyed state across both inputs", async () => {
    type Order = { order: number; amount: number };
    type Payment = { order: number; paid: number };
    const job = defineJob("cp", (env) => {
      const orders = env.fromGenerator((i): Order => ({ order: i % 50, amount: i }), { count: 200 });
      const payments = env.fromGenerator((i): Payment => ({ order: i % 50, paid: 1 }), { count: 120 });
      const balances: DataStream<string> = orders
        .connect(payments)
        .keyBy(
          (o) => o.order,
          (p) => p.order,
        )
        .process({
          state: { due: valueState<number>(), paid: valueState<number>(), first: valueState<boolean>() },
          processElement1(o, ctx) {
            ctx.state.due.update((ctx.state.due.value() ?? 0) + o.amount);
            if (!ctx.state.first.value()) {
              ctx.state.first.update(true);
              ctx.timers.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
            }
          },
          processElement2(p, ctx) {
            ctx.state.paid.update((ctx.state.paid.value() ?? 0) + p.paid);
          },
          onTimer(_t, ctx) {
            ctx.emit(`${ctx.key}:${ctx.state.due.value()}:${ctx.state.paid.value() ?? 0}`);
          },
        });
      balances.setParallelism(3).sinkTo("balances");
    });
    const out = await runToCompletion(job, { clock: new ManualClock(), parallelism: 2 });
    const expected = Array.from({ length: 50 }, (_, k) => {
      let due = 0;
      for (let i = k; i < 200; i += 50) due += i;
      const paid = Math.floor((120 - 1 - k) / 50) + 1;
      return `${k}:${due}:${paid}`;
    });
    expect(multisetDiff("balances", out.get("balances") ?? [], expected)).toEqual([]);
  });

  it("routes records too late for any window to the late side output", async () => {
    const lateTag = new OutputTag<Ev>("late");
    const times = [5, 15, 25, 3, 35, 12, 45];
    const job = defineJob("late", (env) => {
      env.configure({ sourceBatchSize: 1 });
      const counts = env
        .fromElements(times.map((t, id) => ({ k: 0, t, id })))
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.t),
        )
        .keyBy((e) => e.k)
        .window(TumblingEventTimeWindows.of(10))
        .sideOutputLateData(lateTag)
        .aggregate(
          { createAccumulator: () => 0, add: (_e, n: number) => n + 1, getResult: (n) => n },
          (_k, w, n) => `${w.start}:${n}`,
        );
      counts.sinkTo("counts");
      counts
        .getSideOutput(lateTag)
        .map((e) => e.t)
        .sinkTo("late");
    });
    const out = await runToCompletion(job, { clock: new ManualClock() });
    // 3 and 12 arrive after the watermark passed their windows (watermarks follow each envelope of one record).
    expect(out.get("late")?.sort()).toEqual([12, 3]);
    expect(out.get("counts")?.sort()).toEqual(["0:1", "10:1", "20:1", "30:1", "40:1"]);
  });
});

describe("watermark idleness", () => {
  const silent: Source<Ev> = {
    name: "silent",
    bounded: false,
    splits: () => [{ id: "0" }],
    reader: () => ({ read: () => ({ records: [], position: 0, done: false }) }),
  };
  const job = (idleness: boolean) =>
    defineJob(`idle-${idleness}`, (env) => {
      env.configure({ sourceBatchSize: 20 });
      const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withTimestampAssigner((e) => e.t);
      const busy = env.fromGenerator((i): Ev => ({ k: 0, t: i * 10, id: i })).assignTimestampsAndWatermarks(strategy);
      const quiet = env
        .fromSource(silent)
        .assignTimestampsAndWatermarks(idleness ? strategy.withIdleness(50) : strategy);
      busy
        .union(quiet)
        .keyBy((e) => e.k)
        .window(TumblingEventTimeWindows.of(1000))
        .aggregate({ createAccumulator: () => 0, add: (_e, n: number) => n + 1, getResult: (n) => n })
        .sinkTo("counts");
    });
  const run = async (idleness: boolean) => {
    const stop = new AbortController();
    const counts: unknown[] = [];
    let batches = 0;
    const rt = new EmbeddedRuntime(job(idleness), {
      clock: new ManualClock(),
      batchTimeMs: 1,
      signal: stop.signal,
      onOutput: (_s, v) => counts.push(...v),
      beforeBatch: () => {
        if (++batches === 1500) stop.abort();
      },
    });
    await rt.run();
    return counts;
  };

  it("an idle input stops holding back the watermark, so windows of the busy input fire", async () => {
    expect(await run(false)).toEqual([]); // the silent input pins the watermark at -∞
    const fired = await run(true);
    expect(fired.length).toBeGreaterThan(2);
    expect(fired.every((n) => n === 100)).toBe(true); // full 1 s windows of 10 ms records
  });
});
