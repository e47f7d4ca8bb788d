import { describe, expect, it } from "vitest";
import type { DataStream } from "../../../core/api/datastream.ts";
import { defineJob, type Job } from "../../../core/api/environment.ts";
import type { ProcessFunction } from "../../../core/api/functions.ts";
import { evenSplit } from "../../../core/checkpoint/savepoint-install.ts";
import { InMemoryCheckpointStore } from "../../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";
import { OperatorHarness } from "../../../core/testing/harness.ts";

type Out = { size: number } | { run: number; restored: number };

/**
 * Buffers every record in operator list state and emits the buffer's size; the
 * first record a partition sees in run `run` first reports how many it restored.
 */
function buffering(run: number): ProcessFunction<number, Out> {
  return {
    processElement(n, ctx) {
      if (n < 0) throw new Error("negative");
      const buffer = ctx.getListState<number>("buffer");
      const reported = ctx.getListState<number>("reported");
      if (!reported.get().includes(run)) {
        reported.add(run);
        ctx.emit({ run, restored: buffer.get().length });
      }
      buffer.add(n);
      ctx.emit({ size: buffer.get().length });
    },
  };
}

describe("operator list state", () => {
  it("is per partition and survives a restart", async () => {
    const h = await OperatorHarness.create((s: DataStream<number>) => s.process(buffering(1)));
    await h.processElements([1, 2]);
    await h.restart();
    await h.processElements([3]);
    expect(h.output()).toEqual([{ run: 1, restored: 0 }, { size: 1 }, { size: 2 }, { size: 3 }]);
  });

  it("evenSplit deals contiguous slices whose sizes differ by at most one", () => {
    const all = [...Array(10).keys()];
    expect([0, 1, 2].map((p) => evenSplit(all, p, 3))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ]);
    expect(evenSplit([1], 1, 3)).toEqual([]);
  });

  it("a rescale through a savepoint splits all partitions' lists evenly among the new ones", async () => {
    const N = 4000;
    const job = (run: number): Job =>
      defineJob("buffers", (env) => {
        env.configure({ sourceBatchSize: 50 });
        env.enableCheckpointing(10);
        env
          .fromGenerator((i) => i, { count: N, splits: 8 })
          .uid("numbers")
          .rebalance()
          .process(buffering(run))
          .uid("buffering")
          .sinkTo("out");
      });
    const state = new InMemoryStateStore({ copy: true });
    const checkpoints = new InMemoryCheckpointStore();
    const clock = new ManualClock();
    const first: Out[] = [];
    const stop = new AbortController();
    await new EmbeddedRuntime(job(1), {
      clock,
      store: state,
      checkpoints,
      parallelism: 2,
      batchTimeMs: 1,
      signal: stop.signal,
      stopWithSavepoint: "half",
      onOutput: (_s, values) => {
        first.push(...(values as Out[]));
        if (first.length > N / 2) stop.abort();
      },
    }).run();
    // Every committed size record is one element in some partition's buffer at the savepoint.
    const buffered = first.filter((o) => "size" in o).length;
    expect(buffered).toBeGreaterThan(N / 2);
    expect(buffered).toBeLessThan(N);

    const second: Out[] = [];
    await new EmbeddedRuntime(job(2), {
      clock,
      store: state,
      checkpoints,
      parallelism: 3,
      batchTimeMs: 1,
      fromSavepoint: "half",
      onOutput: (_s, values) => second.push(...(values as Out[])),
    }).run();
    const restored = second.flatMap((o) => ("run" in o ? [o.restored] : []));
    expect(restored).toHaveLength(3);
    expect(restored.reduce((a, b) => a + b, 0)).toBe(buffered);
    expect(Math.max(...restored) - Math.min(...restored)).toBeLessThanOrEqual(1);
  });
});
