/**
 * Mistakes the graph shows fail at plan time with a one-line error, before any
 * record runs: no dead letters, no restarts.
 */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../core/api/datastream.ts";
import { buildGraph, defineJob, type StreamExecutionEnvironment } from "../../core/api/environment.ts";
import { ingestSource } from "../../core/api/ingest.ts";
import { intervalJoin } from "../../core/api/joins.ts";
import { WatermarkStrategy } from "../../core/api/watermarks.ts";
import {
  type AggregateFunction,
  EventTimeSessionWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from "../../core/api/windows.ts";
import { JobDefinitionError, UsageError } from "../../core/errors.ts";
import { planJob } from "../../core/graph/planner.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { OperatorHarness } from "../../core/testing/harness.ts";

const count: AggregateFunction<number, number, number> = {
  createAccumulator: () => 0,
  add: (_v, n) => n + 1,
  getResult: (n) => n,
};

/** Plans a job built by `build`; resolves with the error, or undefined. */
function planError(build: (env: StreamExecutionEnvironment) => void): unknown {
  try {
    planJob(buildGraph(defineJob("checked", build)));
    return undefined;
  } catch (e) {
    return e;
  }
}

function expectOneLine(error: unknown, type: new (...a: never[]) => Error, pattern: RegExp): void {
  expect(error).toBeInstanceOf(type);
  const message = (error as Error).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain("\n");
}

const stamped = (env: StreamExecutionEnvironment) =>
  env
    .fromElements([1, 2, 3])
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n));

describe("plan-time checks", () => {
  it("a session window whose aggregate has no merge()", async () => {
    const error = await OperatorHarness.create((s: DataStream<number>) =>
      s
        .keyBy((n) => n % 2)
        .window(EventTimeSessionWindows.withGap(10))
        .aggregate(count),
    ).catch((e: unknown) => e);
    expectOneLine(error, JobDefinitionError, /session window's aggregate function needs merge/);
    // With merge() it plans.
    await OperatorHarness.create((s: DataStream<number>) =>
      s
        .keyBy((n) => n % 2)
        .window(EventTimeSessionWindows.withGap(10))
        .aggregate({ ...count, merge: (a, b) => a + b }),
    );
  });

  it("an event-time window with no timestamps assigned upstream", () => {
    const error = planError((env) =>
      env
        .fromElements([1, 2, 3])
        .map((n) => n * 2)
        .keyBy((n) => n % 2)
        .window(TumblingEventTimeWindows.of(10))
        .aggregate(count)
        .uid("counts")
        .sinkTo("out"),
    );
    expectOneLine(
      error,
      JobDefinitionError,
      /event-time operator 'counts' .* without event times: call assignTimestamps/,
    );
    // One path of a union without timestamps is enough to refuse.
    const union = planError((env) =>
      stamped(env)
        .union(env.fromElements([4]))
        .keyBy((n) => n % 2)
        .window(TumblingEventTimeWindows.of(10))
        .aggregate(count)
        .sinkTo("out"),
    );
    expectOneLine(union, JobDefinitionError, /without event times/);
    // With timestamps upstream, or in processing time, it plans.
    for (const ok of [
      (env: StreamExecutionEnvironment) =>
        stamped(env)
          .keyBy((n) => n % 2)
          .window(TumblingEventTimeWindows.of(10))
          .aggregate(count)
          .sinkTo("out"),
      (env: StreamExecutionEnvironment) =>
        env
          .fromElements([1])
          .keyBy((n) => n % 2)
          .window(TumblingProcessingTimeWindows.of(10))
          .aggregate(count)
          .sinkTo("out"),
    ])
      expect(planError(ok)).toBeUndefined();
  });

  it("an interval join with no timestamps assigned on one of its inputs", () => {
    const joined = (stampLeft: boolean, stampRight: boolean) =>
      planError((env) => {
        const left = env.fromElements([1, 2, 3]);
        const right = env.fromElements([2, 3, 4]);
        intervalJoin(
          (stampLeft ? stamped(env) : left).keyBy((n) => n % 2),
          (stampRight ? stamped(env) : right).keyBy((n) => n % 2),
        )
          .between(-1, 1)
          .process((x, y) => x + y)
          .uid("joined")
          .sinkTo("out");
      });
    for (const [l, r] of [
      [false, true],
      [true, false],
      [false, false],
    ] as const) {
      expectOneLine(
        joined(l, r),
        JobDefinitionError,
        /event-time operator 'joined' .* without event times: call assignTimestamps/,
      );
    }
    expect(joined(true, true)).toBeUndefined();
  });

  it(".broadcast() before connect().keyBy() or keyBy() is refused, not replaced by a hash edge", () => {
    const connected = planError((env) => {
      const rules = env.fromElements(["r"]).broadcast();
      env
        .fromElements(["a"])
        .connect(rules)
        .keyBy(
          (a) => a,
          (r) => r,
        )
        .process({ processElement1() {}, processElement2() {} })
        .sinkTo("out");
    });
    expectOneLine(connected, JobDefinitionError, /\.broadcast\(\) followed by keyBy\(\)/);
    const keyed = planError((env) =>
      env
        .fromElements([1])
        .broadcast()
        .keyBy((n) => n)
        .sum()
        .sinkTo("out"),
    );
    expectOneLine(keyed, JobDefinitionError, /\.broadcast\(\) followed by keyBy\(\)/);
    const rebalanced = planError((env) => env.fromElements([1]).broadcast().rebalance().sinkTo("out"));
    expectOneLine(rebalanced, JobDefinitionError, /\.broadcast\(\) followed by rebalance\(\)/);
    expect(planError((env) => env.fromElements([1]).broadcast().map(String).sinkTo("out"))).toBeUndefined();
  });

  it("an ingest source where nothing can feed it (an embedded runtime without an ingest log)", () => {
    const job = defineJob("fed-by-http", (env) => {
      env.fromSource(ingestSource<number>("numbers")).sinkTo("out");
    });
    let error: unknown;
    try {
      new EmbeddedRuntime(job, {});
    } catch (e) {
      error = e;
    }
    expectOneLine(error, UsageError, /reads the ingest source 'numbers', which only the HTTP API feeds/);
  });
});
