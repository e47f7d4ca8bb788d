// InMemoryQueue: in-flight batches, acks, nacks and visibility timeouts.

import { describe, expect, it } from "vitest";
import { fill, seqs, setup, TASK, VISIBILITY } from "./in-memory-queue-helpers.ts";

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
