/**
 * Backpressure in the embedded scheduler (core/runtime/scheduler.ts `BACKPRESSURE_ENVELOPES`):
 * while a downstream partition waits out a retry delay, the sources read no more than a bounded
 * backlog ahead (so a checkpoint's barrier waits behind that much at most); without it the source
 * read its whole input into the queue (about 1,000 envelopes here) and every barrier waited
 * behind all of it.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { valueState } from "../../../core/api/state.ts";
import { InMemoryQueue } from "../../../core/memory/in-memory-queue.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { BACKPRESSURE_ENVELOPES } from "../../../core/runtime/scheduler.ts";

const COUNT = 20_000;

describe("backpressure", () => {
  it("keeps a retrying partition's backlog bounded, and checkpoints completing, while the source has more", async () => {
    const failures = new Set<number>();
    const job = defineJob("backpressure", (env) => {
      env.enableCheckpointing(50);
      env.configure({ sourceBatchSize: 20 });
      env
        .fromGenerator((i) => i, { count: COUNT })
        .keyBy((i) => i % 7)
        .process({
          state: { n: valueState<number>() },
          processElement(i, ctx) {
            // Every 1000th record fails once: its partition's batch waits out the retry delay.
            if (i % 1000 === 500 && !failures.has(i)) {
              failures.add(i);
              throw new Error(`first attempt at ${i}`);
            }
            ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
            ctx.emit(i);
          },
        })
        .uid("counter")
        .sinkTo("out");
    });
    const clock = new ManualClock();
    const queue = new InMemoryQueue(clock);
    let most = 0;
    let checkpoints = 0;
    let out = 0;
    const rt = new EmbeddedRuntime(job, {
      clock,
      queue,
      retryDelayMs: 100,
      beforeBatch: () => {
        most = Math.max(most, queue.backlog("counter", 0));
      },
      onCheckpoint: (e) => {
        if (e.kind === "completed") checkpoints++;
      },
      onOutput: (_s, values) => {
        out += values.length;
      },
    });
    await rt.run();
    expect(rt.finished).toBe(true);
    expect(out).toBe(COUNT);
    expect(failures.size).toBe(COUNT / 1000);
    // One source poll past the bound at most (its envelopes land before the next check).
    expect(most).toBeLessThanOrEqual(BACKPRESSURE_ENVELOPES + 2);
    expect(checkpoints).toBeGreaterThan(0);
  });
});
