import { beforeEach, describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { valueState } from "../../core/api/state.ts";
import type { Envelope } from "../../core/envelope.ts";
import { ProtocolError } from "../../core/errors.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan } from "../../core/graph/plan.ts";
import { planJob } from "../../core/graph/planner.ts";
import { encodeKey, keyGroupOf, partitionOfKeyGroup } from "../../core/keys.ts";
import { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { type InboundMessage, TaskRunner } from "../../core/runtime/task-runner.ts";
import { committed, FaultyQueue, FaultyStore, InjectedCrash } from "../support/faults.ts";

/**
 * in (driven by the test) → rebalance → upper (map, ×1) → keyBy(word) → count (keyed, ×2) → sink "counts".
 * The test plays the "in" task: it hands envelopes on channel in#0 to `upper` directly.
 */
function pipeline() {
  const poison = new Set<string>();
  const job = defineJob("wc", (env) => {
    env.setRecordFailureStrategy("dead-letter");
    env
      .fromElements([] as string[])
      .uid("in")
      .rebalance()
      .map((w) => {
        if (poison.has(w)) throw new Error(`cannot take '${w}'`);
        return w.toUpperCase();
      })
      .uid("upper")
      .keyBy((w) => w)
      .process({
        state: { n: valueState<number>() },
        processElement(w, ctx) {
          const n = (ctx.state.n.value() ?? 0) + 1;
          ctx.state.n.update(n);
          ctx.emit(`${w}=${n}`);
        },
      })
      .uid("count")
      .setParallelism(2)
      .sinkTo("counts");
  });
  const graph: JobGraph = buildGraph(job, { parallelism: 1 });
  const plan: Plan = planJob(graph);
  const clock = new ManualClock();
  const memQueue = new InMemoryQueue(clock);
  const queue = new FaultyQueue(memQueue);
  const store = new FaultyStore(new InMemoryStateStore({ copy: true }));
  const runner = (task: string, partition: number) =>
    new TaskRunner({ plan, graph, task, partition, queue, store, clock, generation: 1 });
  let seq = 0;
  const env = (records: string[], over: Partial<Envelope> = {}): Envelope => ({
    gen: 1,
    from: "in#0",
    seq: ++seq,
    records,
    ...over,
  });
  const msg = (body: Envelope, receiveCount = 1): InboundMessage => ({ body, receiveCount });
  /** Delivers everything queued for `count` to fresh-or-given runners until the queue is empty. */
  const drainCount = async (runners = [runner("count", 0), runner("count", 1)]) => {
    for (;;) {
      const got = await memQueue.receive("count", 10);
      const first = got[0];
      if (!first) return runners;
      const r = await (runners[first.group] as TaskRunner).handle(got.map((m) => msg(m.body, m.receiveCount)));
      expect(r.failedFrom).toBeUndefined();
      await memQueue.ack(
        "count",
        got.map((m) => m.receipt),
      );
    }
  };
  const counts = async () => (await committed(store, "count", 2, "counts")).sort();
  return { plan, graph, queue, memQueue, store, runner, env, msg, drainCount, counts, poison };
}

describe("TaskRunner exactly-once", () => {
  let p: ReturnType<typeof pipeline>;
  beforeEach(() => {
    p = pipeline();
  });

  it("plans the pipeline as three tasks", () => {
    expect(p.plan.tasks.map((t) => `${t.id}×${t.parallelism}`)).toEqual(["in×1", "upper×1", "count×2"]);
    expect(p.plan.tasks[2]?.operators.map((o) => o.kind)).toEqual(["process", "sink"]);
  });

  it("drops a duplicated envelope, in the same batch and in a later one", async () => {
    const upper = p.runner("upper", 0);
    const e1 = p.env(["a", "b"]);
    const e2 = p.env(["a"]);
    expect((await upper.handle([p.msg(e1), p.msg(e1), p.msg(e2)])).failedFrom).toBeUndefined();
    const again = await upper.handle([p.msg(e2), p.msg(e1)]);
    expect(again.failedFrom).toBeUndefined();
    expect(again.segment).toBeUndefined(); // nothing new: no commit at all
    await p.drainCount();
    expect(await p.counts()).toEqual(["A=1", "A=2", "B=1"]);
    expect(upper.stats.duplicates).toBe(3);
  });

  it("a redelivered batch on a cold runner changes nothing", async () => {
    const batch = [p.msg(p.env(["x", "y"])), p.msg(p.env(["x"]))];
    await p.runner("upper", 0).handle(batch);
    const cold = p.runner("upper", 0);
    const again = await cold.handle(batch.map((m) => p.msg(m.body, 2)));
    expect(again).toEqual({ failedFrom: undefined });
    await p.drainCount();
    expect(await p.counts()).toEqual(["X=1", "X=2", "Y=1"]);
    expect(p.store.inner.segmentCount("upper", 0)).toBe(1);
  });

  it("a crash between segment commit and send: the retry re-sends the outbox, downstream dedups", async () => {
    const upper = p.runner("upper", 0);
    const batch = [p.msg(p.env(["a", "b", "c", "a"]))];
    p.store.crashAfterAppend = true;
    const r1 = await upper.handle(batch);
    expect(r1.failedFrom).toBe(0);
    expect(r1.error).toBeInstanceOf(InjectedCrash);
    expect(p.store.inner.segmentCount("upper", 0)).toBe(1); // committed…
    expect(p.memQueue.backlog("count")).toBe(0); // …but nothing was sent

    upper.crash(); // the container dies; the batch is redelivered to a cold one
    const r2 = await p.runner("upper", 0).handle(batch.map((m) => p.msg(m.body, 2)));
    expect(r2.failedFrom).toBeUndefined();
    expect(p.store.inner.segmentCount("upper", 0)).toBe(1); // no second commit
    await p.drainCount();
    expect(await p.counts()).toEqual(["A=1", "A=2", "B=1", "C=1"]);
  });

  it("a crash half-way through sending: the re-send duplicates some envelopes, which are dropped", async () => {
    const upper = p.runner("upper", 0);
    const batch = [p.msg(p.env(["a", "b", "c", "d", "e", "f"]))];
    p.queue.crashSendAfter = 1;
    expect((await upper.handle(batch)).failedFrom).toBe(0);
    expect(p.memQueue.backlog("count")).toBe(1);
    // Same warm runner retries: it first re-sends the unconfirmed outbox.
    expect((await upper.handle(batch)).failedFrom).toBeUndefined();
    expect(p.memQueue.backlog("count")).toBe(3);
    await p.drainCount();
    expect(await p.counts()).toEqual(["A=1", "B=1", "C=1", "D=1", "E=1", "F=1"]);
  });

  it("a crash before commit loses nothing: the retry processes the batch once", async () => {
    const batch = [p.msg(p.env(["q", "q"]))];
    p.store.crashBeforeAppend = true;
    const upper = p.runner("upper", 0);
    expect((await upper.handle(batch)).failedFrom).toBe(0);
    expect(p.store.inner.segmentCount("upper", 0)).toBe(0);
    expect((await upper.handle(batch)).failedFrom).toBeUndefined();
    await p.drainCount();
    expect(await p.counts()).toEqual(["Q=1", "Q=2"]);
  });

  it("duplicated sends and a cold downstream give each key its count once", async () => {
    p.queue.duplicate = true;
    const upper = p.runner("upper", 0);
    await upper.handle([p.msg(p.env(["k", "l", "k"]))]);
    const downstream = await p.drainCount();
    await upper.handle([p.msg(p.env(["k", "l"]))]);
    downstream.forEach((r) => {
      r.crash();
    });
    await p.drainCount(downstream); // crashed runners reload state from the log
    expect(await p.counts()).toEqual(["K=1", "K=2", "K=3", "L=1", "L=2"]);
  });

  it("an envelope ahead of its turn waits in the durable buffer until the gap fills", async () => {
    // Three words whose upper-case keys all land in count[0], so their order is visible in one channel.
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`)
      .filter((w) => partitionOfKeyGroup(keyGroupOf(encodeKey(w.toUpperCase()), 128), 2, 128) === 0)
      .slice(0, 3);
    expect(words.length).toBe(3);
    const [first, second, third] = words as [string, string, string];
    const e1 = p.env([first]);
    const e2 = p.env([second]);
    const e3 = p.env([third]);
    await p.runner("upper", 0).handle([p.msg(e3), p.msg(e2)]);
    expect(p.memQueue.backlog("count")).toBe(0); // nothing processed yet, but buffered durably
    // The container dies; only e1 arrives at a cold runner.
    await p.runner("upper", 0).handle([p.msg(e1)]);
    const order: string[] = [];
    for (const seg of await p.store.readSegments("upper", 0, 0)) {
      for (const o of seg.outbox) order.push(...(o.envelope.records as string[]));
    }
    expect(order).toEqual([first, second, third].map((w) => w.toUpperCase()));
  });

  it("two writers on one partition: the loser reloads, finds the input consumed, and does not double-count", async () => {
    const a = p.runner("upper", 0);
    const b = p.runner("upper", 0);
    await a.handle([p.msg(p.env(["z"]))]); // a: segment 1
    await b.handle([p.msg(p.env(["warm"]))]); // b loads (sees segment 1), commits segment 2
    const e = p.env(["w"]);
    await a.handle([p.msg(e)]); // a's view is stale: conflict on segment 2, reload, commit 3
    await b.handle([p.msg(e)]); // b is stale too; reloads and drops the duplicate
    expect(p.store.inner.segmentCount("upper", 0)).toBe(3);
    await p.drainCount();
    expect(await p.counts()).toEqual(["W=1", "WARM=1", "Z=1"]);
  });

  it("drops envelopes of an older generation", async () => {
    const upper = p.runner("upper", 0);
    const r = await upper.handle([p.msg(p.env(["old"], { gen: 0 }))]);
    expect(r).toEqual({ failedFrom: undefined });
    expect(upper.stats.duplicates).toBe(1);
  });

  it("rejects an envelope from a channel the partition does not have", async () => {
    const r = await p.runner("upper", 0).handle([p.msg(p.env(["x"], { from: "nowhere#3" }))]);
    expect(r.failedFrom).toBe(0);
    expect(r.error).toBeInstanceOf(ProtocolError);
  });

  it("retries a poison record, then dead-letters it and commits the rest exactly once", async () => {
    p.poison.add("bad");
    const upper = p.runner("upper", 0);
    const batch = [p.msg(p.env(["ok1", "bad", "ok2"])), p.msg(p.env(["ok3"]))];
    for (const attempt of [1, 2]) {
      const r = await upper.handle(batch.map((m) => p.msg(m.body, attempt)));
      expect(r.failedFrom).toBe(0);
      expect(String(r.error)).toMatch(/cannot take 'bad'/);
    }
    const r3 = await upper.handle(batch.map((m) => p.msg(m.body, 3)));
    expect(r3.failedFrom).toBeUndefined();
    expect(r3.segment?.deadLetters).toEqual([
      expect.objectContaining({ operator: "upper", value: "bad", attempts: 3, error: "cannot take 'bad'", seq: 1 }),
    ]);
    await p.drainCount();
    expect(await p.counts()).toEqual(["OK1=1", "OK2=1", "OK3=1"]);
  });

  it("on the last attempt, a failing envelope whose own attempts remain fails alone; the prefix commits", async () => {
    p.poison.add("bad");
    const upper = p.runner("upper", 0);
    const first = p.msg(p.env(["bad"]), 3); // exhausted: dead-lettered
    const second = p.msg(p.env(["fine", "bad"]), 1); // fresh: must be retried, not dead-lettered
    const r = await upper.handle([first, second]);
    expect(r.failedFrom).toBe(1);
    expect(r.segment?.deadLetters?.length).toBe(1);
    await p.drainCount();
    expect(await p.counts()).toEqual([]);
    const retry = await upper.handle([p.msg(second.body, 3)]);
    expect(retry.failedFrom).toBeUndefined();
    await p.drainCount();
    expect(await p.counts()).toEqual(["FINE=1"]);
  });
});
