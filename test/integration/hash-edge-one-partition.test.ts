/**
 * A hash edge into one partition routes without computing the key (that partition owns every
 * key group): the keyed operator still keys each record, so results and key checks are those
 * of a wider job.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { JobFailedError } from "../../core/checkpoint/steps.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";

/** The total of `i * 3` for i in 0..499 per key `key(i)`, at `parallelism` (the largest running sum a key emits). */
async function sums(parallelism: number, key: (i: number) => number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const job = defineJob("one-partition", (env) => {
    env
      .fromElements(Array.from({ length: 500 }, (_, i) => i))
      .map((i): [number, number] => [key(i), i * 3])
      .keyBy((t) => t[0])
      .reduce((a, b): [number, number] => [a[0], a[1] + b[1]])
      .print();
  });
  const rt = new EmbeddedRuntime(job, {
    parallelism,
    clock: new ManualClock(),
    onOutput: (_sink, values) => {
      for (const [k, v] of values as [number, number][]) out.set(k, Math.max(out.get(k) ?? 0, v));
    },
  });
  await rt.run();
  return out;
}

describe("a hash edge into one partition", () => {
  it("gives the results of the same job at parallelism 3", async () => {
    // act
    const one = await sums(1, (i) => i % 2);
    const three = await sums(3, (i) => i % 2);

    // assess
    expect(one).toEqual(
      new Map([
        [0, 3 * 250 * 249],
        [1, 3 * 250 * 250],
      ]),
    );
    expect(three).toEqual(one);
  });

  it("still refuses a key that cannot be encoded (NaN), as at parallelism 2", async () => {
    // act / assess
    for (const parallelism of [1, 2])
      await expect(sums(parallelism, (i) => (i === 9 ? Number.NaN : i % 5))).rejects.toThrow(JobFailedError);
  });
});
