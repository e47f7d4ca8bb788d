// InMemoryQueue.peek: what the next receive of a group would take, received by nobody.

import { describe, expect, it } from "vitest";
import { fill, setup, TASK, VISIBILITY } from "./in-memory-queue-helpers.ts";

describe("InMemoryQueue peek", () => {
  it("shows the messages after the group's batch in flight, and receives none of them", async () => {
    const { queue } = setup();
    await fill(queue, 0, 5);
    const inFlight = await queue.receive(TASK, 2);

    const peeked = queue.peek(TASK, 0, 2);
    const again = queue.peek(TASK, 0, 10);
    await queue.ack(
      TASK,
      inFlight.map((m) => m.receipt),
    );
    const next = await queue.receive(TASK, 10);

    expect(inFlight.map((m) => m.body.seq)).toEqual([1, 2]);
    expect(peeked.map((e) => e.seq)).toEqual([3, 4]);
    expect(again.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(next.map((m) => m.body.seq)).toEqual([3, 4, 5]); // peeked, still received once, in order
    expect(next.every((m) => m.receiveCount === 1)).toBe(true);
    await fill(queue, 1, 2);
    expect(queue.peek(TASK, 1, 10).map((e) => e.seq)).toEqual([1, 2]); // another group: its own line
    expect(queue.peek(TASK, 7, 10)).toEqual([]);
    expect(queue.peek("no-such-task", 0, 10)).toEqual([]);
  });

  it("stops at a delayed head, and shows a batch whose visibility timeout passed (it is next again)", async () => {
    const { clock, queue } = setup();
    await fill(queue, 0, 3);
    const first = await queue.receive(TASK, 1);
    await queue.nack(
      TASK,
      first.map((m) => m.receipt),
      500,
      "failed",
    );

    const whileDelayed = queue.peek(TASK, 0, 10);
    clock.advance(500);
    const afterDelay = queue.peek(TASK, 0, 10);
    await queue.receive(TASK, 1); // seq 1 again, then its visibility timeout passes
    clock.advance(VISIBILITY);
    const afterTimeout = queue.peek(TASK, 0, 10);

    expect(whileDelayed).toEqual([]); // FIFO: a delayed head blocks the group
    expect(afterDelay.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(afterTimeout.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
