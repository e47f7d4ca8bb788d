import { describe, expect, it } from "vitest";
import type { Envelope, OutboxEntry } from "../../core/envelope.ts";
import { InMemoryQueue, type InMemoryQueueOptions } from "../../core/memory/in-memory-queue.ts";
import { ManualClock } from "../../core/ports/clock.ts";

const TASK = "task-a";
const VISIBILITY = 1_000;

function envelope(seq: number, from = "up#0"): Envelope {
  return { gen: 1, from, seq, records: [`r${seq}`] };
}

function entry(partition: number, seq: number, task = TASK): OutboxEntry {
  return { to: { task, partition }, envelope: envelope(seq, `up#${partition}`) };
}

function setup(options: InMemoryQueueOptions = {}): { clock: ManualClock; queue: InMemoryQueue } {
  const clock = new ManualClock(10_000);
  const queue = new InMemoryQueue(clock, { visibilityTimeoutMs: VISIBILITY, maxReceiveCount: 5, ...options });
  return { clock, queue };
}

/** Sends `count` envelopes (seq 1..count) to `group` of TASK. */
async function fill(queue: InMemoryQueue, group: number, count: number, firstSeq = 1): Promise<void> {
  await queue.send(Array.from({ length: count }, (_, i) => entry(group, firstSeq + i)));
}

const seqs = (msgs: readonly { body: Envelope }[]) => msgs.map((m) => m.body.seq);

describe("InMemoryQueue delivery", () => {
  it("delivers a group's messages in FIFO order", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 5);

    // act
    const batch = await queue.receive(TASK, 10);

    // assess
    expect(seqs(batch)).toEqual([1, 2, 3, 4, 5]);
    expect(batch.every((m) => m.group === 0 && m.receiveCount === 1)).toBe(true);
    expect(batch[0]?.body).toEqual(envelope(1, "up#0"));
  });

  it("keeps FIFO order across successive batches", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 7);
    const delivered: number[] = [];

    // act
    for (let i = 0; i < 4; i++) {
      const batch = await queue.receive(TASK, 2);
      delivered.push(...seqs(batch));
      await queue.ack(
        TASK,
        batch.map((m) => m.receipt),
      );
    }

    // assess
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(queue.backlog(TASK)).toBe(0);
  });

  it("returns at most `max` messages per receive", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 10);

    // act
    const batch = await queue.receive(TASK, 3);

    // assess
    expect(seqs(batch)).toEqual([1, 2, 3]);
  });

  it("returns messages of one group only per receive", async () => {
    // prepare
    const { queue } = setup();
    const interleaved: OutboxEntry[] = [];
    for (let seq = 1; seq <= 4; seq++) for (const g of [0, 1, 2]) interleaved.push(entry(g, seq));
    await queue.send(interleaved);

    // act
    const batch = await queue.receive(TASK, 100);

    // assess
    expect(batch).toHaveLength(4);
    const group = batch[0]?.group;
    expect(batch.every((m) => m.group === group)).toBe(true);
    expect(batch.every((m) => m.body.from === `up#${group}`)).toBe(true);
    expect(seqs(batch)).toEqual([1, 2, 3, 4]);
  });

  it("does not block other groups while one group has a batch in flight", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 2);
    await fill(queue, 1, 2);
    await fill(queue, 2, 2);

    // act
    const first = await queue.receive(TASK, 10);
    const second = await queue.receive(TASK, 10);
    const third = await queue.receive(TASK, 10);
    const fourth = await queue.receive(TASK, 10);

    // assess
    expect(new Set([first[0]?.group, second[0]?.group, third[0]?.group])).toEqual(new Set([0, 1, 2]));
    for (const batch of [first, second, third]) expect(seqs(batch)).toEqual([1, 2]);
    expect(fourth).toEqual([]);
  });

  it("serves groups in turn, so a group that is always ready does not starve the others", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 3);
    await fill(queue, 1, 3);
    const served: number[] = [];

    // act
    for (let i = 0; i < 4; i++) {
      const batch = await queue.receive(TASK, 1);
      served.push(...batch.map((m) => m.group));
      await queue.ack(
        TASK,
        batch.map((m) => m.receipt),
      );
    }

    // assess
    expect(served).toHaveLength(4);
    expect(served.filter((g) => g === 0)).toHaveLength(2);
    expect(served.filter((g) => g === 1)).toHaveLength(2);
  });

  it("keeps task queues apart", async () => {
    // prepare
    const { queue } = setup();
    await queue.send([entry(0, 1, "task-b")]);

    // act
    const forA = await queue.receive(TASK, 10);
    const forB = await queue.receive("task-b", 10);
    const forUnknown = await queue.receive("nobody", 10);

    // assess
    expect(forA).toEqual([]);
    expect(seqs(forB)).toEqual([1]);
    expect(forUnknown).toEqual([]);
  });
});

describe("InMemoryQueue in-flight batches", () => {
  it("does not deliver a group again while its batch is in flight, then continues after ack", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 3);
    const first = await queue.receive(TASK, 1);

    // act
    const whileBusy = await queue.receive(TASK, 10);
    await queue.ack(
      TASK,
      first.map((m) => m.receipt),
    );
    const afterAck = await queue.receive(TASK, 10);

    // assess
    expect(seqs(first)).toEqual([1]);
    expect(whileBusy).toEqual([]);
    expect(seqs(afterAck)).toEqual([2, 3]);
    expect(afterAck.every((m) => m.receiveCount === 1)).toBe(true);
  });

  it("keeps the group busy until every message of the batch is settled", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 3);
    const batch = await queue.receive(TASK, 2);

    // act
    await queue.ack(TASK, [batch[0]?.receipt ?? ""]);
    const partlySettled = await queue.receive(TASK, 10);
    await queue.ack(TASK, [batch[1]?.receipt ?? ""]);
    const settled = await queue.receive(TASK, 10);

    // assess
    expect(partlySettled).toEqual([]);
    expect(seqs(settled)).toEqual([3]);
  });

  it("continues after nack without delay, redelivering the same messages in order", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 3);
    const batch = await queue.receive(TASK, 2);

    // act
    await queue.nack(
      TASK,
      batch.map((m) => m.receipt),
      0,
      "failed",
    );
    const again = await queue.receive(TASK, 10);

    // assess
    expect(seqs(again)).toEqual([1, 2, 3]);
    expect(again.map((m) => m.receiveCount)).toEqual([2, 2, 1]);
  });

  it("keeps the group busy when the head is nacked without delay while the rest of its batch is in flight", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 3);
    const batch = await queue.receive(TASK, 2);

    // act
    await queue.nack(TASK, [batch[0]?.receipt ?? ""], 0, "head failed");
    const whileTailInFlight = await queue.receive(TASK, 10);
    await queue.nack(TASK, [batch[1]?.receipt ?? ""], 0, "tail failed");
    const afterTail = await queue.receive(TASK, 10);

    // assess
    expect(whileTailInFlight).toEqual([]);
    expect(seqs(afterTail)).toEqual([1, 2, 3]);
    expect(afterTail.map((m) => m.receiveCount)).toEqual([2, 2, 1]);
  });

  it("redelivers an unsettled batch once the visibility timeout passes", async () => {
    // prepare
    const { clock, queue } = setup();
    await fill(queue, 0, 2);
    const first = await queue.receive(TASK, 10);

    // act
    clock.advance(VISIBILITY - 1);
    const beforeExpiry = await queue.receive(TASK, 10);
    clock.advance(1);
    const redelivered = await queue.receive(TASK, 10);

    // assess
    expect(beforeExpiry).toEqual([]);
    expect(seqs(redelivered)).toEqual(seqs(first));
    expect(redelivered.map((m) => m.receiveCount)).toEqual([2, 2]);
    expect(redelivered.map((m) => m.receipt)).not.toContain(first[0]?.receipt);
    expect(redelivered.map((m) => m.receipt)).not.toContain(first[1]?.receipt);
  });

  it("ignores stale receipts from a delivery that timed out", async () => {
    // prepare
    const { clock, queue } = setup();
    await fill(queue, 0, 2);
    const first = await queue.receive(TASK, 10);
    clock.advance(VISIBILITY);
    const second = await queue.receive(TASK, 10);

    // act
    await queue.ack(
      TASK,
      first.map((m) => m.receipt),
    );
    const backlogAfterStaleAck = queue.backlog(TASK);
    const receiveAfterStaleAck = await queue.receive(TASK, 10);
    await queue.nack(
      TASK,
      first.map((m) => m.receipt),
      0,
      "stale",
    );
    const receiveAfterStaleNack = await queue.receive(TASK, 10);
    await queue.ack(
      TASK,
      second.map((m) => m.receipt),
    );

    // assess
    expect(backlogAfterStaleAck).toBe(2);
    expect(receiveAfterStaleAck).toEqual([]);
    expect(receiveAfterStaleNack).toEqual([]);
    expect(queue.backlog(TASK)).toBe(0);
  });

  it("keeps a nacked group invisible for the nack delay, then redelivers it in order", async () => {
    // prepare
    const { clock, queue } = setup();
    await fill(queue, 0, 3);
    const batch = await queue.receive(TASK, 2);

    // act
    await queue.nack(
      TASK,
      batch.map((m) => m.receipt),
      500,
      "throttled",
    );
    const during = await queue.receive(TASK, 10);
    clock.advance(499);
    const justBefore = await queue.receive(TASK, 10);
    clock.advance(1);
    const after = await queue.receive(TASK, 10);

    // assess
    expect(during).toEqual([]);
    expect(justBefore).toEqual([]);
    expect(seqs(after)).toEqual([1, 2, 3]);
    expect(after.map((m) => m.receiveCount)).toEqual([2, 2, 1]);
  });

  it("blocks visible later messages behind a delayed head", async () => {
    // prepare
    const { clock, queue } = setup();
    await fill(queue, 0, 3);
    const head = await queue.receive(TASK, 1);

    // act
    await queue.nack(
      TASK,
      head.map((m) => m.receipt),
      200,
      "retry later",
    );
    const blocked = await queue.receive(TASK, 10);
    clock.advance(200);
    const released = await queue.receive(TASK, 10);

    // assess
    expect(blocked).toEqual([]);
    expect(seqs(released)).toEqual([1, 2, 3]);
  });

  it("delivers the rest of a batch after the head is acked and the tail nacked with delay", async () => {
    // prepare
    const { clock, queue } = setup();
    await fill(queue, 0, 3);
    const batch = await queue.receive(TASK, 3);

    // act
    await queue.ack(TASK, [batch[0]?.receipt ?? ""]);
    await queue.nack(
      TASK,
      batch.slice(1).map((m) => m.receipt),
      300,
      "partial failure",
    );
    const early = await queue.receive(TASK, 10);
    clock.advance(300);
    const late = await queue.receive(TASK, 10);

    // assess
    expect(early).toEqual([]);
    expect(seqs(late)).toEqual([2, 3]);
  });
});

describe("InMemoryQueue dead letters", () => {
  it("dead-letters a message after maxReceiveCount receives with its last error, then delivers the next", async () => {
    // prepare
    const { queue } = setup({ maxReceiveCount: 3 });
    await fill(queue, 4, 2);
    const counts: number[] = [];

    // act
    for (let attempt = 1; attempt <= 3; attempt++) {
      const batch = await queue.receive(TASK, 1);
      counts.push(...batch.map((m) => m.receiveCount));
      await queue.nack(
        TASK,
        batch.map((m) => m.receipt),
        0,
        `failure ${attempt}`,
      );
    }
    const next = await queue.receive(TASK, 10);

    // assess
    expect(counts).toEqual([1, 2, 3]);
    expect(queue.deadLetters(TASK)).toEqual([
      { task: TASK, group: 4, body: envelope(1, "up#4"), receiveCount: 3, error: "failure 3" },
    ]);
    expect(seqs(next)).toEqual([2]);
    expect(next[0]?.receiveCount).toBe(1);
    expect(queue.backlog(TASK)).toBe(1);
  });

  it("dead-letters a message whose visibility timed out maxReceiveCount times", async () => {
    // prepare
    const { clock, queue } = setup({ maxReceiveCount: 2 });
    await fill(queue, 0, 1);

    // act
    await queue.receive(TASK, 1);
    clock.advance(VISIBILITY);
    await queue.receive(TASK, 1);
    clock.advance(VISIBILITY);
    const third = await queue.receive(TASK, 1);

    // assess
    expect(third).toEqual([]);
    expect(queue.deadLetters(TASK)).toHaveLength(1);
    expect(queue.deadLetters(TASK)[0]?.receiveCount).toBe(2);
    expect(queue.backlog(TASK)).toBe(0);
  });

  it("reports no dead letters for a healthy or unknown task", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 1);
    const batch = await queue.receive(TASK, 1);
    await queue.ack(
      TASK,
      batch.map((m) => m.receipt),
    );

    // act + assess
    expect(queue.deadLetters(TASK)).toEqual([]);
    expect(queue.deadLetters("nobody")).toEqual([]);
  });
});

describe("InMemoryQueue accounting", () => {
  it("counts waiting messages, in flight or not, per task and in total", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 3);
    await fill(queue, 1, 2);
    await queue.send([entry(0, 1, "task-b")]);

    // act
    const initial = [queue.backlog(TASK), queue.backlog("task-b"), queue.totalBacklog()];
    const batch = await queue.receive(TASK, 10);
    const inFlight = [queue.backlog(TASK), queue.totalBacklog()];
    await queue.ack(
      TASK,
      batch.map((m) => m.receipt),
    );
    const afterAck = [queue.backlog(TASK), queue.totalBacklog()];

    // assess
    expect(initial).toEqual([5, 1, 6]);
    expect(inFlight).toEqual([5, 6]);
    expect(afterAck).toEqual([5 - batch.length, 6 - batch.length]);
    expect(queue.backlog("nobody")).toBe(0);
    expect(queue.sent).toBe(6);
  });

  it("reports no next visible time when every queue is empty", async () => {
    // prepare
    const { queue } = setup();
    await fill(queue, 0, 1);
    const batch = await queue.receive(TASK, 10);
    await queue.ack(
      TASK,
      batch.map((m) => m.receipt),
    );

    // act
    const next = queue.nextVisibleAt();

    // assess
    expect(next).toBeUndefined();
    expect(setup().queue.nextVisibleAt()).toBeUndefined();
  });

  it("reports fresh messages as deliverable now", async () => {
    // prepare
    const { clock, queue } = setup();
    await fill(queue, 0, 2);

    // act
    const next = queue.nextVisibleAt();

    // assess
    expect(next).toBeDefined();
    expect(next).toBeLessThanOrEqual(clock.now());
  });

  it("reports an in-flight batch as deliverable again at its visibility timeout", async () => {
    // prepare: the message behind the in-flight one is blocked by it
    const { clock, queue } = setup();
    await fill(queue, 0, 2);

    // act
    await queue.receive(TASK, 1);
    const next = queue.nextVisibleAt();

    // assess
    expect(next).toBe(clock.now() + VISIBILITY);
  });

  it("reports the end of a nack delay, and the earliest group when several wait", async () => {
    // prepare
    const { clock, queue } = setup();
    await fill(queue, 0, 3);
    const batch = await queue.receive(TASK, 2);
    clock.advance(100);

    // act
    await queue.nack(
      TASK,
      batch.map((m) => m.receipt),
      250,
      "later",
    );
    const afterNack = queue.nextVisibleAt();
    await fill(queue, 1, 1);
    const withFreshGroup = queue.nextVisibleAt();

    // assess
    expect(afterNack).toBe(clock.now() + 250);
    expect(withFreshGroup).toBeLessThanOrEqual(clock.now());
  });
});
