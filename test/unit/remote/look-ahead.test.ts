/**
 * Embedded, a remote function's task starts the calls for its next batch once the
 * current slice has its answers (TaskRunnerOptions.lookAhead), so the function works
 * while riffle commits. The calls are made before that batch is received, each record
 * is still asked for once and committed once, in order.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { InMemoryQueue } from "../../../core/memory/in-memory-queue.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { RemoteDataStream } from "../../../core/remote/remote-stream.ts";
import type { WireRequest } from "../../../core/remote/wire.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { answerMap } from "../../support/wire-functions.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("remote functions: calls ahead of the next batch", () => {
  it("asks for a batch's records before the batch is received, each record once", async () => {
    const N = 5000;
    const received = new Set<unknown>(); // records the remote task has received
    const receive = InMemoryQueue.prototype.receive;
    vi.spyOn(InMemoryQueue.prototype, "receive").mockImplementation(async function (this: InMemoryQueue, task, max) {
      const msgs = await receive.call(this, task, max);
      for (const m of msgs) for (const r of m.body.records) received.add(r);
      return msgs;
    });
    const asked: number[] = [];
    let ahead = 0; // records asked for before their batch was received
    const invoker: RemoteInvoker = {
      target: "in-process",
      invoke: async (body) => {
        for (const v of (JSON.parse(body) as WireRequest).groups.flatMap((g) => g.values as number[])) {
          asked.push(v);
          if (!received.has(v)) ahead++;
        }
        return answerMap(body, (v) => (v as number) + 1);
      },
    };
    const job = defineJob("remote-look-ahead", (env) => {
      const numbers = env.fromGenerator((i) => i, { count: N });
      RemoteDataStream.map<number, number>(numbers, { name: "inc", target: invoker, batchSize: 50 }).sinkTo("out");
    });
    const out: number[] = [];
    await new EmbeddedRuntime(job, {
      parallelism: 1,
      clock: new ManualClock(),
      onOutput: (_s, v) => out.push(...(v as number[])),
    }).run();

    expect(out).toEqual([...received].map((v) => (v as number) + 1)); // in the order the task received them
    expect(received.size).toBe(N);
    expect([...asked].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i)); // once each
    expect(ahead).toBeGreaterThan(N / 10); // without the look-ahead: 0
  });
});
