/**
 * Embedded, a remote function's batch runs beside the other tasks: while a call is
 * out, the source reads the next slices (core/runtime/round.ts), and the output
 * is still every record once, across checkpoints.
 */
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { RemoteDataStream } from "../../../core/remote/remote-stream.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { answerMap } from "../../support/wire-functions.ts";

describe("remote functions: the source reads ahead while a call is out", () => {
  it("generates records during calls, and the output is every record once", async () => {
    const N = 3000;
    let generated = 0;
    let readDuringCalls = 0;
    const slow: RemoteInvoker = {
      target: "in-process",
      invoke: async (body) => {
        const before = generated;
        await delay(2); // the function's work, on a timer: riffle's thread is free meanwhile
        readDuringCalls += generated - before;
        return answerMap(body, (v) => (v as number) * 2);
      },
    };
    const job = defineJob("remote-overlap", (env) => {
      env.enableCheckpointing(20);
      const numbers = env.fromGenerator(
        (i) => {
          generated++;
          return i;
        },
        { count: N },
      );
      RemoteDataStream.map<number, number>(numbers, { name: "double", target: slow, batchSize: 100 }).sinkTo("out");
    });
    const out: number[] = [];
    const rt = new EmbeddedRuntime(job, {
      parallelism: 1,
      clock: new ManualClock(),
      onOutput: (_s, v) => out.push(...(v as number[])),
    });
    await rt.run();
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i * 2));
    expect(generated).toBe(N);
    expect(readDuringCalls).toBeGreaterThan(0);
  });
});
