import { describe, expect, it } from "vitest";
import { fill, seqs, setup, TASK } from "./in-memory-queue-helpers.ts";

describe("InMemoryQueue receives spanning groups (spanGroups, as SQS may)", () => {
  it("fills one receive from several groups, in order within each, skipping busy groups", async () => {
    // prepare
    const { queue } = setup({ spanGroups: true });
    await fill(queue, 0, 3);
    await fill(queue, 1, 4);
    await fill(queue, 2, 2);

    // act
    const first = await queue.receive(TASK, 6);
    const second = await queue.receive(TASK, 10);

    // assess
    expect(first.length).toBe(6);
    const byGroup = (ms: typeof first, g: number) => seqs(ms.filter((m) => m.group === g));
    expect(byGroup(first, 0)).toEqual([1, 2, 3]);
    expect(byGroup(first, 1)).toEqual([1, 2, 3]);
    // Groups 0 and 1 are in flight; only group 2 can be delivered now.
    expect(second.map((m) => m.group)).toEqual([2, 2]);
    expect(seqs(second)).toEqual([1, 2]);
    await queue.ack(
      TASK,
      first.filter((m) => m.group === 1).map((m) => m.receipt),
    );
    expect(seqs(await queue.receive(TASK, 10))).toEqual([4]);
  });

  it("without spanGroups a receive stays within one group", async () => {
    const { queue } = setup();
    await fill(queue, 0, 2);
    await fill(queue, 1, 2);
    const got = await queue.receive(TASK, 10);
    expect(new Set(got.map((m) => m.group)).size).toBe(1);
  });
});
