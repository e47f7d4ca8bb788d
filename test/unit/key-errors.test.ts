/**
 * A key selector that throws, or gives a key riffle cannot encode (NaN), fails the keyed
 * operator on that record alike at every parallelism: at one partition the keyed operator
 * computes the key itself, at more the upstream router does (core/runtime/router.ts). Either way
 * the record is dead-lettered under the keyed operator's uid and the others count once.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";

function job(parallelism: number, bad: "nan" | "throw") {
  return defineJob("key-errors", (env) => {
    env.setRecordFailureStrategy("dead-letter");
    env
      .fromGenerator((i) => i, { count: 100 })
      .setParallelism(parallelism)
      .keyBy((i) => {
        if (i !== 7) return i % 5;
        if (bad === "nan") return Number.NaN;
        throw new Error("no key for 7");
      })
      .process({
        state: { n: valueState<number>() },
        processElement(i, ctx) {
          ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
          ctx.emit(i);
        },
      })
      .uid("counter")
      .setParallelism(parallelism)
      .sinkTo("out");
  });
}

describe("a key its selector cannot give", () => {
  for (const parallelism of [1, 2])
    for (const bad of ["nan", "throw"] as const)
      it(`dead-letters the record under the keyed operator at parallelism ${parallelism} (${bad})`, async () => {
        const out: number[] = [];
        const rt = new EmbeddedRuntime(job(parallelism, bad), {
          clock: new ManualClock(),
          onOutput: (_s, values) => {
            out.push(...(values as number[]));
          },
        });
        await rt.run();
        expect(rt.finished).toBe(true);
        expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 7));
        expect(rt.deadLetters).toEqual([
          expect.objectContaining({
            operator: "counter",
            value: 7,
            error: bad === "nan" ? "key NaN is not a finite number" : "no key for 7",
          }),
        ]);
      });
});
