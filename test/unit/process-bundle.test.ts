/**
 * `processBundle` (mini-batch, core/operators/keyed-process.ts): a keyed function that defines it
 * gets one slice's records per key at once (across the slice's envelopes), keys in order of first
 * arrival, with its keyed state, and every bundle before a watermark; a record-by-record rerun
 * hands over bundles of one record, so a failing record is dead-lettered alone and the others
 * still count exactly once. A two-input function may name the input whose bundles go first
 * (`bundleFirst`): both inputs' records of a slice are then held together.
 */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { WatermarkStrategy } from "../../core/api/watermarks.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { OperatorHarness } from "../../core/testing/harness.ts";

type E = { k: string; v: number };

describe("processBundle", () => {
  it("hands over each key's records of an envelope at once, keys in order of first arrival, with keyed state", async () => {
    const h = await OperatorHarness.create((s: DataStream<E>) =>
      s
        .keyBy((e) => e.k)
        .process({
          state: { total: valueState<number>() },
          processElement() {
            throw new Error("processElement is not called when processBundle is defined");
          },
          processBundle(es, ctx) {
            const total = es.reduce((a, e) => a + e.v, ctx.state.total.value() ?? 0);
            ctx.state.total.update(total);
            ctx.emit({ k: ctx.key, vs: es.map((e) => e.v), total });
          },
        }),
    );
    await h.processElements([
      { k: "b", v: 1 },
      { k: "a", v: 2 },
      { k: "b", v: 3 },
      { k: "a", v: 4 },
      { k: "c", v: 5 },
    ]);
    await h.restart();
    await h.processElements([{ k: "a", v: 6 }]);
    expect(h.output()).toEqual([
      { k: "b", vs: [1, 3], total: 4 },
      { k: "a", vs: [2, 4], total: 6 },
      { k: "c", vs: [5], total: 5 },
      { k: "a", vs: [6], total: 12 },
    ]);
  });

  it("dead-letters a record its bundle fails on alone, and keeps the others exactly once", async () => {
    const job = defineJob("bundled", (env) => {
      env.setRecordFailureStrategy("dead-letter");
      env
        .fromGenerator((i) => ({ k: `k${i % 10}`, v: i }), { count: 1000 })
        .setParallelism(2)
        .keyBy((e) => e.k)
        .process({
          state: { total: valueState<number>() },
          processElement() {
            throw new Error("processElement is not called when processBundle is defined");
          },
          processBundle(es: readonly E[], ctx) {
            if (es.some((e) => e.v === 321)) throw new Error("cannot handle 321");
            const total = es.reduce((a, e) => a + e.v, ctx.state.total.value() ?? 0);
            ctx.state.total.update(total);
            ctx.emit({ k: ctx.key, total });
          },
        })
        .setParallelism(2)
        .sinkTo("totals");
    });
    const totals = new Map<string, number>();
    const rt = new EmbeddedRuntime(job, {
      clock: new ManualClock(),
      onOutput: (_s, values) => {
        for (const t of values as { k: string; total: number }[])
          totals.set(t.k, Math.max(totals.get(t.k) ?? 0, t.total));
      },
    });
    await rt.run();
    expect(rt.finished).toBe(true);
    expect(rt.deadLetters).toEqual([
      expect.objectContaining({ value: { k: "k1", v: 321 }, error: "cannot handle 321" }),
    ]);
    const expected = new Map<string, number>();
    for (let i = 0; i < 1000; i++) if (i !== 321) expected.set(`k${i % 10}`, (expected.get(`k${i % 10}`) ?? 0) + i);
    expect(totals).toEqual(expected);
  });
});

describe("a bundle spans the envelopes of a slice", () => {
  it("holds records across envelopes, and hands them all over before a watermark fires timers", async () => {
    const COUNT = 3000;
    const sizes: number[] = [];
    const fired: { k: string; at: number; seen: number }[] = [];
    const job = defineJob("bundles-across", (env) => {
      env.configure({ sourceBatchSize: 600, maxRecordsPerEnvelope: 50 });
      env
        .fromGenerator((i) => ({ k: `k${i % 3}`, v: i }), { count: COUNT })
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<E>().withTimestampAssigner((e) => e.v))
        .keyBy((e) => e.k)
        .process({
          state: { seen: valueState<number[]>() },
          processElement() {
            throw new Error("processElement is not called when processBundle is defined");
          },
          processBundle(es: readonly E[], ctx) {
            sizes.push(es.length);
            ctx.state.seen.update([...(ctx.state.seen.value() ?? []), ...es.map((e) => e.v)]);
            for (const e of es) if (e.v % 250 === 0) ctx.timers.registerEventTimeTimer(e.v + 100);
          },
          onTimer(at, ctx) {
            const seen = (ctx.state.seen.value() ?? []).filter((v) => v <= at).length;
            fired.push({ k: ctx.key, at, seen });
          },
        })
        .sinkTo("none");
    });
    const rt = new EmbeddedRuntime(job, { clock: new ManualClock(), onOutput: () => {} });
    await rt.run();
    expect(rt.finished).toBe(true);
    // One poll's 600 records reach the keyed task as 12 envelopes of 50: a key's bundle holds more than one envelope's records.
    expect(Math.max(...sizes)).toBeGreaterThan(50);
    expect(sizes.reduce((a, n) => a + n, 0)).toBe(COUNT);
    // A timer at t fires once the watermark passed t: by then every record of its key up to t was handed over.
    const expected = [];
    for (let v = 0; v < COUNT; v += 250) {
      const at = v + 100;
      const k = `k${v % 3}`;
      let seen = 0;
      for (let i = 0; i < COUNT; i++) if (`k${i % 3}` === k && i <= at) seen++;
      expected.push({ k, at, seen });
    }
    const byTime = (a: { at: number }, b: { at: number }) => a.at - b.at;
    expect(fired.sort(byTime)).toEqual(expected.sort(byTime));
  });
});

describe("processBundle1 / processBundle2 (two inputs)", () => {
  it("bundles a bundled input's records per key, the other input's record by record, each exactly once", async () => {
    type P = { k: string; v: number };
    const calls = { element1: 0, bundles: 0, bundled: 0, element2: 0 };
    const job = defineJob("co-bundled", (env) => {
      const left = env.fromGenerator((i): P => ({ k: `k${i % 7}`, v: i }), { count: 600 });
      const right = env.fromGenerator((i): P => ({ k: `k${i % 5}`, v: -i }), { count: 400 });
      left
        .connect(right)
        .keyBy(
          (e) => e.k,
          (e) => e.k,
        )
        .process({
          state: { total: valueState<number>() },
          processElement1() {
            calls.element1++;
            throw new Error("processElement1 is not called when processBundle1 is defined");
          },
          processBundle1(es: readonly P[], ctx) {
            calls.bundles++;
            calls.bundled += es.length;
            if (es.some((e) => e.k !== ctx.key)) throw new Error("a bundle of another key's records");
            const total = es.reduce((a, e) => a + e.v, ctx.state.total.value() ?? 0);
            ctx.state.total.update(total);
            ctx.emit({ k: ctx.key, total });
          },
          processElement2(e: P, ctx) {
            calls.element2++;
            const total = (ctx.state.total.value() ?? 0) + e.v;
            ctx.state.total.update(total);
            ctx.emit({ k: ctx.key, total });
          },
        })
        .sinkTo("totals");
    });
    const last = new Map<string, number>();
    const rt = new EmbeddedRuntime(job, {
      clock: new ManualClock(),
      onOutput: (_s, values) => {
        for (const t of values as { k: string; total: number }[]) last.set(t.k, t.total);
      },
    });
    await rt.run();
    expect(rt.finished).toBe(true);
    const expected = new Map<string, number>();
    for (let i = 0; i < 600; i++) expected.set(`k${i % 7}`, (expected.get(`k${i % 7}`) ?? 0) + i);
    for (let i = 0; i < 400; i++) expected.set(`k${i % 5}`, (expected.get(`k${i % 5}`) ?? 0) - i);
    expect(last).toEqual(expected);
    expect(calls.element1).toBe(0);
    expect(calls.bundled).toBe(600);
    expect(calls.bundles).toBeLessThan(600); // records of a key were handed over together
    expect(calls.element2).toBe(400);
  });
});

describe("bundleFirst (two inputs, both bundled)", () => {
  type S = { k: number; side: "a" | "b"; t: number };
  /** Event `i`: each key's "a" first (i % 10 === 3), then nine "b"s; a poll starts with a "b", so its "b" channel is packed first. */
  const event = (i: number): S => ({ k: Math.floor((i - 3) / 10), side: i % 10 === 3 ? "a" : "b", t: i });

  /** The "b" records handed over while their key had seen no "a", with bundles of `first` handed over first (or none). */
  async function bsBeforeTheirA(first: 1 | 2 | undefined): Promise<{ early: number; bs: number; as: number }> {
    const seen = { early: 0, bs: 0, as: 0 };
    const job = defineJob("bundle-first", (env) => {
      // A poll: one envelope of "b"s, one of "a"s (a batch of 10 messages then never splits a poll).
      env.configure({ sourceBatchSize: 100, maxRecordsPerEnvelope: 100 });
      const events = env
        .fromGenerator(event, { count: 2000, splits: 1 })
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<S>().withTimestampAssigner((e) => e.t),
        );
      events
        .filter((e) => e.side === "a")
        .connect(events.filter((e) => e.side === "b"))
        .keyBy(
          (e) => e.k,
          (e) => e.k,
        )
        .process({
          state: { a: valueState<boolean>() },
          ...(first === undefined ? {} : { bundleFirst: first }),
          processElement1() {},
          processElement2() {},
          processBundle1(es: readonly S[], ctx) {
            seen.as += es.length;
            ctx.state.a.update(true);
          },
          processBundle2(es: readonly S[], ctx) {
            seen.bs += es.length;
            if (ctx.state.a.value() !== true) seen.early += es.length;
          },
        })
        .sinkTo("none");
    });
    const rt = new EmbeddedRuntime(job, { clock: new ManualClock(), onOutput: () => {} });
    await rt.run();
    expect(rt.finished).toBe(true);
    return seen;
  }

  it("hands a slice's bundles of the named input over first, across a channel's watermark that does not move the partition's", async () => {
    // The "b"s of the job's first polls, which the first checkpoint's barriers split (a barrier hands
    // over what is held), and events 0–2 (key -1, which has no "a"), come before their key's "a".
    const first = await bsBeforeTheirA(1);
    expect(first).toMatchObject({ bs: 1800, as: 200 });
    expect(first.early).toBeLessThan(200);
    // Otherwise a poll's "b"s (packed first) go before its "a"s: almost every "b" before its key's.
    expect((await bsBeforeTheirA(undefined)).early).toBeGreaterThan(1500);
    expect((await bsBeforeTheirA(2)).early).toBeGreaterThan(1500);
  });
});
