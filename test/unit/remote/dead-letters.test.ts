/**
 * A record a keyed remote function keeps failing is dead-lettered like a record whose
 * local function throws (same path, same attempts), its state change left out: the
 * key's other records count on as if it never came.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import type { RemoteInvoker } from "../../../core/remote/invoker.ts";
import { remoteProcess } from "../../../core/remote/remote-process.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { answerProcess } from "../../support/wire-functions.ts";

/** A keyed counter in this process; record 13 always fails. */
const counter: RemoteInvoker = {
  target: "in-process",
  invoke: async (body) =>
    answerProcess(body, (key, state, v) => {
      if (v === 13) throw new Error("13 is cursed");
      const n = ((state as number | null) ?? 0) + 1;
      return [n, [{ key, n, v }]];
    }),
};

describe("remote functions: dead letters", () => {
  it("dead-letters the failing record with its error; the key's count skips it", async () => {
    const job = defineJob("remote-dlq", (env) => {
      env.setRecordFailureStrategy("dead-letter");
      env
        .fromGenerator((i) => i, { count: 40 })
        .keyBy((i) => i % 2)
        .process(remoteProcess<number, { key: number; n: number; v: number }>({ name: "count", target: counter }))
        .uid("counter")
        .sinkTo("out");
    });
    const out: { key: number; n: number; v: number }[] = [];
    const rt = new EmbeddedRuntime(job, {
      clock: new ManualClock(),
      retryDelayMs: 1,
      onOutput: (_s, v) => out.push(...(v as typeof out)),
    });
    await rt.run();
    expect(rt.deadLetters).toHaveLength(1);
    expect(rt.deadLetters[0]).toMatchObject({
      operator: "counter",
      value: 13,
      error: expect.stringMatching(/13 is cursed/),
    });
    const odd = out.filter((o) => o.key === 1).sort((a, b) => a.v - b.v);
    expect(odd.map((o) => o.v)).toEqual([1, 3, 5, 7, 9, 11, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39]);
    // The generator's splits interleave, so counts follow arrival, not the values' order.
    expect(odd.map((o) => o.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(
      out
        .filter((o) => o.key === 0)
        .map((o) => o.n)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
