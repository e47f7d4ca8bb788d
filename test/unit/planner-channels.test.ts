// inputChannels, plan serialization, and sinks ending a stream.

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { CONTROL_CHANNEL, POLL_CHANNEL } from "../../core/envelope.ts";
import { inputChannels, planJob } from "../../core/graph/planner.ts";
import { type Build, gen, graphOf, planOf, task } from "./planner-helpers.ts";

describe("inputChannels", () => {
  const fanOut: Build = (env) => {
    env.setParallelism(3);
    const src = gen(env).uid("src");
    src
      .map((x) => x)
      .uid("m1")
      .sinkTo("a");
    src
      .keyBy((x) => x)
      .sum()
      .uid("keyed")
      .setParallelism(2)
      .sinkTo("b")
      .setParallelism(2);
  };

  it("gives a forward edge exactly the same-index upstream channel", () => {
    // prepare
    const plan = planOf((env) => {
      env.setParallelism(3);
      const a = gen(env).uid("a");
      a.union(gen(env).uid("b"))
        .map((x) => x)
        .uid("u")
        .sinkTo("out");
    });
    const u = task(plan, "u");

    // act
    const channels = [0, 1, 2].map((p) => inputChannels(plan, u, p));

    // assess
    expect(u.inputs[0]).toEqual({ from: "a", sender: "a", partitioner: "forward" });
    expect(channels.map((c) => c[0])).toEqual([
      { id: "a#0", from: "a" },
      { id: "a#1", from: "a" },
      { id: "a#2", from: "a" },
    ]);
  });

  it("gives a hash edge every upstream partition", () => {
    // prepare
    const plan = planOf(fanOut);
    const keyed = task(plan, "keyed");
    const expected = [
      { id: "src#0", from: "src" },
      { id: "src#1", from: "src" },
      { id: "src#2", from: "src" },
    ];

    // act
    const channels = [0, 1].map((p) => inputChannels(plan, keyed, p));

    // assess
    expect(channels).toEqual([expected, expected]);
  });

  it("gives a source task its poll channel and the coordinator's control channel", () => {
    // prepare
    const plan = planOf(fanOut);
    const src = task(plan, "src");

    // act
    const channels = [0, 1, 2].map((p) => inputChannels(plan, src, p));

    // assess
    for (const c of channels) {
      expect(c).toEqual([
        { id: POLL_CHANNEL, from: "src" },
        { id: CONTROL_CHANNEL, from: "$coordinator" },
      ]);
    }
    expect(POLL_CHANNEL).toBe("$poll");
  });

  it("lists the channels of every input of a union, inputs in order", () => {
    // prepare
    const plan = planOf((env) => {
      env.setParallelism(2);
      const a = gen(env).uid("a");
      const b = env.fromElements([1]).uid("b");
      a.union(b)
        .map((x) => x)
        .uid("u")
        .sinkTo("out");
    });
    const u = task(plan, "u");

    // act
    const channels = inputChannels(plan, u, 1);

    // assess
    expect(u.inputs).toEqual([
      { from: "a", sender: "a", partitioner: "forward" },
      { from: "b", sender: "b", partitioner: "rebalance" },
    ]);
    expect(channels).toEqual([
      { id: "a#1", from: "a" },
      { id: "b#0", from: "b" },
    ]);
  });
});

describe("plan serialization", () => {
  it("survives a JSON round trip unchanged", () => {
    // prepare
    const graph = graphOf((env) => {
      env.setParallelism(2);
      const clicks = env.fromGenerator((i) => ({ user: `u${i % 5}`, n: i }), { count: 100 }).uid("clicks");
      const extra = env.fromElements([{ user: "u0", n: 0 }]);
      const all = clicks.union(extra);
      all
        .keyBy((c) => c.user)
        .sum("n")
        .uid("totals")
        .sinkTo("totals");
      all.filter((c) => c.n > 50).print();
    });

    // act
    const plan = planJob(graph);
    const copy = JSON.parse(JSON.stringify(plan)) as unknown;

    // assess
    expect(copy).toStrictEqual(plan);
    expect(plan.tasks.length).toBeGreaterThan(2);
  });
});

describe("sinks end a stream", () => {
  it("a sink offers no transformation to chain after it", () => {
    let sink: unknown;
    buildGraph(
      defineJob("j", (env) => {
        sink = env.fromElements([1, 2]).sinkTo("a").uid("the-sink").setParallelism(1);
      }),
    );
    expect((sink as { map?: unknown }).map).toBeUndefined();
    expect((sink as { sinkTo?: unknown }).sinkTo).toBeUndefined();
  });
});
