/**
 * The rescale decision from lag (`core/checkpoint/autoscale.ts`): out when the
 * backlog would not drain within the target, sized so that it does; in only after
 * staying underused for the cooldown; never within the cooldown of a change.
 */

import { describe, expect, it } from "vitest";
import { DEFAULT_AWS_CONFIG, mergeAwsConfig } from "../../core/api/aws-config.ts";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { type AutoscaleMemory, decideParallelism, lagSeconds, type TaskLoad } from "../../core/checkpoint/autoscale.ts";
import { JobDefinitionError } from "../../core/errors.ts";
import { planJob } from "../../core/graph/planner.ts";
import { rescaledPlan, scalableTasks } from "../../core/graph/rescale.ts";

const config = { min: 1, max: 8, targetLagSeconds: 10, cooldownSeconds: 30 };
const S = 1000;

describe("decideParallelism", () => {
  it("scales out so that the backlog drains within the target at the rate one partition achieved", () => {
    // 1 partition does 20 msg/s; 1,000 messages need 50 s; to drain in 10 s: 100 msg/s = 5 partitions.
    const d = decideParallelism({ backlog: 1000, ratePerSecond: 20, parallelism: 1 }, config, {}, 100 * S);
    expect(d.parallelism).toBe(5);
    expect(d.memory).toEqual({ changedAt: 100 * S });
    // 2 partitions at 20 msg/s together (10 each): 400 messages → 4 partitions.
    expect(decideParallelism({ backlog: 400, ratePerSecond: 20, parallelism: 2 }, config, {}, 0).parallelism).toBe(4);
  });

  it("keeps the parallelism while the backlog drains within the target", () => {
    // 150 messages at 20 msg/s: 7.5 s, under 10 s, above the low-water mark (2.5 s).
    const d = decideParallelism({ backlog: 150, ratePerSecond: 20, parallelism: 3 }, config, { lowSince: 5 }, 0);
    expect(d.parallelism).toBe(3);
    expect(d.memory.lowSince).toBeUndefined();
  });

  it("scales out by at least one, at most to max, and doubles when nothing was processed", () => {
    // Lag 10.5 s: just behind; the sizing says 2 (rounding up 1.05) but never less than one more.
    expect(decideParallelism({ backlog: 210, ratePerSecond: 20, parallelism: 2 }, config, {}, 0).parallelism).toBe(3);
    expect(decideParallelism({ backlog: 1e6, ratePerSecond: 1, parallelism: 2 }, config, {}, 0).parallelism).toBe(8);
    expect(decideParallelism({ backlog: 31, ratePerSecond: 0, parallelism: 3 }, config, {}, 0).parallelism).toBe(6);
    const atMax = decideParallelism({ backlog: 1e6, ratePerSecond: 1, parallelism: 8 }, config, {}, 0);
    expect(atMax.parallelism).toBe(8);
  });

  it("scales out when the oldest message is older than the target, even with a small backlog", () => {
    const load = { backlog: 10, ratePerSecond: 100, oldestAgeSeconds: 11, parallelism: 1 };
    expect(decideParallelism(load, config, {}, 0).parallelism).toBe(2);
    expect(decideParallelism({ ...load, oldestAgeSeconds: 9 }, config, {}, 0).parallelism).toBe(1);
  });

  it("does not scale out for a backlog of one batch per partition or less, however slow", () => {
    // Barriers and ticks keep a few messages in a quiet task's queue.
    const d = decideParallelism({ backlog: 20, ratePerSecond: 1, parallelism: 2 }, config, {}, 0);
    expect(d.parallelism).toBe(2);
    // 21 messages at 0.5 msg/s per partition, to drain in 10 s: 5 partitions.
    expect(decideParallelism({ backlog: 21, ratePerSecond: 1, parallelism: 2 }, config, {}, 0).parallelism).toBe(5);
  });

  it("counts a task whose queue holds at most one message per partition as underused", () => {
    const quiet: TaskLoad = { backlog: 3, ratePerSecond: 0.5, parallelism: 4 }; // 6 s of lag: above the low water
    let memory: AutoscaleMemory = {};
    expect(decideParallelism(quiet, config, memory, 0).reason).toBe("underused");
    memory = decideParallelism(quiet, config, memory, 0).memory;
    expect(decideParallelism(quiet, config, memory, 30 * S).parallelism).toBe(2);
    expect(decideParallelism({ ...quiet, backlog: 5 }, config, {}, 0).reason).toBe("on target");
  });

  it("decides nothing before the first window has a rate", () => {
    const d = decideParallelism({ backlog: 1e6, parallelism: 1 }, config, {}, 0);
    expect(d).toEqual({ parallelism: 1, memory: {}, reason: "measuring" });
  });

  it("does not change again within the cooldown of the last change", () => {
    const memory = { changedAt: 100 * S };
    const behind: TaskLoad = { backlog: 600, ratePerSecond: 20, parallelism: 2 }; // 10 msg/s each: 6 partitions
    expect(decideParallelism(behind, config, memory, 129 * S).parallelism).toBe(2);
    expect(decideParallelism(behind, config, memory, 130 * S).parallelism).toBe(6);
  });

  it("scales an idle task in to min only after it stayed underused for the cooldown", () => {
    const idle: TaskLoad = { backlog: 0, ratePerSecond: 0, parallelism: 4 };
    let memory: AutoscaleMemory = { changedAt: 0 };
    const at = (t: number) => {
      const d = decideParallelism(idle, config, memory, t * S);
      memory = d.memory;
      return d.parallelism;
    };
    expect(at(40)).toBe(4); // underused from now on
    expect(memory.lowSince).toBe(40 * S);
    expect(at(69)).toBe(4);
    expect(at(70)).toBe(1);
    expect(memory).toEqual({ changedAt: 70 * S });
  });

  it("halves a task that is busy but underused, and a busy spell restarts the wait", () => {
    const light: TaskLoad = { backlog: 10, ratePerSecond: 40, parallelism: 4 }; // 0.25 s of lag
    const busy: TaskLoad = { ...light, backlog: 200 }; // 5 s
    let memory: AutoscaleMemory = {};
    const step = (load: TaskLoad, t: number) => {
      const d = decideParallelism(load, config, memory, t * S);
      memory = d.memory;
      return d.parallelism;
    };
    expect(step(light, 0)).toBe(4);
    expect(step(busy, 20)).toBe(4); // not underused: the wait starts again
    expect(step(light, 25)).toBe(4);
    expect(step(light, 50)).toBe(4);
    expect(step(light, 55)).toBe(2);
  });

  it("brings a task outside [min, max] back inside at once", () => {
    const d = decideParallelism({ backlog: 0, ratePerSecond: 0, parallelism: 12 }, config, { changedAt: 0 }, 1);
    expect(d.parallelism).toBe(8);
    expect(
      decideParallelism({ backlog: 0, ratePerSecond: 0, parallelism: 1 }, { ...config, min: 2 }, {}, 0).parallelism,
    ).toBe(2);
  });

  it("stays at min when idle at min", () => {
    const d = decideParallelism({ backlog: 0, ratePerSecond: 0, parallelism: 1 }, config, {}, 10 * S);
    expect(d.parallelism).toBe(1);
  });
});

describe("lagSeconds", () => {
  it("is the backlog over the rate; zero with no backlog; infinite with a backlog and no rate", () => {
    expect(lagSeconds(100, 20)).toBe(5);
    expect(lagSeconds(0, 0)).toBe(0);
    expect(lagSeconds(1, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("configureAws({ autoscale })", () => {
  it("takes min, max and targetLagSeconds, with a default cooldown", () => {
    const c = mergeAwsConfig(DEFAULT_AWS_CONFIG, { autoscale: { min: 1, max: 4, targetLagSeconds: 30 } });
    expect(c.autoscale).toEqual({ min: 1, max: 4, targetLagSeconds: 30, cooldownSeconds: 60 });
    expect(DEFAULT_AWS_CONFIG.autoscale).toBeUndefined();
  });

  it("refuses bounds that make no sense, naming the setting", () => {
    const bad = (autoscale: object) => () => mergeAwsConfig(DEFAULT_AWS_CONFIG, { autoscale } as never);
    expect(bad({ min: 0, max: 4, targetLagSeconds: 30 })).toThrow(/autoscale\.min must be an integer from 1/);
    expect(bad({ min: 3, max: 2, targetLagSeconds: 30 })).toThrow(
      /autoscale\.max \(2\) must be at least autoscale\.min \(3\)/,
    );
    expect(bad({ min: 1, max: 2 })).toThrow(/autoscale\.targetLagSeconds is required/);
    expect(bad({ min: 1, max: 2, targetLagSeconds: 0.5 })).toThrow(/targetLagSeconds must be an integer/);
  });
});

describe("autoscale at plan time", () => {
  const keyed = (max: number) =>
    defineJob("scaled", (env) => {
      env.setMaxParallelism(4);
      env.configureAws({ autoscale: { min: 1, max, targetLagSeconds: 5 } });
      env
        .fromElements([1, 2, 3])
        .uid("src")
        .keyBy((x) => String(x))
        .process({ processElement: (x, ctx) => ctx.emit(x) })
        .uid("count")
        .sinkTo("out");
    });

  it("refuses a max above maxParallelism when the job is planned", () => {
    expect(planJob(buildGraph(keyed(4))).maxParallelism).toBe(4);
    expect(() => planJob(buildGraph(keyed(5)))).toThrow(JobDefinitionError);
    expect(() => planJob(buildGraph(keyed(5)))).toThrow(/autoscale\.max \(5\) is above maxParallelism 4/);
  });

  it("rescales only tasks with no forward edge that are not sources", () => {
    const plan = planJob(buildGraph(keyed(4)));
    expect(scalableTasks(plan).map((t) => t.id)).toEqual(["count"]);
    const wide = rescaledPlan(plan, { count: 3, src: 1 });
    expect(wide.tasks.find((t) => t.id === "count")?.parallelism).toBe(3);
    expect(rescaledPlan(plan, { count: 1 })).toBe(plan);
    expect(() => rescaledPlan(plan, { src: 2 })).toThrow(/task 'src' .* cannot run at parallelism 2/);
  });
});
