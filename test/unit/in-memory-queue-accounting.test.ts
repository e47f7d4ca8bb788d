// InMemoryQueue: dead letters, backlog and the next visible time.

import { describe, expect, it } from "vitest";
import { entry, envelope, fill, seqs, setup, TASK, VISIBILITY } from "./in-memory-queue-helpers.ts";

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
