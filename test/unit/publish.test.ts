/**
 * Publishing a completed checkpoint covers every partition of its cut, at the
 * parallelism it was taken at — not the plan's: a restore at another parallelism
 * publishes what the last run committed before it rewrites the logs (found by the
 * chaos fuzzer: a rescaled savepoint restore skipped partitions 1 and 2). With a
 * store's fold policy (DynamoDB's), it still publishes at every completion but
 * compacts a partition only when the policy says folding pays.
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { publishCompleted } from "../../core/checkpoint/publish.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";

const job = defineJob("pub", (env) => {
  env.fromElements([1]).uid("src").sinkTo("out");
});

describe("publishCompleted", () => {
  it("publishes every partition of the cut, whatever the plan's parallelism now", async () => {
    const plan = planJob(buildGraph(job, { parallelism: 1 }));
    const task = plan.tasks[0]?.id as string;
    const state = new InMemoryStateStore();
    for (const p of [0, 1, 2]) {
      await state.append(task, p, {
        n: 1,
        gen: 1,
        time: 0,
        positions: {},
        outSeqs: {},
        changes: [],
        outbox: [],
        sentThrough: 1,
        sink: { out: [`from ${p}`] },
      });
    }
    const output = new InMemoryOutputStore();
    const cut = { [`${task}#0`]: 1, [`${task}#1`]: 1, [`${task}#2`]: 1 };
    const manifest = {
      job: "pub",
      id: 1,
      generation: 1,
      status: "completed" as const,
      triggeredAt: 0,
      cut,
      parallelism: { [task]: 3 },
    };
    const r = await publishCompleted(plan, state, output, manifest);
    expect(r.records).toBe(3);
    expect((await output.read("pub", "out")).values.sort()).toEqual(["from 0", "from 1", "from 2"]);
    expect(await output.publishedThrough("pub")).toEqual(cut);
  });

  it("compacts a partition only when the store's fold policy says so (3 segments behind the cut), and publishes every time", async () => {
    const plan = planJob(buildGraph(job, { parallelism: 1 }));
    const task = plan.tasks[0]?.id as string;
    const state = new InMemoryStateStore({ foldPolicy: { segments: 3, checkpoints: 1000 } });
    const output = new InMemoryOutputStore();
    const segment = (n: number) => ({
      n,
      gen: 1,
      time: 0,
      positions: {},
      outSeqs: {},
      changes: [],
      outbox: [],
      sentThrough: n,
      sink: { out: [`row ${n}`] },
    });
    const manifest = (id: number) => ({
      job: "pub",
      id,
      generation: 1,
      status: "completed" as const,
      triggeredAt: 0,
      cut: { [`${task}#0`]: id },
      parallelism: { [task]: 1 },
    });
    for (let n = 1; n <= 8; n++) await state.append(task, 0, segment(n)); // the last one always stays
    const compacted: number[] = [];
    for (let n = 1; n <= 7; n++) {
      const r = await publishCompleted(plan, state, output, manifest(n));
      expect(r.records).toBe(1);
      compacted.push(r.compacted);
    }
    expect(compacted).toEqual([0, 0, 3, 0, 0, 3, 0]);
    expect((await state.readBase(task, 0))?.through).toBe(6);
  });

  it("with maxAgeMs folds once the base is that old (or absent), and the final checkpoint seals instead of compacting", async () => {
    const plan = planJob(buildGraph(job, { parallelism: 1 }));
    const task = plan.tasks[0]?.id as string;
    const store = new InMemoryStateStore({ foldPolicy: { segments: 1000, checkpoints: 1000, maxAgeMs: 1000 } });
    let baseAt = 0; // when the base was written, as a store like DynamoDB reports it
    const readLog = store.readLog.bind(store);
    const compact = store.compact.bind(store);
    const sealed: number[] = [];
    Object.assign(store, {
      readLog: async (t: string, p: number, after: number) => ({ ...(await readLog(t, p, after)), baseAt }),
      compact: async (t: string, p: number, through: number) => {
        baseAt = now;
        return compact(t, p, through);
      },
      seal: async (t: string, p: number, through: number) => {
        sealed.push(through);
        return compact(t, p, through);
      },
    });
    let now = 0;
    const output = new InMemoryOutputStore();
    for (let n = 1; n <= 8; n++) {
      await store.append(task, 0, {
        n,
        gen: 1,
        time: 0,
        positions: {},
        outSeqs: {},
        changes: [],
        outbox: [],
        sentThrough: n,
      });
    }
    const compacted: number[] = [];
    for (const [id, at, final] of [
      [1, 500, false],
      [2, 1500, false],
      [3, 2000, false],
      [4, 2600, false],
      [5, 2700, true],
    ] as const) {
      now = at;
      const m = {
        job: "pub",
        id,
        generation: 1,
        status: "completed" as const,
        triggeredAt: 0,
        completedAt: at,
        cut: { [`${task}#0`]: id },
        parallelism: { [task]: 1 },
        ...(final ? { final: true } : {}),
      };
      compacted.push((await publishCompleted(plan, store, output, m)).compacted);
    }
    expect(compacted).toEqual([0, 2, 0, 2, 1]);
    expect(sealed).toEqual([5]);
  });

  it("decides a fold from the base its segment read returned (readLog): no base read of its own, and the same folds", async () => {
    const plan = planJob(buildGraph(job, { parallelism: 1 }));
    const task = plan.tasks[0]?.id as string;
    const counted = (withReadLog: boolean) => {
      const store = new InMemoryStateStore({ foldPolicy: { segments: 3, checkpoints: 1000 } });
      const reads = { base: 0 };
      const readBase = store.readBase.bind(store);
      store.readBase = (t, p) => {
        reads.base++;
        return readBase(t, p);
      };
      if (!withReadLog) Object.assign(store, { readLog: undefined });
      return { store, reads };
    };
    const folds: number[][] = [];
    const baseReads: number[] = [];
    for (const withReadLog of [true, false]) {
      const { store, reads } = counted(withReadLog);
      const output = new InMemoryOutputStore();
      for (let n = 1; n <= 8; n++) {
        await store.append(task, 0, {
          n,
          gen: 1,
          time: 0,
          positions: {},
          outSeqs: {},
          changes: [],
          outbox: [],
          sentThrough: n,
        });
      }
      const compacted: number[] = [];
      for (let id = 1; id <= 7; id++) {
        const cut = { [`${task}#0`]: id };
        const m = {
          job: "pub",
          id,
          generation: 1,
          status: "completed" as const,
          triggeredAt: 0,
          cut,
          parallelism: { [task]: 1 },
        };
        compacted.push((await publishCompleted(plan, store, output, m)).compacted);
      }
      folds.push(compacted);
      baseReads.push(reads.base);
    }
    expect(folds).toEqual([
      [0, 0, 3, 0, 0, 3, 0],
      [0, 0, 3, 0, 0, 3, 0],
    ]);
    expect(baseReads).toEqual([0, 7]);
  });
});
