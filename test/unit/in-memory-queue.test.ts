// InMemoryQueue: FIFO delivery per group, and fairness between groups and tasks.

import { describe, expect, it } from "vitest";
import type { OutboxEntry } from "../../core/envelope.ts";
import { entry, envelope, fill, seqs, setup, TASK } from "./in-memory-queue-helpers.ts";

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
