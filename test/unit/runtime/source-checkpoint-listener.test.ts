/**
 * A source with `checkpointListener` hears where each epoch ends and when its
 * checkpoint completes: `snapshotState(n, position)` with the split's position at
 * barrier n, then `notifyCheckpointComplete(n)`, so a source may confirm upstream
 * (a Postgres slot) exactly what a completed checkpoint holds.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import type { Source } from "../../../core/api/source.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";

const COUNT = 3_000;

function countingSource(log: { snapshots: Map<number, number>; notified: number[] }): Source<number> {
  return {
    name: "counting",
    bounded: true,
    checkpointListener: true,
    splits: () => [{ id: "0" }],
    reader: (_split, position) => {
      let next = typeof position === "number" ? position : 0;
      return {
        async read(max) {
          await new Promise((r) => setTimeout(r, 1)); // slow enough for several checkpoints
          const records = Array.from({ length: Math.min(max, COUNT - next) }, (_, i) => next + i);
          next += records.length;
          return { records, position: next, done: next >= COUNT };
        },
        snapshotState: (n, p) => {
          log.snapshots.set(n, p as number);
        },
        notifyCheckpointComplete: (n) => {
          expect(log.snapshots.has(n), `snapshotState(${n}) came before its completion`).toBe(true);
          log.notified.push(n);
        },
      };
    },
  };
}

describe("a source that listens to checkpoints", () => {
  it("gets each epoch's end position, which is exactly what the completed checkpoint committed, then its completion", async () => {
    const log = { snapshots: new Map<number, number>(), notified: [] as number[] };
    const job = defineJob("listener", (env) => {
      env.enableCheckpointing(5);
      env.configure({ sourceBatchSize: 20 });
      env.fromSource(countingSource(log)).sinkTo("out");
    });
    let committed = 0;
    const cuts = new Set<number>([0]);
    const completed: number[] = [];
    await new EmbeddedRuntime(job, {
      parallelism: 1,
      onOutput: (_sink, values) => {
        committed += values.length;
        cuts.add(committed);
      },
      onCheckpoint: (e) => {
        if (e.kind === "completed") completed.push(e.manifest.id);
      },
    }).run();
    expect(committed).toBe(COUNT);
    expect(log.notified.length).toBeGreaterThan(2);
    expect([...log.notified].sort((a, b) => a - b)).toEqual(log.notified); // increasing
    for (const n of log.notified) {
      expect(completed).toContain(n);
      // The output published at the completion of n ends at the source's position at barrier n.
      expect(cuts.has(log.snapshots.get(n) as number), `position at barrier ${n}`).toBe(true);
    }
    const positions = [...log.snapshots.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
