/**
 * The coordinator steps the AWS runtime's clock rests on, over in-memory stores and
 * a manual clock: ticks for due timer hints, triggers only once the interval has
 * passed, checkpoint-complete signals once per checkpoint to the partitions that
 * want them, a failed job after its restart attempts; and the runner side of the
 * hints (written only when the next timer changes, or after a tick).
 */

import { describe, expect, it } from "vitest";
import { buildGraph, defineJob, type Job } from "../../core/api/environment.ts";
import { CoordinatorSteps, type StepContext } from "../../core/checkpoint/steps.ts";
import { RETICK_MS } from "../../core/checkpoint/ticks.ts";
import type { OutboxEntry } from "../../core/envelope.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { InMemoryTimerHints } from "../../core/memory/in-memory-timer-hints.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import type { TimerHint, TimerHints } from "../../core/ports/timer-hints.ts";
import { TimerReporter } from "../../core/runtime/timer-report.ts";
import { createCoordinatorHandlers } from "../../functions/handlers/coordinator.ts";

const seen: number[] = [];
const job = defineJob("ticks", (env) => {
  env.enableCheckpointing(1000, { timeoutMs: 5000, tolerableFailures: 0 });
  env.setRestartStrategy({ attempts: 1, delayMs: 0 });
  const source = env.fromGenerator((i) => i, { count: 100 });
  source
    .keyBy((x) => x % 3)
    .process<number>({
      processElement(x, ctx) {
        ctx.emit(x);
      },
      notifyCheckpointComplete(id) {
        seen.push(id);
      },
    })
    .sinkTo("notified");
  source
    .keyBy((x) => x % 2)
    .sum()
    .sinkTo("plain");
});

function setup(j: Job = job) {
  const graph = buildGraph(j, { parallelism: 2 });
  const plan = planJob(graph);
  const sent: OutboxEntry[] = [];
  const clock = new ManualClock(1_000_000);
  const timers = new InMemoryTimerHints();
  const context: StepContext = {
    plan,
    graph,
    state: new InMemoryStateStore(),
    checkpoints: new InMemoryCheckpointStore(),
    queue: { send: async (e) => void sent.push(...e) },
    output: new InMemoryOutputStore(),
    clock,
    timers,
  };
  const steps = () => new CoordinatorSteps(context);
  return { plan, sent, clock, context, timers, steps };
}

const signals = (sent: readonly OutboxEntry[], kind: string) =>
  sent.filter((e) => e.envelope.signal?.kind === kind).map((e) => `${e.to.task}[${e.to.partition}]`);

async function ackAll(s: ReturnType<typeof setup>, checkpoint: number): Promise<void> {
  for (const t of s.plan.tasks) {
    for (let p = 0; p < t.parallelism; p++) {
      const ack = { checkpoint, task: t.id, partition: p, segment: 0, alignmentMs: 0, bytes: 0, time: 0 };
      await s.context.checkpoints.ack("ticks", ack);
    }
  }
}

describe("coordinator tick step", () => {
  it("ticks each partition whose hint is due, once, again after RETICK_MS or a new record", async () => {
    const s = setup();
    const now = s.clock.now();
    await s.steps().start();
    s.sent.length = 0;
    await s.timers.record("ticks", "k", 0, now - 1);
    await s.timers.record("ticks", "k", 1, now + 1000);
    expect(await s.steps().tick()).toEqual({ ticked: 1 });
    expect(signals(s.sent, "tick")).toEqual(["k[0]"]);
    expect(s.sent.every((e) => e.envelope.gen === 1 && e.envelope.from === "$tick")).toBe(true);
    expect(await s.steps().tick()).toEqual({ ticked: 0 }); // one outstanding at a time
    await s.timers.record("ticks", "k", 0, now - 1); // the runner answered: still due (its clock lags)
    expect(await s.steps().tick()).toEqual({ ticked: 1 });
    s.clock.advance(RETICK_MS);
    s.sent.length = 0;
    expect(await s.steps().tick()).toEqual({ ticked: 2 }); // p1 now due; p0's tick went unanswered
    expect(signals(s.sent, "tick").sort()).toEqual(["k[0]", "k[1]"]);
  });

  it("reads the hints lagging: one the read misses is ticked a round later, a stale one is not ticked", async () => {
    const s = setup();
    const now = s.clock.now();
    await s.steps().start();
    s.sent.length = 0;
    // An eventually consistent read: `behind` is what it answers until it catches up.
    let behind: TimerHint[] | undefined = [];
    const asked: (boolean | undefined)[] = [];
    const timers: TimerHints = {
      record: (...a) => s.timers.record(...a),
      markTicked: (...a) => s.timers.markTicked(...a),
      list: async (job, options) => {
        asked.push(options?.lagging);
        return options?.lagging && behind ? behind : s.timers.list(job);
      },
    };
    const steps = () => new CoordinatorSteps({ ...s.context, timers });
    await s.timers.record("ticks", "k", 0, now - 1);
    expect(await steps().tick()).toEqual({ ticked: 0 }); // not seen yet
    behind = [{ task: "k", partition: 1, at: now - 1 }]; // k[1] has no hint: a stale read
    expect(await steps().tick()).toEqual({ ticked: 0 }); // markTicked's condition fails: no tick
    behind = undefined; // caught up
    expect(await steps().tick()).toEqual({ ticked: 1 });
    expect(signals(s.sent, "tick")).toEqual(["k[0]"]);
    expect(asked).toEqual([true, true, true]);
  });

  it("sends no tick without hints, before the job exists, or once it failed", async () => {
    const s = setup();
    expect(await s.steps().tick()).toEqual({ ticked: 0 });
    await s.timers.record("ticks", "k", 0, 0);
    expect(await s.steps().tick()).toEqual({ ticked: 0 }); // no job record yet
    const noHints = setup();
    await noHints.steps().start();
    expect(await new CoordinatorSteps({ ...noHints.context, timers: undefined }).tick()).toEqual({ ticked: 0 });
    await s.steps().start();
    expect(await s.steps().tick()).toEqual({ ticked: 1 });
    await s.steps().restore();
    expect((await s.steps().restore()).failed).toBeDefined(); // one attempt: the second restore fails the job
    s.clock.advance(RETICK_MS);
    expect(await s.steps().tick()).toEqual({ ticked: 0 });
  });
});

describe("best-effort signals", () => {
  it("a tick or a notification that cannot be sent is named in the answer and stops no checkpoint", async () => {
    const s = setup();
    let down = false;
    const context: StepContext = {
      ...s.context,
      queue: {
        send: async (entries) => {
          if (down && entries.some((e) => e.envelope.signal?.kind !== "barrier")) throw new Error("queue down");
          s.sent.push(...entries);
        },
      },
    };
    const lines: string[] = [];
    const handlers = createCoordinatorHandlers(context, { startExecution: async () => {}, log: (l) => lines.push(l) });
    await s.steps().start();
    await s.timers.record("ticks", "k", 0, 0);
    down = true;
    expect(await handlers.round({ job: "ticks", checkpoint: null })).toEqual({
      job: "ticks",
      checkpoint: 1,
      tickError: "queue down",
    });
    expect(lines).toEqual(["coordinator of job 'ticks': timer ticks not sent: queue down"]);
    await ackAll(s, 1);
    s.clock.advance(RETICK_MS); // the hint was marked before the send failed: sent again after RETICK_MS
    // The round completes checkpoint 1 (its notification fails) and, the interval passed, triggers 2.
    expect(await handlers.round({ job: "ticks", checkpoint: 1 })).toEqual({
      job: "ticks",
      checkpoint: 2,
      completed: 1,
      notifyError: "queue down",
      tickError: "queue down",
    });
    expect((await s.context.checkpoints.getManifest("ticks", 1))?.notified).toBeUndefined();
    down = false;
    await ackAll(s, 2);
    s.clock.advance(RETICK_MS);
    const next = await handlers.round({ job: "ticks", checkpoint: 2 });
    expect(next).toMatchObject({ job: "ticks", checkpoint: 3, completed: 2 });
    expect(next).not.toHaveProperty("notifyError");
    expect(next).not.toHaveProperty("tickError");
    expect((await s.context.checkpoints.getManifest("ticks", 2))?.notified).toBe(true);
    expect(signals(s.sent, "checkpoint-complete")).toHaveLength(2); // checkpoint 2's, to the notified task's partitions
    expect(signals(s.sent, "tick")).toEqual(["k[0]"]);
    await expect(handlers.round({ job: "ticks", checkpoint: 1.5 })).rejects.toThrow(/checkpoint id or null/);
    await expect(handlers.round({ job: "other", checkpoint: null })).rejects.toThrow(/got job 'other'/);
  });
});

describe("coordinator trigger when due", () => {
  it("triggers the machine's round only once the interval has passed since the last trigger", async () => {
    const s = setup();
    expect(await s.steps().trigger({ whenDue: true })).toEqual({ checkpoint: 1 }); // the first at once
    await s.steps().abort(1);
    s.clock.advance(600);
    expect(await s.steps().trigger({ whenDue: true })).toEqual({ checkpoint: null });
    expect(await s.steps().trigger()).toEqual({ checkpoint: 2 }); // a savepoint's trigger does not wait
    await s.steps().abort(2);
    s.clock.advance(999);
    expect(await s.steps().trigger({ whenDue: true })).toEqual({ checkpoint: null });
    s.clock.advance(1);
    expect(await s.steps().trigger({ whenDue: true })).toEqual({ checkpoint: 3 });
  });
});

describe("coordinator complete step", () => {
  it("tells the partitions of tasks with notifyCheckpointComplete, once per checkpoint", async () => {
    const s = setup();
    await s.steps().trigger();
    await ackAll(s, 1);
    expect((await s.steps().poll(1)).status).toBe("completed");
    s.sent.length = 0;
    await s.steps().complete();
    const notified = s.plan.tasks.filter((t) => t.operators.some((o) => o.kind === "process"))[0]?.id;
    expect(signals(s.sent, "checkpoint-complete")).toEqual([`${notified}[0]`, `${notified}[1]`]);
    expect(s.sent.map((e) => e.envelope.signal)).toEqual([
      { kind: "checkpoint-complete", n: 1 },
      { kind: "checkpoint-complete", n: 1 },
    ]);
    expect((await s.context.checkpoints.getManifest("ticks", 1))?.notified).toBe(true);
    await s.steps().complete(); // the same checkpoint again (a restore or savepoint publishes first)
    expect(s.sent).toHaveLength(2);
  });

  it("sends nothing for a job without notifyCheckpointComplete", async () => {
    const plain = defineJob("ticks", (env) => {
      env
        .fromGenerator((i) => i, { count: 10 })
        .keyBy((x) => x % 2)
        .sum()
        .sinkTo("out");
    });
    const s = setup(plain);
    await s.steps().trigger();
    await ackAll(s, 1);
    await s.steps().poll(1);
    s.sent.length = 0;
    await s.steps().complete();
    expect(s.sent).toEqual([]);
    expect((await s.context.checkpoints.getManifest("ticks", 1))?.notified).toBeUndefined();
  });
});

describe("coordinator restore step", () => {
  it("marks the job failed once the attempts are used up; Trigger then says so too", async () => {
    const s = setup();
    await s.steps().start();
    expect((await s.steps().restore("first")).generation).toBe(2);
    const failed = await s.steps().restore("second");
    expect(failed).toMatchObject({ checkpoint: null, failed: "job 'ticks' failed after 1 restarts: second" });
    expect(await s.steps().trigger({ whenDue: true })).toEqual({ checkpoint: null, failed: failed.failed });
    expect((await s.context.checkpoints.loadJob("ticks"))?.generation).toBe(2);
  });
});

describe("timer reporter", () => {
  it("writes a partition's next timer only when it changed, after a tick, or first after a reload", async () => {
    const hints = new InMemoryTimerHints();
    const r = new TimerReporter({ hints, job: "j", task: "k", partition: 0 });
    const live = {};
    await r.report(live, undefined, false); // nothing known, nothing to say
    expect(hints.records).toBe(0);
    await r.report(live, 500, false);
    await r.report(live, 500, false);
    expect(hints.records).toBe(1);
    expect(await hints.list("j")).toEqual([{ task: "k", partition: 0, at: 500 }]);
    await r.report(live, 500, true); // a tick that fired nothing: say it again (clears the tick mark)
    expect(hints.records).toBe(2);
    await r.report(live, undefined, false);
    expect(await hints.list("j")).toEqual([]);
    await r.report({}, 700, false); // reloaded: the hint may say anything
    expect(hints.records).toBe(4);
    await r.report({}, undefined, true); // a stale hint's tick: the runner removes it
    expect(await hints.list("j")).toEqual([]);
  });
});
