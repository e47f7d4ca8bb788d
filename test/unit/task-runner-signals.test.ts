/**
 * The runner's side of the coordinator's signals: a checkpoint-complete signal
 * reaches the keyed function once (not for a redelivery, an older checkpoint or
 * another generation) and commits nothing; a tick fires due processing-time timers;
 * and a runner given `TimerHints` records its next processing-time timer when it changes.
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { type Envelope, NOTIFY_CHANNEL, TICK_CHANNEL } from "../../core/envelope.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { InMemoryTimerHints } from "../../core/memory/in-memory-timer-hints.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { TaskRunner } from "../../core/runtime/task-runner.ts";

function setup() {
  const notified: number[] = [];
  const job = defineJob("sig", (env) => {
    env
      .fromElements([] as string[])
      .uid("in")
      .keyBy((w) => w)
      .process<string>({
        processElement(_w, ctx) {
          ctx.timers.registerProcessingTimeTimer(ctx.timers.currentProcessingTime() + 100);
        },
        onTimer(t, ctx) {
          ctx.emit(`${ctx.key}@${t}`);
        },
        notifyCheckpointComplete(id) {
          notified.push(id);
        },
      })
      .uid("keyed")
      .sinkTo("fired");
  });
  const graph = buildGraph(job, { parallelism: 1 });
  const plan = planJob(graph);
  const clock = new ManualClock(1000);
  const store = new InMemoryStateStore();
  const timers = new InMemoryTimerHints();
  const keyed = plan.tasks.find((t) => t.keyed)?.id as string;
  const runner = new TaskRunner({
    plan,
    graph,
    task: keyed,
    partition: 0,
    queue: new InMemoryQueue(clock),
    store,
    clock,
    generation: 2,
    timers,
  });
  const from = `${plan.tasks.find((t) => t.isSource)?.id}#0`;
  const handle = (...bodies: Envelope[]) => runner.handle(bodies.map((body) => ({ body, receiveCount: 1 })));
  const notify = (n: number, gen = 2): Envelope => ({
    gen,
    from: NOTIFY_CHANNEL,
    seq: n,
    records: [],
    signal: { kind: "checkpoint-complete", n },
  });
  const tick: Envelope = { gen: 2, from: TICK_CHANNEL, seq: 0, records: [], signal: { kind: "tick" } };
  const segments = async () => (await store.readSegments(keyed, 0, 0)).length;
  return { runner, handle, notify, tick, from, notified, clock, timers, segments, keyed };
}

describe("TaskRunner signals", () => {
  it("tells the keyed function of a completed checkpoint once, and commits nothing for it", async () => {
    const s = setup();
    expect((await s.handle(s.notify(3))).failedFrom).toBeUndefined();
    await s.handle(s.notify(3)); // redelivered
    await s.handle(s.notify(2)); // older, e.g. a late one
    await s.handle(s.notify(9, 1)); // another generation's
    await s.handle(s.notify(4), s.notify(5));
    expect(s.notified).toEqual([3, 5]);
    expect(await s.segments()).toBe(0);
  });

  it("fires a due processing-time timer on a tick and records the next one as it changes", async () => {
    const s = setup();
    await s.handle({ gen: 2, from: s.from, seq: 1, records: ["a"] });
    expect(await s.timers.list("sig")).toEqual([{ task: s.keyed, partition: 0, at: 1100 }]);
    const writes = s.timers.records;
    await s.handle(s.notify(1)); // nothing changed: no write
    expect(s.timers.records).toBe(writes);
    s.clock.advance(100);
    const r = await s.handle(s.tick);
    expect(r.segment?.sink).toEqual({ fired: ["a@1100"] });
    expect(await s.timers.list("sig")).toEqual([]);
  });
});
