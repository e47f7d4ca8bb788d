// planJob: rejected job definitions, parallelism resolution and task naming.

import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import { planJob } from "../../core/graph/planner.ts";
import { type Build, gen, graphOf, kinds, planOf, task } from "./planner-helpers.ts";

describe("planJob chaining", () => {
  it("rejects a union of a stream with itself", () => {
    // prepare
    const graph = graphOf((env) => {
      const s = gen(env);
      s.union(s)
        .map((x) => x)
        .sinkTo("out");
    });

    // act + assess
    expect(() => planJob(graph)).toThrow(JobDefinitionError);
    expect(() => planJob(graph)).toThrow(/twice/);
  });

  it("rejects two operators with the same explicit uid", () => {
    // prepare
    const graph = graphOf((env) => {
      gen(env)
        .map((x) => x)
        .uid("same")
        .map((x) => x)
        .uid("same")
        .sinkTo("out");
    });

    // act + assess
    expect(() => planJob(graph)).toThrow(JobDefinitionError);
    expect(() => planJob(graph)).toThrow(/share the uid 'same'/);
  });

  it("rejects an explicit uid that collides with another operator's default uid", () => {
    // prepare
    const graph = graphOf((env) => {
      gen(env)
        .map((x) => x)
        .map((x) => x)
        .uid("map-1")
        .sinkTo("out");
    });

    // act + assess
    expect(() => planJob(graph)).toThrow(JobDefinitionError);
  });

  it.each([
    ["uid()", (s: DataStream<number>) => s.uid("u")],
    ["setParallelism()", (s: DataStream<number>) => s.setParallelism(2)],
  ] as const)("rejects %s on a union", (_label, configure) => {
    // prepare
    const job = defineJob("union-config", (env) => {
      const a = gen(env);
      const b = gen(env);
      configure(a.union(b)).sinkTo("out");
    });

    // act + assess
    expect(() => buildGraph(job)).toThrow(JobDefinitionError);
    expect(() => buildGraph(job)).toThrow(/union of 2 streams/);
  });

  it("refuses keyed state or timers in process() on a plain DataStream", () => {
    // prepare
    const job = defineJob("unkeyed-state", (env) => {
      gen(env)
        .process({ state: { n: valueState<number>() }, processElement() {} } as never)
        .sinkTo("out");
    });

    // act + assess
    expect(() => buildGraph(job)).toThrow(
      /process\(\): keyed state and timers \(state\) need a keyed stream; call keyBy\(\) before/,
    );
  });

  it("rejects a keyed operator whose input is not hash-partitioned (hand-built graph)", () => {
    // prepare: a valid keyed graph, then the keyBy edge replaced by a plain one
    const valid = graphOf((env) => {
      gen(env)
        .keyBy((x) => x)
        .sum()
        .sinkTo("out");
    });
    const nodes = valid.nodes.map((n) =>
      n.op.kind === "process" ? { ...n, inputs: [{ node: 0, partition: undefined }] } : n,
    );
    const broken: JobGraph = { ...valid, nodes };

    // act + assess
    expect(() => planJob(valid)).not.toThrow();
    expect(() => planJob(broken)).toThrow(JobDefinitionError);
    expect(() => planJob(broken)).toThrow(/must follow keyBy/);
  });

  it("rejects a keyed operator with parallelism above maxParallelism, and accepts it at the limit", () => {
    // prepare
    const keyedAt =
      (parallelism: number): Build =>
      (env) => {
        env.setMaxParallelism(4);
        gen(env)
          .keyBy((x) => x)
          .sum()
          .setParallelism(parallelism)
          .sinkTo("out")
          .setParallelism(parallelism);
      };

    // act
    const atLimit = planOf(keyedAt(4));

    // assess
    expect(task(atLimit, "sum-1").parallelism).toBe(4);
    expect(atLimit.maxParallelism).toBe(4);
    expect(() => planOf(keyedAt(5))).toThrow(JobDefinitionError);
    expect(() => planOf(keyedAt(5))).toThrow(/above maxParallelism 4/);
  });

  it("lets buildGraph's parallelism option override env.setParallelism", () => {
    // prepare
    const build: Build = (env) => {
      env.setParallelism(4);
      gen(env)
        .map((x) => x)
        .sinkTo("out");
    };

    // act
    const fromJob = planOf(build);
    const overridden = planOf(build, { parallelism: 2 });

    // assess
    expect(fromJob.tasks.map((t) => t.parallelism)).toEqual([4]);
    expect(overridden.tasks.map((t) => t.parallelism)).toEqual([2]);
  });

  it("keeps an operator's own setParallelism under the parallelism option", () => {
    // prepare
    const build: Build = (env) => {
      gen(env)
        .map((x) => x)
        .setParallelism(5)
        .filter((x) => x > 0)
        .sinkTo("out");
    };

    // act
    const plan = planOf(build, { parallelism: 2 });

    // assess
    expect(plan.tasks.map((t) => [t.id, t.parallelism])).toEqual([
      ["generator-0", 2],
      ["map-1", 5],
      ["filter-2", 2],
    ]);
  });

  it("gives a sink without its own parallelism its input's, so it chains", () => {
    // prepare
    const build: Build = (env) => {
      env.setParallelism(2);
      gen(env)
        .map((x) => x)
        .setParallelism(5)
        .sinkTo("out");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => [t.id, t.parallelism])).toEqual([
      ["generator-0", 2],
      ["map-1", 5],
    ]);
    expect(kinds(task(plan, "map-1"))).toEqual(["map", "sink"]);
  });

  it("keeps a sink's own parallelism, shuffling into it", () => {
    // prepare
    const build: Build = (env) => {
      gen(env)
        .map((x) => x)
        .sinkTo("out")
        .setParallelism(3);
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => [t.id, t.parallelism])).toEqual([
      ["generator-0", 1],
      ["sink-out-2", 3],
    ]);
    expect(task(plan, "sink-out-2").inputs).toEqual([
      { from: "generator-0", sender: "generator-0", partitioner: "rebalance" },
    ]);
  });

  it("runs fromElements at parallelism 1 whatever the default", () => {
    // prepare
    const build: Build = (env) => {
      env.setParallelism(3);
      env
        .fromElements([1, 2, 3])
        .map((x) => x)
        .sinkTo("out");
    };

    // act
    const plan = planOf(build, { parallelism: 3 });

    // assess
    expect(plan.tasks.map((t) => [t.id, t.parallelism])).toEqual([
      ["elements-0", 1],
      ["map-1", 3],
    ]);
    expect(task(plan, "map-1").inputs).toEqual([
      { from: "elements-0", sender: "elements-0", partitioner: "rebalance" },
    ]);
  });

  it("names tasks after the uid of their head operator, explicit or default", () => {
    // prepare
    const build: Build = (env) => {
      env
        .fromGenerator((i) => ({ user: `u${i % 3}`, clicks: 1 }), { count: 9 })
        .uid("clicks-source")
        .keyBy((c) => c.user)
        .sum("clicks")
        .keyBy((c) => c.clicks)
        .reduce((a) => a)
        .uid("my-reduce")
        .sinkTo("totals");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["clicks-source", "sum-clicks-1", "my-reduce"]);
    for (const t of plan.tasks) expect(t.id).toBe(t.operators[0]?.uid);
    expect(task(plan, "my-reduce").operators.map((o) => o.uid)).toEqual(["my-reduce", "sink-totals-3"]);
  });

  it("lists tasks in topological order", () => {
    // prepare
    const build: Build = (env) => {
      const a = gen(env).uid("a");
      const keyed = a
        .keyBy((x) => x)
        .sum()
        .uid("keyed");
      const b = gen(env).uid("b");
      keyed
        .union(b)
        .map((x) => x)
        .uid("joined")
        .sinkTo("out");
    };

    // act
    const plan = planOf(build);

    // assess
    const order = plan.tasks.map((t) => t.id);
    for (const [i, t] of plan.tasks.entries()) {
      for (const input of t.inputs) expect(order.indexOf(input.from)).toBeLessThan(i);
    }
    expect(new Set(order)).toEqual(new Set(["a", "keyed", "b", "joined"]));
  });
});
