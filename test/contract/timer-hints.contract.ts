/**
 * The `TimerHints` contract: the behaviour every implementation must share, written
 * once and run against each of them (see `stores.test.ts`, `dynamo.test.ts`).
 */

import { beforeEach, describe, expect, it } from "vitest";
import type { TimerHints } from "../../core/ports/timer-hints.ts";

/** Fresh, empty hints. */
export type MakeTimerHints = () => Promise<TimerHints>;

/** Defines the contract suite for the hints `make` creates. */
export function timerHintsContract(name: string, make: MakeTimerHints): void {
  describe(`TimerHints contract: ${name}`, () => {
    let hints: TimerHints;
    beforeEach(async () => {
      hints = await make();
    });

    it("keeps one hint per partition, replaced by each record and removed by undefined, per job", async () => {
      expect(await hints.list("j")).toEqual([]);
      await hints.record("j", "task-a", 0, 100);
      await hints.record("j", "task-a", 1, 200);
      await hints.record("j", "task-b", 0, 300);
      await hints.record("other", "task-a", 0, 1);
      await hints.record("j", "task-a", 0, 150);
      await hints.record("j", "task-b", 0, undefined);
      await hints.record("j", "task-b", 3, undefined); // nothing to remove
      const sorted = (await hints.list("j")).sort((a, b) => a.at - b.at);
      expect(sorted).toEqual([
        { task: "task-a", partition: 0, at: 150 },
        { task: "task-a", partition: 1, at: 200 },
      ]);
      expect(await hints.list("other")).toEqual([{ task: "task-a", partition: 0, at: 1 }]);
    });

    it("marks a tick only on the hint it was sent for; the next record clears the mark", async () => {
      await hints.record("j", "t", 0, 100);
      expect(await hints.markTicked("j", { task: "t", partition: 0, at: 100 }, 5000)).toBe(true);
      expect(await hints.list("j")).toEqual([{ task: "t", partition: 0, at: 100, tickedAt: 5000 }]);
      expect(await hints.markTicked("j", { task: "t", partition: 0, at: 99 }, 6000)).toBe(false);
      expect(await hints.markTicked("j", { task: "t", partition: 1, at: 100 }, 6000)).toBe(false);
      expect(await hints.list("j")).toEqual([{ task: "t", partition: 0, at: 100, tickedAt: 5000 }]);
      await hints.record("j", "t", 0, 100);
      expect(await hints.list("j")).toEqual([{ task: "t", partition: 0, at: 100 }]);
      await hints.record("j", "t", 0, undefined);
      expect(await hints.markTicked("j", { task: "t", partition: 0, at: 100 }, 7000)).toBe(false);
      expect(await hints.list("j")).toEqual([]);
    });
  });
}
