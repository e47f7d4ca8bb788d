// planJob: how operators chain into tasks and which edges join the tasks.

import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import { planJob } from "../../core/graph/planner.ts";
import { type Build, gen, graphOf, kinds, planOf, task } from "./planner-helpers.ts";

describe("planJob chaining", () => {
  it("chains source → map → filter → sink of equal parallelism into one task", () => {
    // prepare
    const build: Build = (env) => {
      env.setParallelism(2);
      gen(env)
        .map((x) => x + 1)
        .filter((x) => x > 0)
        .sinkTo("out");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks).toHaveLength(1);
    const [only] = plan.tasks;
    expect(only?.id).toBe("generator-0");
    expect(only?.operators.map((o) => o.kind)).toEqual(["source", "map", "filter", "sink"]);
    expect(only?.operators.map((o) => o.uid)).toEqual(["generator-0", "map-1", "filter-2", "sink-out-3"]);
    expect(only?.parallelism).toBe(2);
    expect(only?.isSource).toBe(true);
    expect(only?.keyed).toBe(false);
    expect(only?.inputs).toEqual([]);
    expect(only?.outputs).toEqual([]);
  });

  it("splits at keyBy into two tasks joined by a hash edge", () => {
    // prepare
    const build: Build = (env) => {
      gen(env)
        .map((x) => x * 2)
        .keyBy((x) => x % 3)
        .sum()
        .sinkTo("sums");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["generator-0", "sum-2"]);
    const upstream = task(plan, "generator-0");
    const keyed = task(plan, "sum-2");
    expect(kinds(upstream)).toEqual(["source", "map"]);
    expect(kinds(keyed)).toEqual(["process", "sink"]);
    expect(upstream.outputs).toEqual([
      { to: "sum-2", partitioner: "hash", toNode: 2, fromNode: 1, sender: "generator-0" },
    ]);
    expect(keyed.inputs).toEqual([{ from: "generator-0", sender: "generator-0", partitioner: "hash" }]);
    expect(keyed.keyed).toBe(true);
    expect(keyed.isSource).toBe(false);
  });

  it("puts a rebalance edge between operators of different parallelism by default", () => {
    // prepare
    const build: Build = (env) => {
      env.setParallelism(2);
      gen(env)
        .map((x) => x)
        .setParallelism(3)
        .sinkTo("out")
        .setParallelism(3);
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => [t.id, t.parallelism])).toEqual([
      ["generator-0", 2],
      ["map-1", 3],
    ]);
    expect(task(plan, "generator-0").outputs).toEqual([
      { to: "map-1", partitioner: "rebalance", toNode: 1, fromNode: 0, sender: "generator-0" },
    ]);
    expect(task(plan, "map-1").inputs).toEqual([
      { from: "generator-0", sender: "generator-0", partitioner: "rebalance" },
    ]);
    expect(kinds(task(plan, "map-1"))).toEqual(["map", "sink"]);
  });

  it("rejects an explicit forward() between operators of different parallelism", () => {
    // prepare
    const graph = graphOf((env) => {
      env.setParallelism(2);
      gen(env)
        .forward()
        .map((x) => x)
        .setParallelism(3)
        .sinkTo("out");
    });

    // act + assess
    expect(() => planJob(graph)).toThrow(JobDefinitionError);
    expect(() => planJob(graph)).toThrow(/forward edge.*needs equal parallelism/);
  });

  it("chains across an explicit forward() of equal parallelism", () => {
    // prepare
    const build: Build = (env) => {
      env.setParallelism(2);
      gen(env)
        .forward()
        .map((x) => x)
        .sinkTo("out");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks).toHaveLength(1);
  });

  it.each([
    ["rebalance", (s: DataStream<number>) => s.rebalance()],
    ["broadcast", (s: DataStream<number>) => s.broadcast()],
  ] as const)("does not chain across an explicit %s() even at equal parallelism", (partitioner, repartition) => {
    // prepare
    const build: Build = (env) => {
      repartition(gen(env))
        .map((x) => x)
        .sinkTo("out");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["generator-0", "map-1"]);
    expect(task(plan, "map-1").inputs).toEqual([{ from: "generator-0", sender: "generator-0", partitioner }]);
  });

  it("chains a fan-out into one task: a stream read by two forward operators forks its chain", () => {
    // prepare
    const build: Build = (env) => {
      const doubled = gen(env).map((x) => x * 2);
      doubled.filter((x) => x > 4).sinkTo("big");
      doubled.map((x) => -x).sinkTo("negated");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["generator-0"]);
    const t = task(plan, "generator-0");
    expect(kinds(t)).toEqual(["source", "map", "filter", "sink", "map", "sink"]);
    // Each operator names the chained operator that feeds it: map-1 forks into filter-2 and map-4.
    expect(t.operators.map((o) => o.input)).toEqual([undefined, 0, 1, 2, 1, 4]);
    expect(t.outputs).toEqual([]);
  });

  it("plans a union of two upstream tasks as one task with two inputs", () => {
    // prepare
    const build: Build = (env) => {
      const left = gen(env).uid("left");
      const right = gen(env)
        .map((x) => x + 100)
        .uid("right-map");
      left
        .union(right)
        .map((x) => x)
        .uid("merged")
        .sinkTo("out");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["left", "generator-1", "merged"]);
    const merged = task(plan, "merged");
    expect(merged.inputs).toEqual([
      { from: "left", sender: "left", partitioner: "forward" },
      { from: "generator-1", sender: "generator-1", partitioner: "forward" },
    ]);
    expect(kinds(merged)).toEqual(["map", "sink"]);
    expect(kinds(task(plan, "generator-1"))).toEqual(["source", "map"]);
  });
});
