/**
 * Rescaling in place on the embedded runtime: a keyed counter goes from 1 to 4
 * partitions and back to 1 at checkpoint cuts, on a SQLite state dir (and in
 * memory), and its committed output is exactly once. The keyed values are never
 * copied: no export, no reset, no putState — the cut is folded into the values and
 * the logs are dropped (`StateStore.dropLogs`). Then autoscaling does the same by
 * itself from a (scripted) backlog, on a manual clock.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import { openStateDir, type StateDir } from "../../core/durable/sqlite-db.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import type { StateStore } from "../../core/ports/state-store.ts";
import type { TaskBacklog, TaskScaler } from "../../core/ports/task-scaler.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { CrashingStore } from "../support/faults.ts";

const N = 3600; // 300 per key
const KEYS = 12;
type Row = { key: string; n: number };

/** The keyed counter, autoscaled or not, with its source's batch sizes. */
const counter = (autoscale: boolean, batches: { sourceBatchSize: number; maxRecordsPerEnvelope: number }) =>
  defineJob("rescaled", (env) => {
    env.enableCheckpointing(2);
    env.configure(batches);
    if (autoscale) env.configureAws({ autoscale: { min: 1, max: 4, targetLagSeconds: 1, cooldownSeconds: 1 } });
    env
      .fromGenerator((i) => ({ key: `k${i % KEYS}` }), { count: N, splits: 2 })
      .uid("gen")
      .keyBy((r) => r.key)
      .process({
        state: { n: valueState<number>() },
        processElement(r, ctx) {
          const n = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(n);
          ctx.emit({ key: r.key, n });
        },
      })
      .uid("count")
      .sinkTo("counts");
  });

/** A store that counts the calls that would copy keyed values. */
class CopyCounter extends CrashingStore {
  copies: string[] = [];
  drops = 0;
  override exportState(...a: Parameters<StateStore["exportState"]>) {
    this.copies.push("exportState");
    return super.exportState(...a);
  }
  override resetTask(task: string) {
    this.copies.push("resetTask");
    return super.resetTask(task);
  }
  override putState(...a: Parameters<StateStore["putState"]>) {
    this.copies.push("putState");
    return super.putState(...a);
  }
  override dropLogs(task: string) {
    this.drops++;
    return super.dropLogs(task);
  }
}

/** What a run committed, and the parallelism of the `count` task as it changed from checkpoint to checkpoint. */
function observed() {
  const rows: Row[] = [];
  const seen: number[] = [];
  return {
    rows,
    seen,
    onOutput: (_sink: string, values: readonly unknown[]) => rows.push(...(values as Row[])),
    /** Notes the count task's parallelism (at a completed checkpoint) and returns it. */
    parallelism(rt: EmbeddedRuntime): number {
      const p = rt.plan.tasks.find((t) => t.id === "count")?.parallelism ?? 0;
      if (seen.at(-1) !== p) seen.push(p);
      return p;
    },
  };
}

/** Per key, the committed counts must be exactly 1..n. */
function expectExactlyOnce(rows: readonly Row[]): void {
  const by = new Map<string, number[]>();
  for (const r of rows) by.set(r.key, [...(by.get(r.key) ?? []), r.n]);
  expect(by.size).toBe(KEYS);
  for (const [key, ns] of by) {
    const want = Array.from({ length: N / KEYS }, (_, i) => i + 1);
    expect(
      ns.sort((a, b) => a - b),
      key,
    ).toEqual(want);
  }
}

let dir: StateDir | undefined;
afterEach(() => {
  dir?.close();
  if (dir) rmSync(dir.dir, { recursive: true, force: true });
  dir = undefined;
});

describe("rescale in place (embedded)", () => {
  for (const kind of ["memory", "sqlite"] as const) {
    it(`moves a keyed task 1 → 4 → 1 at checkpoint cuts without copying a value (${kind}), exactly once`, async () => {
      if (kind === "sqlite")
        dir = openStateDir(mkdtempSync(join(tmpdir(), "riffle-rescale-")), { create: true, job: "rescaled" });
      const store = new CopyCounter(dir ? dir.stateStore : new InMemoryStateStore({ copy: true }));
      const { rows, seen, onOutput, parallelism } = observed();
      const rt: EmbeddedRuntime = new EmbeddedRuntime(
        counter(false, { sourceBatchSize: 50, maxRecordsPerEnvelope: 10 }),
        {
          store,
          ...(dir ? { checkpoints: dir.checkpointStore } : {}),
          onOutput,
          onCheckpoint: (e) => {
            if (e.kind !== "completed") return;
            const p = parallelism(rt);
            if (rt.rescales === 0 && e.manifest.id >= 2) rt.requestRescale({ count: 4 });
            if (rt.rescales === 1 && p === 4) rt.requestRescale({ count: 1 });
          },
        },
      );
      await rt.run();
      expect(rt.rescales).toBe(2);
      expect(seen.slice(0, 3)).toEqual([1, 4, 1]);
      expect(store.copies).toEqual([]);
      expect(store.drops).toBe(2 * 2); // both tasks' logs, at each rescale
      expectExactlyOnce(rows);
      const record = await rt.checkpoints.loadJob("rescaled");
      expect(record?.parallelism).toEqual({ gen: 1, count: 1 });
    }, 60_000);
  }

  it("autoscales from the backlog the scaler reports: out to 4 while it is long, in to 1 once it is gone", async () => {
    let backlog = 500;
    const concurrency: number[] = [];
    const scaler: TaskScaler = {
      backlog: async (): Promise<TaskBacklog> => ({ visible: backlog, inFlight: 0 }),
      setConcurrency: async (_t, n) => {
        concurrency.push(n);
      },
    };
    const { rows, seen, onOutput, parallelism } = observed();
    const job = counter(true, { sourceBatchSize: 5, maxRecordsPerEnvelope: 5 });
    // Time is the runtime's manual clock: each batch takes 5 ms of it, so the rounds are deterministic.
    const rt: EmbeddedRuntime = new EmbeddedRuntime(job, {
      clock: new ManualClock(0),
      batchTimeMs: 5,
      scaler,
      onOutput,
      onCheckpoint: (e) => {
        if (e.kind === "completed" && parallelism(rt) === 4) backlog = 0;
      },
    });
    await rt.run();
    // Out (in one or more steps) to 4, then in to 1; the concurrency applied follows every change.
    expect(seen[0]).toBe(1);
    expect(Math.max(...seen)).toBe(4);
    expect(seen.at(-1)).toBe(1);
    expect(concurrency).toEqual(seen);
    expect(rt.rescales).toBe(seen.length - 1);
    expectExactlyOnce(rows);
  }, 60_000);
});
