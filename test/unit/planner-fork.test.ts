// Forked chains: which consumers of an operator chain into its task, and what leaves it.

import { describe, expect, it } from "vitest";
import { AsyncDataStream } from "../../core/api/async-stream.ts";
import { defineJob } from "../../core/api/environment.ts";
import { OutputTag } from "../../core/api/output-tag.ts";
import { describePlan } from "../../core/graph/describe.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { type Build, gen, kinds, planOf, task } from "./planner-helpers.ts";

describe("planJob forks", () => {
  it("chains every forward consumer of equal parallelism, and nothing else", () => {
    // prepare
    const build: Build = (env) => {
      env.setParallelism(2);
      const src = gen(env).uid("src");
      src
        .map((x) => x + 1)
        .uid("a")
        .sinkTo("a");
      src
        .filter((x) => x > 1)
        .uid("b")
        .sinkTo("b");
      src
        .map((x) => x)
        .uid("wide")
        .setParallelism(3)
        .sinkTo("wide");
      src
        .keyBy((x) => x % 2)
        .sum()
        .uid("keyed")
        .sinkTo("keyed");
      AsyncDataStream.orderedWait(src, async (x: number) => x, 1000)
        .uid("async")
        .sinkTo("async");
      src
        .rebalance()
        .map((x) => x)
        .uid("rebalanced")
        .sinkTo("rebalanced");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["src", "wide", "keyed", "async", "rebalanced"]);
    const src = task(plan, "src");
    expect(src.operators.map((o) => [o.uid, o.input])).toEqual([
      ["src", undefined],
      ["a", 0],
      ["sink-a-2", 1],
      ["b", 0],
      ["sink-b-4", 3],
    ]);
    // Every edge that leaves leaves from the source: its sender is the task.
    expect(src.outputs.map((o) => [o.to, o.partitioner, o.sender])).toEqual([
      ["wide", "rebalance", "src"],
      ["keyed", "hash", "src"],
      ["async", "forward", "src"],
      ["rebalanced", "rebalance", "src"],
    ]);
    expect(kinds(task(plan, "wide"))).toEqual(["map", "sink"]);
  });

  it("names each emitting operator's channels when edges leave from several operators of a chain", () => {
    // prepare: two branches of one source keyed into one two-input operator (a SQL join's shape)
    const build: Build = (env) => {
      const src = gen(env).uid("src");
      const left = src.filter((x) => x % 2 === 0).uid("left");
      const right = src.map((x) => x * 10).uid("right");
      left
        .connect(right)
        .keyBy(
          (x) => x,
          (x) => x / 10,
        )
        .process({ processElement1() {}, processElement2() {} })
        .uid("join")
        .sinkTo("out");
    };

    // act
    const plan = planOf(build);

    // assess
    expect(plan.tasks.map((t) => t.id)).toEqual(["src", "join"]);
    expect(task(plan, "src").outputs).toEqual([
      { to: "join", partitioner: "hash", toNode: 3, fromNode: 1, sender: "src/left" },
      { to: "join", partitioner: "hash", toNode: 3, fromNode: 2, sender: "src/right" },
    ]);
    expect(task(plan, "join").inputs).toEqual([
      { from: "src", sender: "src/left", partitioner: "hash" },
      { from: "src", sender: "src/right", partitioner: "hash" },
    ]);
    expect(describePlan(plan)).toContain("  in  ← src/left (hash)\n  in  ← src/right (hash)");
    expect(describePlan(plan)).toContain("  out → join (hash) from right");
  });

  it("still refuses a stream unioned with itself, and accepts a union of two branches of one chain", () => {
    const self: Build = (env) => {
      const src = gen(env).uid("src");
      src
        .union(src)
        .map((x) => x)
        .uid("u")
        .sinkTo("out");
    };
    expect(() => planOf(self)).toThrow("'u' reads 'src' twice (a stream unioned with itself)");
    const branches: Build = (env) => {
      const src = gen(env).uid("src");
      src
        .map((x) => x)
        .uid("a")
        .union(src.map((x) => -x).uid("b"))
        .map((x) => x)
        .uid("u")
        .sinkTo("out");
    };
    expect(task(planOf(branches), "u").inputs.map((i) => i.sender)).toEqual(["src/a", "src/b"]);
  });

  it("runs a fork whose operator emits side outputs: each chained edge and each out edge gets its own output", async () => {
    const odd = new OutputTag<string>("odd");
    const job = defineJob("side-fork", (env) => {
      env.setParallelism(2);
      const main = env
        .fromGenerator((i) => i, { count: 20 })
        .process<number>({
          processElement(n, ctx) {
            if (n % 2 === 0) ctx.emit(n);
            else ctx.output(odd, `odd ${n}`);
          },
        })
        .uid("split");
      main
        .getSideOutput(odd)
        .map((s) => s.toUpperCase())
        .sinkTo("odd");
      main.map((n) => n * 10).sinkTo("even");
      main
        .getSideOutput(odd)
        .keyBy((s) => s.length)
        .map((s) => s.length)
        .sinkTo("lengths");
    });
    const out = await runToCompletion(job);
    const odds = Array.from({ length: 10 }, (_, i) => 2 * i + 1);
    expect([...(out.get("odd") ?? [])].sort()).toEqual(odds.map((n) => `ODD ${n}`).sort());
    expect([...(out.get("even") ?? [])].sort((a, b) => Number(a) - Number(b))).toEqual(odds.map((n) => (n - 1) * 10));
    expect((out.get("lengths") ?? []).length).toBe(10);
  });
});
