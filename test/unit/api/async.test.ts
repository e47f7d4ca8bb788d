import { describe, expect, it } from "vitest";
import { AsyncDataStream } from "../../../core/api/async-stream.ts";
import type { DataStream } from "../../../core/api/datastream.ts";
import { defineJob } from "../../../core/api/environment.ts";
import { JobDefinitionError } from "../../../core/errors.ts";
import { runToCompletion } from "../../../core/runtime/run-to-completion.ts";
import { OperatorHarness } from "../../../core/testing/harness.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("AsyncDataStream", () => {
  it("orderedWait emits results in input order, with at most `capacity` calls in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      AsyncDataStream.orderedWait(
        s,
        async (n: number) => {
          inFlight++;
          most = Math.max(most, inFlight);
          await sleep(30 - n * 5);
          inFlight--;
          return n * 10;
        },
        1000,
        2,
      ),
    );
    await h.processElements([1, 2, 3, 4], [100, 200, 300, 400]);
    await h.processElements([5]);
    expect(h.output()).toEqual([10, 20, 30, 40, 50]);
    expect(most).toBe(2);
  });

  it("unorderedWait emits in completion order", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      AsyncDataStream.unorderedWait(
        s,
        async (n: number) => {
          await sleep(n);
          return n;
        },
        1000,
        10,
      ),
    );
    await h.processElements([40, 1, 20]);
    expect(h.output()).toEqual([1, 20, 40]);
  });

  it("a call past its timeout fails the batch, which commits nothing; the retry calls again", async () => {
    let calls = 0;
    const h = await OperatorHarness.create((s: DataStream<number>) =>
      AsyncDataStream.orderedWait(
        s,
        async (n: number) => {
          calls++;
          if (calls === 2) await sleep(200);
          return n + 1;
        },
        50,
      ).uid("lookup"),
    );
    await expect(h.processElements([1, 2])).rejects.toThrow(
      /operator 'lookup' failed: the async call did not complete within 50 ms/,
    );
    expect(h.output()).toEqual([]);
    await h.processElements([3]);
    expect(h.output()).toEqual([4]);
  });

  it("runs inside a job between other operators, exactly once", async () => {
    const job = defineJob("async-job", (env) => {
      const parsed = env.fromGenerator((i) => i, { count: 200 }).map((i) => ({ i }));
      AsyncDataStream.unorderedWait(parsed, async (r: { i: number }) => r.i * 2, 1000)
        .keyBy((n) => n % 2)
        .sum()
        .sinkTo("sums");
    });
    const out = (await runToCompletion(job)).get("sums") as number[];
    expect(out).toHaveLength(200);
    expect(Math.max(...out)).toBe([...Array(200).keys()].reduce((a, i) => a + i * 2, 0));
  });

  it("refuses a bad timeout or capacity at plan time", async () => {
    await expect(
      OperatorHarness.create((s: DataStream<number>) => AsyncDataStream.orderedWait(s, async (n) => n, 0)),
    ).rejects.toThrow(JobDefinitionError);
    await expect(
      OperatorHarness.create((s: DataStream<number>) => AsyncDataStream.orderedWait(s, async (n) => n, 10, 0)),
    ).rejects.toThrow(JobDefinitionError);
  });
});
