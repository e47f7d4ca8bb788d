/** The partition loader against a compaction that lands between its two reads (another Lambda compacting). */

import { expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { inputChannels, planJob } from "../../core/graph/planner.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import type { Segment, StateStore } from "../../core/ports/state-store.ts";
import { loadPartition } from "../../core/runtime/partition-loader.ts";

const job = defineJob("loader", (env) => {
  env.fromElements([1, 2, 3]).sinkTo("out");
});

const seg = (n: number): Segment => ({
  n,
  gen: 1,
  time: 0,
  // Only segment 1 consumed a barrier: after compaction, only the base knows it.
  positions: n === 1 ? { $poll: n, $ctl: 7 } : { $poll: n },
  outSeqs: {},
  changes: [],
  outbox: [],
  sentThrough: n - 1,
});

it("reads base and segments again when a compaction moved the base between the two reads", async () => {
  const graph = buildGraph(job);
  const plan = planJob(graph);
  const task = plan.tasks[0];
  if (!task) throw new Error("no task");
  const real = new InMemoryStateStore();
  for (const n of [1, 2, 3]) await real.append(task.id, 0, seg(n));
  let stale = true;
  // The first readBase sees the partition before compaction; the compaction then runs.
  const store = new Proxy(real, {
    get(t, k) {
      if (k === "readBase") {
        return async (tk: string, p: number) => {
          if (!stale) return t.readBase(tk, p);
          stale = false;
          const before = await t.readBase(tk, p);
          await t.compact(tk, p, 2);
          return before;
        };
      }
      const v = Reflect.get(t, k, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  }) as StateStore;
  const channels = inputChannels(plan, task, 0).map((c) => c.id);
  const live = await loadPartition(plan, graph, task, 0, store, new ManualClock(), 1, channels);
  expect((await real.readBase(task.id, 0))?.through).toBe(2);
  expect(live.view.lastSegment).toBe(3);
  expect(live.view.positions.get("$poll")).toBe(3);
  expect(live.view.positions.get("$ctl")).toBe(7);
  expect(live.view.sentThrough).toBe(2);
});
