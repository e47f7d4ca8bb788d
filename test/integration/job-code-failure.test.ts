/**
 * A mistake in the job's code fails the job at once in the embedded runtime, as on
 * AWS: no retry, no restart, no dead letter, and the job record says `failed` with
 * the error, so `riffle checkpoints` and `GET /jobs` report it. The mistakes: a
 * plain `map` (or filter, flatMap) whose function returns a Promise at run time (it
 * type-checked through `any`, or the job is JavaScript), and state the store cannot
 * hold.
 */
import { describe, expect, it } from "vitest";
import { defineJob, type StreamExecutionEnvironment } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { AsyncResultError, JobCodeError, StateValueError } from "../../core/errors.ts";
import { EmbeddedRuntime, JobFailedError } from "../../core/runtime/embedded.ts";

// biome-ignore lint/suspicious/noExplicitAny: the point is a function that escaped the types
type Untyped = (v: any) => any;

const promised: Untyped = (n: number) => Promise.resolve(n * 2);

async function run(build: (env: StreamExecutionEnvironment) => void) {
  const rt = new EmbeddedRuntime(defineJob("mistaken", build), {});
  const error = await rt.run().then(
    () => undefined,
    (e: unknown) => e,
  );
  const record = await rt.checkpoints.loadJob("mistaken");
  return { rt, error, record };
}

describe("a plain map, filter or flatMap that returns a Promise fails the job", () => {
  for (const strategy of ["restart", "dead-letter"] as const) {
    it(`map, with record failure strategy '${strategy}': at once, naming the operator and AsyncDataStream`, async () => {
      const { rt, error, record } = await run((env) => {
        env.setRecordFailureStrategy(strategy);
        env
          .fromElements([1, 2, 3, 4])
          .map(promised as (n: number) => number)
          .uid("doubler")
          .sinkTo("out");
      });
      expect(error).toBeInstanceOf(JobFailedError);
      const cause = (error as JobFailedError).cause;
      expect(cause).toBeInstanceOf(AsyncResultError);
      expect(cause).toBeInstanceOf(JobCodeError);
      expect((cause as AsyncResultError).operator).toBe("doubler");
      const message = (error as Error).message;
      expect(message).toMatch(/^job 'mistaken' failed: .*operator 'doubler': map returned a Promise/);
      expect(message).toContain("use AsyncDataStream.orderedWait/unorderedWait");
      expect(message).not.toContain("\n");
      expect(rt.restarts).toBe(0);
      expect(rt.deadLetters).toEqual([]);
      expect(rt.queueDeadLetters()).toEqual([]);
      expect(record?.failed).toBe(message);
    });
  }

  it("filter and flatMap too", async () => {
    for (const [what, build] of [
      ["filter", (env: StreamExecutionEnvironment) => env.fromElements([1]).filter(promised).uid("f").sinkTo("o")],
      ["flatMap", (env: StreamExecutionEnvironment) => env.fromElements([1]).flatMap(promised).uid("f").sinkTo("o")],
    ] as const) {
      const { rt, error, record } = await run(build);
      expect((error as JobFailedError).cause, what).toBeInstanceOf(AsyncResultError);
      expect(record?.failed, what).toContain(`operator 'f': ${what} returned a Promise`);
      expect(rt.restarts, what).toBe(0);
    }
  });
});

describe("the job record says failed for every mistake in the job's code", () => {
  it("state the store cannot hold (a Map)", async () => {
    const { error, record } = await run((env) => {
      env
        .fromElements([1, 2])
        .keyBy((n) => n)
        .process({
          state: { s: valueState<unknown>() },
          processElement(n, ctx) {
            ctx.state.s.update(new Map([[n, n]]));
          },
        })
        .uid("mapper")
        .sinkTo("out");
    });
    expect((error as JobFailedError).cause).toBeInstanceOf(StateValueError);
    expect(record?.failed).toMatch(/^job 'mistaken' failed: .*operator 'mapper' wrote a Map to state 's'/);
  });
});
