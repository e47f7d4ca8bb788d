import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import type { Source, SourceChunk, SourceContext } from "../../../core/api/source.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { runToCompletion } from "../../../core/runtime/run-to-completion.ts";

/**
 * An unbounded source of one split that has nothing until `readyAt` (processing
 * time), then returns `[1, 2, 3]` and ends. `empty` shapes its empty chunks.
 */
function lateSource(
  readyAt: number,
  empty: (now: number) => Partial<SourceChunk<number>>,
  polls: number[],
): Source<number> {
  return {
    name: "late",
    bounded: false,
    splits: () => [{ id: "0" }],
    reader: (_split, position, context?: SourceContext) => ({
      read() {
        const now = context?.currentProcessingTime?.() ?? Number.NaN;
        polls.push(now);
        if (position === "read") return { records: [], position, done: true };
        if (now < readyAt) return { records: [], position, done: false, ...empty(now) };
        position = "read";
        return { records: [1, 2, 3], position, done: false };
      },
    }),
  };
}

async function run(source: Source<number>, clock: ManualClock) {
  const job = defineJob("wake", (env) => {
    env
      .fromSource(source)
      .map((n) => n * 10)
      .sinkTo("out");
  });
  return (await runToCompletion(job, { clock })).get("out");
}

describe("a custom unbounded source that waits", () => {
  it("backs off while its polls return nothing, doubling from 10 ms to 1 s, and polls at once after records", async () => {
    const polls: number[] = [];
    const clock = new ManualClock(0);
    expect(
      await run(
        lateSource(10_000, () => ({}), polls),
        clock,
      ),
    ).toEqual([10, 20, 30]);
    const waits = polls.slice(1).map((t, i) => t - (polls[i] as number));
    // 10, 20, …, 640, then 1000 ms waits until the records come (plus the scheduler's turn, under 5 ms);
    // then the next poll follows at once.
    [10, 20, 40, 80, 160, 320, 640, 1000, 1000].forEach((backoff, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(backoff);
      expect(waits[i]).toBeLessThan(backoff + 5);
    });
    expect(polls.length).toBeLessThan(30); // a busy loop polls thousands of times in 10 s
    expect(waits[waits.length - 1]).toBeLessThan(10);
  });

  it("an idle split with wakeAt is polled again at that time, not before", async () => {
    const polls: number[] = [];
    const clock = new ManualClock(0);
    const out = await run(
      lateSource(5_000, () => ({ idle: true, wakeAt: 5_000 }), polls),
      clock,
    );
    expect(out).toEqual([10, 20, 30]);
    expect(polls[0]).toBe(0);
    expect(polls[1]).toBeGreaterThanOrEqual(5_000);
    expect(polls[1]).toBeLessThan(5_005);
  });
});
