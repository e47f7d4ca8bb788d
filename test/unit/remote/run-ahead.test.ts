/**
 * Embedded, a remote function's task runs its batches across the scheduler's rounds
 * (core/runtime/round.ts): checkpoints, ticks and failovers happen while a call is
 * out. Failovers requested while calls are out, and calls that fail, must still give
 * every record once, in input order (parallelism 1: one partition, one queue).
 */
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { RemoteDataStream } from "../../../core/remote/remote-stream.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { answerMap } from "../../support/wire-functions.ts";

describe("remote functions: batches across rounds", () => {
  it("failovers while calls are out, and failed calls, keep every record once and in order", async () => {
    const N = 4000;
    let calls = 0;
    let out = 0;
    let failoversWhileOut = 0;
    let rt: EmbeddedRuntime | undefined;
    const slow: RemoteInvoker = {
      target: "in-process",
      invoke: async (body) => {
        const call = ++calls;
        out++;
        try {
          if (call % 9 === 0 && failoversWhileOut < 5) {
            rt?.requestFailover(`test failover at call ${call}`); // taken at the loop's next turn, this call out
            failoversWhileOut++;
          }
          await delay(1);
          if (call % 23 === 0 && call < 200) throw new Error(`call ${call} failed`); // the batch fails, its slice runs again
          return answerMap(body, (v) => (v as number) * 2);
        } finally {
          out--;
        }
      },
    };
    const job = (remote: boolean) =>
      defineJob("remote-run-ahead", (env) => {
        env.enableCheckpointing(5);
        env.setRestartStrategy({ attempts: 100, delayMs: 0 });
        const numbers = env.fromGenerator((i) => i, { count: N });
        const spec = { name: "double", target: slow, batchSize: 100, retries: 0 };
        const doubled = remote
          ? RemoteDataStream.map<number, number>(numbers, spec)
          : numbers.rebalance().map((v) => v * 2);
        doubled.uid("double").sinkTo("out");
      });
    const run = async (remote: boolean) => {
      const seen: number[] = [];
      const r = new EmbeddedRuntime(job(remote), {
        parallelism: 1,
        clock: new ManualClock(),
        retryDelayMs: 1,
        onOutput: (_s, v) => seen.push(...(v as number[])),
      });
      if (remote) rt = r;
      await r.run();
      return seen;
    };
    const expected = await run(false); // the source's order, no failure
    expect([...expected].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i * 2));
    const seen = await run(true);
    expect(failoversWhileOut).toBeGreaterThanOrEqual(3);
    expect(rt?.restarts).toBeGreaterThanOrEqual(3);
    expect(out).toBe(0);
    expect(seen).toEqual(expected);
  }, 60_000);
});
