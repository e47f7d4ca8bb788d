import { describe, expect, it } from "vitest";
import { MapStateDescriptor } from "../../../core/api/broadcast.ts";
import type { DataStream } from "../../../core/api/datastream.ts";
import { buildGraph, defineJob } from "../../../core/api/environment.ts";
import { valueState } from "../../../core/api/state.ts";
import { planJob } from "../../../core/graph/planner.ts";
import { OperatorHarness } from "../../../core/testing/harness.ts";

type Event = { user: string; kind: string; amount: number };
type Rule = { kind: string; limit: number } | { kind: string; remove: true };

const rules = new MapStateDescriptor<string, number>("rules");

/** Keyed: alerts when a user's running total of a kind passes the kind's broadcast limit. */
function keyedHarness() {
  return OperatorHarness.createBroadcast((events: DataStream<Event>, ruleStream: DataStream<Rule>) =>
    events
      .keyBy((e) => e.user)
      .connect(ruleStream.broadcast(rules))
      .process({
        state: { total: valueState<number>() },
        processElement(e, ctx) {
          const total = (ctx.state.total.value() ?? 0) + e.amount;
          ctx.state.total.update(total);
          const limit = ctx.getBroadcastState(rules).get(e.kind);
          if (limit !== undefined && total > limit) ctx.emit(`${ctx.key}:${e.kind}:${total}>${limit}`);
        },
        processBroadcastElement(r, ctx) {
          const state = ctx.getBroadcastState(rules);
          if ("remove" in r) state.remove(r.kind);
          else state.put(r.kind, r.limit);
          ctx.emit(
            `rules:${state
              .entries()
              .map(([k, v]) => `${k}=${v}`)
              .join(",")}`,
          );
        },
      }),
  );
}

describe("the broadcast state pattern", () => {
  it("keyed: broadcast state is written by the broadcast side, read by the keyed side, and survives a restart", async () => {
    const h = await keyedHarness();
    await h.processElements([{ user: "a", kind: "buy", amount: 5 }]);
    await h.processBroadcastElements([
      { kind: "buy", limit: 7 },
      { kind: "sell", limit: 1 },
    ]);
    await h.processElements([
      { user: "a", kind: "buy", amount: 3 },
      { user: "b", kind: "buy", amount: 3 },
    ]);
    await h.restart();
    await h.processElements([{ user: "b", kind: "buy", amount: 5 }]);
    await h.processBroadcastElements([{ kind: "buy", remove: true }]);
    await h.processElements([{ user: "a", kind: "buy", amount: 100 }]);
    expect(h.output()).toEqual(["rules:buy=7", "rules:buy=7,sell=1", "a:buy:8>7", "b:buy:8>7", "rules:sell=1"]);
  });

  it("keyed: processElement cannot write broadcast state", async () => {
    const h = await OperatorHarness.createBroadcast((events: DataStream<Event>, r: DataStream<Rule>) =>
      events
        .keyBy((e) => e.user)
        .connect(r.broadcast(rules))
        .process({
          processElement(e, ctx) {
            const state = ctx.getBroadcastState(rules) as unknown as { put?: unknown };
            ctx.emit(`${e.user}:${typeof state.put}`);
          },
          processBroadcastElement() {},
        }),
    );
    await h.processElements([{ user: "a", kind: "x", amount: 1 }]);
    expect(h.output()).toEqual(["a:undefined"]);
  });

  it("non-keyed: a BroadcastProcessFunction filters a stream by broadcast rules", async () => {
    const blocked = new MapStateDescriptor<string, boolean>("blocked");
    const h = await OperatorHarness.createBroadcast((words: DataStream<string>, blocks: DataStream<string>) =>
      words.connect(blocks.broadcast(blocked)).process<string>({
        processElement(w, ctx) {
          if (!ctx.getBroadcastState(blocked).contains(w)) ctx.emit(w);
        },
        processBroadcastElement(b, ctx) {
          ctx.getBroadcastState(blocked).put(b, true);
        },
      }),
    );
    await h.processElements(["x", "y"]);
    await h.processBroadcastElements(["y"]);
    await h.restart();
    await h.processElements(["x", "y", "z"]);
    expect(h.output()).toEqual(["x", "y", "x", "z"]);
  });

  it("reading a descriptor the broadcast did not declare fails the record naming the state", async () => {
    const other = new MapStateDescriptor<string, number>("other");
    const h = await OperatorHarness.createBroadcast((words: DataStream<string>, r: DataStream<string>) =>
      words.connect(r.broadcast(rules)).process<string>({
        processElement(w, ctx) {
          ctx.emit(String(ctx.getBroadcastState(other).get(w)));
        },
        processBroadcastElement() {},
      }),
    );
    await expect(h.processElements(["x"])).rejects.toThrow(/broadcast state 'other'.*does not declare/);
  });

  it("a broadcast state value that is not JSON fails at once with a StateValueError naming the state", async () => {
    const maps = new MapStateDescriptor<string, Map<string, number>>("maps");
    const h = await OperatorHarness.createBroadcast((words: DataStream<string>, r: DataStream<string>) =>
      words.connect(r.broadcast(maps)).process<string>({
        processElement() {},
        processBroadcastElement(k, ctx) {
          ctx.getBroadcastState(maps).put(k, new Map([[k, 1]]));
        },
      }),
    );
    await expect(h.processBroadcastElements(["x"])).rejects.toThrow(/wrote a Map to state 'maps'/);
    expect(h.deadLetters).toEqual([]);
  });

  it("with the rich codec, a Map in broadcast state comes back as a Map after a restart", async () => {
    const maps = new MapStateDescriptor<string, Map<string, number>>("maps", { codec: "rich" });
    const h = await OperatorHarness.createBroadcast((words: DataStream<string>, r: DataStream<string>) =>
      words.connect(r.broadcast(maps)).process<string>({
        processElement(w, ctx) {
          const m = ctx.getBroadcastState(maps).get(w);
          ctx.emit(m instanceof Map ? `${w}:${m.get(w)}` : `${w}:none`);
        },
        processBroadcastElement(k, ctx) {
          ctx.getBroadcastState(maps).put(k, new Map([[k, 7]]));
        },
      }),
    );
    await h.processBroadcastElements(["x"]);
    await h.restart();
    await h.processElements(["x", "y"]);
    expect(h.output()).toEqual(["x:7", "y:none"]);
  });

  it("plan: keyBy after a plain .broadcast() is still refused; the broadcast pattern plans", () => {
    const job = (pattern: boolean) =>
      defineJob("b", (env) => {
        const events = env.fromElements<Event>([]);
        const rs = env.fromElements<Rule>([]);
        if (pattern) {
          events
            .keyBy((e) => e.user)
            .connect(rs.broadcast(rules))
            .process({ processElement() {}, processBroadcastElement() {} })
            .sinkTo("out");
        } else {
          rs.broadcast()
            .keyBy((r) => r.kind)
            .sum()
            .sinkTo("out");
        }
      });
    expect(() => planJob(buildGraph(job(false), { parallelism: 2 }))).toThrow(/\.broadcast\(\) followed by keyBy\(\)/);
    const plan = planJob(buildGraph(job(true), { parallelism: 2 }));
    const op = plan.tasks.find((t) => t.keyed);
    expect(op?.inputs.map((i) => i.partitioner).sort()).toEqual(["broadcast", "hash"]);
  });

  it("two descriptors of one name are refused", () => {
    const job = defineJob("b", (env) => {
      env.fromElements<Rule>([]).broadcast(rules, new MapStateDescriptor<string, number>("rules"));
    });
    expect(() => buildGraph(job, { parallelism: 1 })).toThrow(/two descriptors are named 'rules'/);
  });
});
