/**
 * Published marks written lazily (`core/checkpoint/published-marks.ts`): a warm
 * coordinator container holds the marks its round completions raise and writes them
 * every few publications and always before a fold; a container that dies loses only
 * marks that were not durable, and the next one publishes those segments again
 * (the same items: the output does not change). Marks of another generation are never used.
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { publishCompleted } from "../../core/checkpoint/publish.ts";
import { LazyMarks } from "../../core/checkpoint/published-marks.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import type { CheckpointManifest } from "../../core/ports/checkpoint-store.ts";

const job = defineJob("lazy", (env) => {
  env.fromElements([1]).uid("src").sinkTo("out");
});

/** One partition whose segment n carries the row `row n`; a store that folds every 5th checkpoint. */
async function setup(segments: number) {
  const plan = planJob(buildGraph(job, { parallelism: 1 }));
  const task = plan.tasks[0]?.id as string;
  const key = `${task}#0`;
  const state = new InMemoryStateStore({ foldPolicy: { segments: 1000, checkpoints: 5 } });
  for (let n = 1; n <= segments; n++) {
    await state.append(task, 0, {
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
  }
  const output = new InMemoryOutputStore();
  let markWrites = 0;
  const setPublished = output.setPublished.bind(output);
  output.setPublished = (j, through) => {
    markWrites++;
    return setPublished(j, through);
  };
  // A fold must never pass the durable marks.
  const compact = state.compact.bind(state);
  state.compact = async (t, p, through) => {
    const durable = (await output.publishedThrough("lazy"))[key] ?? 0;
    expect(through, "a fold passed the durable marks").toBeLessThanOrEqual(durable);
    return compact(t, p, through);
  };
  const manifest = (id: number, generation = 1): CheckpointManifest => ({
    job: "lazy",
    id,
    generation,
    status: "completed",
    triggeredAt: 0,
    cut: { [key]: id },
    parallelism: { [task]: 1 },
  });
  const rows = async () => (await output.read("lazy", "out")).values;
  return { plan, state, output, key, manifest, rows, markWrites: () => markWrites };
}

describe("lazy published marks", () => {
  it("write the marks every few publications and before every fold; the output is every row once", async () => {
    const s = await setup(12);
    const lazy = new LazyMarks(3);
    const durable: number[] = [];
    for (let id = 1; id <= 12; id++) {
      await publishCompleted(s.plan, s.state, s.output, s.manifest(id), undefined, { lazy, hold: true });
      durable.push((await s.output.publishedThrough("lazy"))[s.key] ?? 0);
    }
    // Written at the 3rd held publication, at the folds of checkpoints 5 and 10, and every 3rd since.
    expect(durable).toEqual([0, 0, 3, 3, 5, 5, 5, 8, 8, 10, 10, 10]);
    expect(s.markWrites()).toBe(4);
    expect(await s.rows()).toEqual(Array.from({ length: 12 }, (_, i) => `row ${i + 1}`));
    expect((await s.state.readBase(s.plan.tasks[0]?.id as string, 0))?.through).toBe(10);
  });

  it("a container that dies holding marks: the next publishes those segments again, and the output does not change", async () => {
    const s = await setup(6);
    const warm = new LazyMarks(100);
    for (let id = 1; id <= 3; id++) {
      await publishCompleted(s.plan, s.state, s.output, s.manifest(id), undefined, { lazy: warm, hold: true });
    }
    expect(await s.output.publishedThrough("lazy")).toEqual({});
    const published: number[] = [];
    const publish = s.output.publish.bind(s.output);
    s.output.publish = (j, segments) => {
      published.push(...segments.map((x) => x.segment));
      return publish(j, segments);
    };
    const cold = new LazyMarks(100); // the container died: what it held is gone
    const r = await publishCompleted(s.plan, s.state, s.output, s.manifest(4), undefined, { lazy: cold, hold: true });
    expect(published).toEqual([1, 2, 3, 4]);
    expect(r.records).toBe(4);
    expect(await s.rows()).toEqual(["row 1", "row 2", "row 3", "row 4"]);
  });

  it("a publication that does not hold (a restore's) writes every mark still held, and a new generation reads the store's", async () => {
    const s = await setup(4);
    const lazy = new LazyMarks(100);
    await publishCompleted(s.plan, s.state, s.output, s.manifest(1), undefined, { lazy, hold: true });
    await publishCompleted(s.plan, s.state, s.output, s.manifest(2), undefined, { lazy, hold: true });
    expect(s.markWrites()).toBe(0);
    expect(lazy.known("lazy", 1)).toEqual({ [s.key]: 2 });
    // The restore's completion publishes nothing new, and still writes what was held.
    await publishCompleted(s.plan, s.state, s.output, s.manifest(2), undefined, { lazy, hold: false });
    expect(await s.output.publishedThrough("lazy")).toEqual({ [s.key]: 2 });
    expect(lazy.dirty("lazy")).toBeUndefined();
    // Marks kept for generation 1 are not used at generation 2: the store's are read.
    expect(lazy.known("lazy", 2)).toBeUndefined();
    await s.output.resetPublished("lazy");
    await publishCompleted(s.plan, s.state, s.output, s.manifest(3, 2), undefined, { lazy, hold: true });
    expect(lazy.known("lazy", 2)).toEqual({ [s.key]: 3 });
    expect(lazy.known("lazy", 1)).toBeUndefined();
  });

  it("the final checkpoint writes its marks", async () => {
    const s = await setup(2);
    const lazy = new LazyMarks(100);
    await publishCompleted(s.plan, s.state, s.output, s.manifest(1), undefined, { lazy, hold: true });
    await publishCompleted(s.plan, s.state, s.output, { ...s.manifest(2), final: true }, undefined, {
      lazy,
      hold: true,
    });
    expect(await s.output.publishedThrough("lazy")).toEqual({ [s.key]: 2 });
  });
});
