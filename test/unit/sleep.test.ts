/**
 * Scale to zero, the rules: a job sleeps only when nothing happened since its last
 * completed checkpoint, stays awake when work arrives while it falls asleep, and of
 * concurrent wakers exactly one starts the next execution.
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { LazyMarks } from "../../core/checkpoint/published-marks.ts";
import { isQuiet, trySleep, wakeIfSleeping, wasBusy } from "../../core/checkpoint/sleep.ts";
import { planJob } from "../../core/graph/planner.ts";
import type { Segment } from "../../core/log/segment.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { InMemoryTimerHints } from "../../core/memory/in-memory-timer-hints.ts";
import type { CheckpointManifest, JobRecord } from "../../core/ports/checkpoint-store.ts";
import type { TimerHints } from "../../core/ports/timer-hints.ts";

const job = defineJob("sleepy", (env) => {
  env.fromElements([1, 2, 3]).uid("src").sinkTo("out");
});

const segment = (n: number): Segment => ({
  n,
  gen: 1,
  time: 0,
  positions: {},
  outSeqs: {},
  changes: [],
  outbox: [],
  sentThrough: n,
});

async function setup() {
  const plan = planJob(buildGraph(job));
  const state = new InMemoryStateStore();
  const checkpoints = new InMemoryCheckpointStore();
  const record: JobRecord = {
    job: "sleepy",
    generation: 1,
    nextCheckpoint: 2,
    lastCompleted: 1,
    parallelism: {},
    failures: 0,
  };
  await checkpoints.saveJob(record, undefined);
  const cut = Object.fromEntries(plan.tasks.map((t) => [`${t.id}#0`, 1]));
  for (const t of plan.tasks) await state.append(t.id, 0, segment(1));
  const last: CheckpointManifest = {
    job: "sleepy",
    id: 1,
    generation: 1,
    status: "completed",
    triggeredAt: 0,
    cut,
    parallelism: {},
  };
  return { plan, state, checkpoints, record, last, context: { plan, state, checkpoints } };
}

describe("scale to zero", () => {
  it("seals every partition's log before it writes `sleeping`, through the published marks, and not when busy", async () => {
    const { plan, state, checkpoints, record, last, context } = await setup();
    const events: string[] = [];
    const sealing = Object.assign(Object.create(state) as InMemoryStateStore, {
      seal: async (task: string, partition: number, through: number) => {
        events.push(
          `seal ${task}#${partition} ${through} sleeping=${(await checkpoints.loadJob("sleepy"))?.sleeping === true}`,
        );
        return 0;
      },
    });
    await state.append(plan.tasks[0]?.id as string, 0, segment(2));
    expect(await trySleep({ ...context, state: sealing }, record, last)).toBe(false);
    expect(events).toEqual([]); // busy: no seal
    const quiet = await setup();
    const sealed: string[] = [];
    const quietSealing = Object.assign(Object.create(quiet.state) as InMemoryStateStore, {
      seal: async (task: string, partition: number, through: number) => {
        const asleep = (await quiet.checkpoints.loadJob("sleepy"))?.sleeping === true;
        sealed.push(`${task}#${partition} ${through} ${asleep}`);
        return 0;
      },
    });
    // It folds through the published marks (only published segments may fold), not the cut;
    // marks a warm container still holds (published-marks.ts) are written first.
    const first = quiet.plan.tasks[0]?.id as string;
    const output = new InMemoryOutputStore();
    const marks = new LazyMarks(100);
    marks.learned("sleepy", quiet.record.generation, {});
    expect(marks.raise("sleepy", quiet.record.generation, { [`${first}#0`]: 1 }, false)).toBeUndefined();
    expect(await output.publishedThrough("sleepy")).toEqual({});
    const sleepy = { ...quiet.context, state: quietSealing, output, marks };
    expect(await trySleep(sleepy, quiet.record, quiet.last)).toBe(true);
    expect(await output.publishedThrough("sleepy")).toEqual({ [`${first}#0`]: 1 });
    expect(sealed.sort()).toEqual(quiet.plan.tasks.map((t) => `${t.id}#0 ${t.id === first ? 1 : 0} false`).sort());
    expect((await quiet.checkpoints.loadJob("sleepy"))?.sleeping).toBe(true);
  });

  it("is quiet only when no partition committed past its cut", async () => {
    const { plan, state, last, context } = await setup();
    expect(await isQuiet(context, last)).toBe(true);
    await state.append(plan.tasks[0]?.id as string, 0, segment(2));
    expect(await isQuiet(context, last)).toBe(false);
  });

  it("is not quiet while a timer hint waits, also one that a lagging (eventually consistent) read would miss", async () => {
    const { last, context } = await setup();
    const timers = new InMemoryTimerHints();
    // A store whose lagging read has not seen the newest hint yet; only a strong read has.
    const lagging: TimerHints = {
      record: (...a) => timers.record(...a),
      markTicked: (...a) => timers.markTicked(...a),
      list: async (job, options) => (options?.lagging ? [] : timers.list(job)),
    };
    expect(await isQuiet({ ...context, timers: lagging }, last)).toBe(true);
    await timers.record("sleepy", "t", 0, 5);
    expect(await isQuiet({ ...context, timers: lagging }, last)).toBe(false);
  });

  // trySleep looks at the logs three times: first, after the seal, after writing `sleeping`.
  for (const [look, what] of [
    [2, "during the seal: the look after it keeps it awake, and it writes nothing"],
    [3, "after `sleeping` is written: it clears `sleeping` again"],
  ] as const) {
    it(`stays awake when work lands while it falls asleep, ${what}`, async () => {
      const { plan, state, checkpoints, record, last, context } = await setup();
      let reads = 0;
      const racing = {
        ...context,
        state: new Proxy(state, {
          get(target, key) {
            if (key !== "readSegments") {
              const v = Reflect.get(target, key);
              return typeof v === "function" ? v.bind(target) : v;
            }
            return async (task: string, partition: number, after: number) => {
              if (++reads === (look - 1) * plan.tasks.length + 1) await target.append(task, partition, segment(2));
              return target.readSegments(task, partition, after);
            };
          },
        }),
      };
      expect(await trySleep(racing, record, last)).toBe(false);
      const now = await checkpoints.loadJob("sleepy");
      expect(now?.sleeping).toBeUndefined();
      expect(now?.wakes).toBe(look === 2 ? undefined : 1); // clearing its own `sleeping` counts as a wake
    });
  }

  it("ends its execution when work lands while it falls asleep and a waker got there first", async () => {
    const { plan, state, checkpoints, record, last, context } = await setup();
    const started: string[] = [];
    const waker = { start: async (name: string) => void started.push(name) };
    let reads = 0;
    const racing = {
      ...context,
      state: new Proxy(state, {
        get(target, key) {
          if (key !== "readSegments") {
            const v = Reflect.get(target, key);
            return typeof v === "function" ? v.bind(target) : v;
          }
          return async (task: string, partition: number, after: number) => {
            // Between its last two looks, an ingest appends and wakes the job (it saw `sleeping`).
            if (++reads === 2 * plan.tasks.length + 1) {
              await target.append(task, partition, segment(2));
              await wakeIfSleeping(checkpoints, "sleepy", waker);
            }
            return target.readSegments(task, partition, after);
          };
        },
      }),
    };
    // The waker started the next execution: this one must end, or two coordinators would run.
    expect(await trySleep(racing, record, last)).toBe(true);
    expect(started).toEqual(["sleepy-w1"]);
    expect(await checkpoints.loadJob("sleepy")).toMatchObject({ wakes: 1 });
    expect((await checkpoints.loadJob("sleepy"))?.sleeping).toBeUndefined();
  });

  it("sleeps when quiet, and of concurrent wakers exactly one starts the next execution", async () => {
    const { checkpoints, record, last, context } = await setup();
    expect(await trySleep(context, record, last)).toBe(true);
    expect((await checkpoints.loadJob("sleepy"))?.sleeping).toBe(true);
    const started: string[] = [];
    const waker = { start: async (name: string) => void started.push(name) };
    const won = await Promise.all(Array.from({ length: 8 }, () => wakeIfSleeping(checkpoints, "sleepy", waker)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(started).toEqual(["sleepy-w1"]);
    expect(await wakeIfSleeping(checkpoints, "sleepy", waker)).toBe(false);
  });

  it("keeps `sleeping` against a writer that read the record before the coordinator fell asleep", async () => {
    const { checkpoints, record, last, context } = await setup();
    // A completion published by the API (a savepoint) read the record while the job was awake…
    const before = (await checkpoints.loadJob("sleepy")) as JobRecord;
    expect(await trySleep(context, record, last)).toBe(true);
    // …and writes it back once the coordinator has ended asleep. That write must lose: had it
    // won, the record would say awake while no execution runs, and no ingest would wake the job.
    const stale = { ...before, lastCompleted: 5 };
    expect(
      await checkpoints.saveJob(stale, { generation: before.generation, nextCheckpoint: before.nextCheckpoint }),
    ).toBe(false);
    expect((await checkpoints.loadJob("sleepy"))?.sleeping).toBe(true);
  });

  it("wakes a sleeping job whose record another writer changed between the waker's read and write", async () => {
    const { checkpoints, record, last, context } = await setup();
    expect(await trySleep(context, record, last)).toBe(true);
    const started: string[] = [];
    const waker = { start: async (name: string) => void started.push(name) };
    // A restore moves the generation of the sleeping job (and leaves it sleeping) just before the wake's write.
    const saveJob = checkpoints.saveJob.bind(checkpoints);
    let moved = false;
    checkpoints.saveJob = async (...args: Parameters<typeof saveJob>) => {
      if (!moved && args[1] !== undefined) {
        moved = true;
        const now = await checkpoints.loadJob("sleepy");
        if (now) {
          const next = { ...now, generation: now.generation + 1 };
          expect(await saveJob(next, { generation: now.generation, nextCheckpoint: now.nextCheckpoint })).toBe(true);
        }
      }
      return saveJob(...args);
    };
    expect(await wakeIfSleeping(checkpoints, "sleepy", waker)).toBe(true);
    expect(started).toEqual(["sleepy-w1"]);
    expect((await checkpoints.loadJob("sleepy"))?.sleeping).toBeUndefined();
  });

  it("looks for quiet only after an epoch in which no source added more than its barrier's segment", () => {
    const manifest = (id: number, cut: Record<string, number>, generation = 1): CheckpointManifest => ({
      job: "sleepy",
      id,
      generation,
      status: "completed",
      triggeredAt: 0,
      cut,
      parallelism: {},
    });
    const sources = ["a#0"];
    const idle = manifest(2, { "a#0": 5, "b#0": 10 }); // b (two input channels) adds a segment per barrier
    expect(wasBusy(idle, manifest(1, { "a#0": 4, "b#0": 8 }), sources)).toBe(false);
    expect(wasBusy(manifest(2, { "a#0": 6, "b#0": 9 }), manifest(1, { "a#0": 4, "b#0": 8 }), sources)).toBe(true);
    expect(wasBusy(manifest(2, { "a#0": 9 }), manifest(1, { "a#0": 4 }, 2), sources)).toBe(false); // another generation
    expect(wasBusy(manifest(2, { "a#0": 9 }), { ...manifest(1, { "a#0": 4 }), status: "aborted" }, sources)).toBe(
      false,
    );
    expect(wasBusy(manifest(2, { "a#0": 9 }), undefined, sources)).toBe(false);
  });
});
