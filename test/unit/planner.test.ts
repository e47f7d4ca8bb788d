import { describe, expect, it } from "vitest";
import { DataStream } from "../../core/api/datastream.ts";
import {
  type BuildOptions,
  buildGraph,
  defineJob,
  type StreamExecutionEnvironment,
} from "../../core/api/environment.ts";
import { CONTROL_CHANNEL, POLL_CHANNEL } from "../../core/envelope.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan, TaskPlan } from "../../core/graph/plan.ts";
import { inputChannels, planJob } from "../../core/graph/planner.ts";

type Build = (env: StreamExecutionEnvironment) => void;

function graphOf(build: Build, options?: BuildOptions): JobGraph {
  return buildGraph(defineJob("plan-test", build), options);
}

function planOf(build: Build, options?: BuildOptions): Plan {
  return planJob(graphOf(build, options));
}

function task(plan: Plan, id: string): TaskPlan {
  const t = plan.tasks.find((x) => x.id === id);
  if (!t) throw new Error(`no task '${id}' in [${plan.tasks.map((x) => x.id).join(", ")}]`);
  return t;
}

const kinds = (t: TaskPlan) => t.operators.map((o) => o.kind);
const gen = (env: StreamExecutionEnvironment) => env.fromGenerator((i) => i, { count: 10 });

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
    expect(upstream.outputs).toEqual([{ to: "sum-2", partitioner: "hash", toNode: 2 }]);
    expect(keyed.inputs).toEqual([{ from: "generator-0", partitioner: "hash" }]);
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
    expect(task(plan, "generator-0").outputs).toEqual([{ to: "map-1", partitioner: "rebalance", toNode: 1 }]);
    expect(task(plan, "map-1").inputs).toEqual([{ from: "generator-0", partitioner: "rebalance" }]);
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
    expect(task(plan, "map-1").inputs).toEqual([{ from: "generator-0", partitioner }]);
  });

  it("does not chain a fan-out: a stream read by two operators ends its task", () => {
    // prepare
    const build: Build = (env) => {
      const doubled = gen(env).map((x) => x * 2);
      doubled.filter((x) => x > 4).sinkTo("big");
      doubled.map((x) => -x).sinkTo("negated");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["generator-0", "filter-2", "map-4"]);
    expect(kinds(task(plan, "generator-0"))).toEqual(["source", "map"]);
    expect(kinds(task(plan, "filter-2"))).toEqual(["filter", "sink"]);
    expect(kinds(task(plan, "map-4"))).toEqual(["map", "sink"]);
    expect(task(plan, "generator-0").outputs).toEqual([
      { to: "filter-2", partitioner: "forward", toNode: 2 },
      { to: "map-4", partitioner: "forward", toNode: 4 },
    ]);
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
      { from: "left", partitioner: "forward" },
      { from: "generator-1", partitioner: "forward" },
    ]);
    expect(kinds(merged)).toEqual(["map", "sink"]);
    expect(kinds(task(plan, "generator-1"))).toEqual(["source", "map"]);
  });

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

  it("offers no keyed process on a plain DataStream", () => {
    // act + assess
    expect("process" in DataStream.prototype).toBe(false);
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
    expect(task(plan, "sink-out-2").inputs).toEqual([{ from: "generator-0", partitioner: "rebalance" }]);
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
    expect(task(plan, "map-1").inputs).toEqual([{ from: "elements-0", partitioner: "rebalance" }]);
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
    const plan = planOf(fanOut);
    const m1 = task(plan, "m1");

    // act
    const channels = [0, 1, 2].map((p) => inputChannels(plan, m1, p));

    // assess
    expect(m1.inputs).toEqual([{ from: "src", partitioner: "forward" }]);
    expect(channels).toEqual([
      [{ id: "src#0", from: "src" }],
      [{ id: "src#1", from: "src" }],
      [{ id: "src#2", from: "src" }],
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
      { from: "a", partitioner: "forward" },
      { from: "b", partitioner: "rebalance" },
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
