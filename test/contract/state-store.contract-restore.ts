/**
 * The `StateStore` contract, part 3 of 3: moving state in and out (exportState, resetTask, putBase, putState).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SegmentConflictError, SegmentFencedError } from "../../core/errors.ts";
import type { PartitionBase, Segment, StateStore } from "../../core/ports/state-store.ts";
import { byKey, del, type MakeStateStore, ns, ref, S, seg, sent, set } from "./state-store.contract-helpers.ts";

/** Defines this part of the contract suite for the store `make` creates. */
export function stateStoreRestoreContract(name: string, make: MakeStateStore): void {
  describe(`StateStore contract: ${name}`, () => {
    let store: StateStore;
    let close: (() => void) | undefined;

    beforeEach(async () => {
      const made = await make();
      store = made.store;
      close = made.close;
    });
    afterEach(() => {
      close?.();
    });

    async function appendAll(task: string, partition: number, segments: Segment[]): Promise<void> {
      for (const s of segments) await store.append(task, partition, s);
    }

    describe("exportState", () => {
      async function twoPartitions(): Promise<void> {
        // t[0] owns key groups 0..63, t[1] owns 64..127.
        await appendAll("t", 0, [
          sent(1, [set("a", 1, 1), set("b", 1, 2)]),
          sent(2, [set("a", 2, 1), del("b", 2), set("c", 2, 3)]),
          sent(3, [set("a", 3, 1), set("d", 3, 4)]),
        ]);
        await appendAll("t", 1, [sent(1, [set("x", 1, 70)]), sent(2, [set("x", 2, 70), set("y", 2, 127)])]);
        await store.append("u", 0, sent(1, [set("a", "u", 1)]));
      }

      it("returns one partition's key groups as of segment `through`", async () => {
        await twoPartitions();
        expect(byKey(await store.exportState("t", 0, 2, 0, 63))).toEqual([set("a", 2, 1), set("c", 2, 3)]);
        expect(byKey(await store.exportState("t", 0, 1, 0, 63))).toEqual([set("a", 1, 1), set("b", 1, 2)]);
        expect(byKey(await store.exportState("t", 0, 3, 0, 63))).toEqual([
          set("a", 3, 1),
          set("c", 2, 3),
          set("d", 3, 4),
        ]);
        expect(await store.exportState("t", 0, 0, 0, 63)).toEqual([]);
        expect(byKey(await store.exportState("t", 1, 1, 64, 127))).toEqual([set("x", 1, 70)]);
        expect(byKey(await store.exportState("t", 1, 2, 64, 100))).toEqual([set("x", 2, 70)]);
        // Exporting does not change what is committed.
        expect(await store.getState("t", [ref("a", 1), ref("d", 4)])).toEqual([3, 3]);
      });

      it("includes compacted and putState base values within the key-group range", async () => {
        await twoPartitions();
        expect(await store.compact("t", 0, 1)).toBe(1);
        expect(await store.compact("t", 1, 1)).toBe(1);
        await store.putState("t", [set("p", "put", 5), set("q", "put", 90)]);
        expect(byKey(await store.exportState("t", 0, 2, 0, 63))).toEqual([
          set("a", 2, 1),
          set("c", 2, 3),
          set("p", "put", 5),
        ]);
        expect(byKey(await store.exportState("t", 1, 1, 64, 127))).toEqual([set("q", "put", 90), set("x", 1, 70)]);
        expect(byKey(await store.exportState("t", 0, 1, 0, 63))).toEqual([
          set("a", 1, 1),
          set("b", 1, 2),
          set("p", "put", 5),
        ]);
      });

      it("exports every state id of the task, as values without deletions", async () => {
        await store.append("t", 0, seg(1, { changes: [set("a", 1, 1), set("a", "w", 1, "op/w"), del("z", 1)] }));
        const out = await store.exportState("t", 0, 1, 0, 127);
        expect(byKey(out)).toEqual([set("a", 1, 1), set("a", "w", 1, "op/w")]);
        for (const c of out) expect(c.d).toBeUndefined();
      });
    });

    describe("resetTask", () => {
      it("removes every segment, base and value of that task and no other", async () => {
        await appendAll("t", 0, [sent(1, [set("a", 1, 1)]), sent(2, [set("b", 2, 2)]), sent(3)]);
        expect(await store.compact("t", 0, 2)).toBe(2);
        await appendAll("t", 1, [sent(1, [set("x", 1, 70)])]);
        await store.putState("t", [set("p", 1, 3)]);
        await appendAll("t2", 0, [sent(1, [set("a", "t2", 1)]), sent(2)]);
        expect(await store.compact("t2", 0, 1)).toBe(1);
        await store.putState("t2", [set("p", "t2", 3)]);

        await store.resetTask("t");
        for (const p of [0, 1]) {
          expect(await store.readSegments("t", p, 0)).toEqual([]);
          expect(await store.readBase("t", p)).toBeUndefined();
          expect(await store.exportState("t", p, 10, 0, 127)).toEqual([]);
        }
        expect(await store.getState("t", [ref("a", 1), ref("b", 2), ref("x", 70), ref("p", 3)])).toEqual([
          undefined,
          undefined,
          undefined,
          undefined,
        ]);
        expect(await store.scanState("t", S, 0, 127)).toEqual([]);

        expect((await store.readBase("t2", 0))?.through).toBe(1);
        expect(ns(await store.readSegments("t2", 0, 0))).toEqual([2]);
        expect(await store.getState("t2", [ref("a", 1), ref("p", 3)])).toEqual(["t2", "t2"]);

        await store.append("t", 0, seg(1, { changes: [set("a", "new", 1)] }));
        await store.putBase("t", 1, { ...emptyBase(), through: 4 });
        expect(await store.getState("t", [ref("a", 1)])).toEqual(["new"]);
      });
    });

    describe("dropLogs", () => {
      it("removes every segment and base of that task but keeps its compacted values", async () => {
        await appendAll("t", 0, [sent(1, [set("a", 1, 1)]), sent(2, [set("b", 2, 2)]), sent(3, [set("c", 3, 3)])]);
        expect(await store.compact("t", 0, 2)).toBe(2);
        await appendAll("t", 1, [sent(1, [set("x", 1, 70)])]);
        await appendAll("t2", 0, [sent(1, [set("a", "t2", 1)])]);

        await store.dropLogs("t");
        for (const p of [0, 1]) {
          expect(await store.readSegments("t", p, 0)).toEqual([]);
          expect(await store.readBase("t", p)).toBeUndefined();
        }
        // Folded values stay; what only uncompacted segments held goes with them.
        expect(await store.getState("t", [ref("a", 1), ref("b", 2), ref("c", 3), ref("x", 70)])).toEqual([
          1,
          2,
          undefined,
          undefined,
        ]);
        expect(await store.getState("t2", [ref("a", 1)])).toEqual(["t2"]);
        // New partitions start on the kept values: a new owner of key group 1 overwrites it.
        await store.putBase("t", 3, { ...emptyBase(), through: 10, sentThrough: 10 });
        await store.truncate("t", 3, 10, 2);
        await store.append("t", 3, seg(11, { gen: 2, sentThrough: 10, changes: [set("a", "moved", 1)] }));
        expect(await store.getState("t", [ref("a", 1), ref("b", 2)])).toEqual(["moved", 2]);
        expect(await store.compact("t", 3, 11)).toBe(10);
      });
    });

    describe("putBase", () => {
      it("installs the base of an empty partition; segments continue after it", async () => {
        const base: PartitionBase = {
          ...emptyBase(),
          through: 7,
          sentThrough: 7,
          positions: { "a#0": 40 },
          outSeqs: { "b#0": 12 },
          opState: { src: { pos: 3 } },
          watermarks: { "a#0": 500 },
        };
        await store.putBase("t", 0, base);
        expect(await store.readBase("t", 0)).toEqual(base);
        expect(await store.readSegments("t", 0, 0)).toEqual([]);
        await expect(store.append("t", 0, seg(1))).rejects.toBeInstanceOf(SegmentConflictError);
        await expect(store.append("t", 0, seg(7))).rejects.toBeInstanceOf(SegmentConflictError);
        await store.append("t", 0, seg(8, { positions: { "a#0": 41 }, sentThrough: 7, changes: [set("a", 8)] }));
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([8]);
        expect(ns(await store.readSegments("t", 0, 7))).toEqual([8]);
        await store.append("t", 0, seg(9, { sentThrough: 8 }));
        await expect(store.truncate("t", 0, 6, 1)).rejects.toThrow();
        expect(await store.compact("t", 0, 8)).toBe(8);
        expect(await store.readBase("t", 0)).toEqual({ ...base, through: 8, positions: { "a#0": 41 } });
        expect(await store.getState("t", [ref("a")])).toEqual([8]);
      });

      it("throws on a partition that has a base or segments past the new base", async () => {
        await appendAll("t", 0, [seg(1), seg(2)]);
        await expect(store.putBase("t", 0, { ...emptyBase(), through: 1 })).rejects.toThrow(/is not empty/);
        expect(await store.readBase("t", 0)).toBeUndefined();
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2]);
        const base = { ...emptyBase(), through: 3 };
        await store.putBase("t", 1, base);
        await expect(store.putBase("t", 1, { ...emptyBase(), through: 5 })).rejects.toThrow();
        expect(await store.readBase("t", 1)).toEqual(base);
      });

      it("leaves segments at or below the new base (a zombie's late appends after a reset) unread", async () => {
        // A writer of the old generation appends after resetTask, before putBase (chaos aws-local seed 19).
        await appendAll("t", 0, [seg(1, { changes: [set("a", "old")] }), seg(2, { changes: [set("b", "old")] })]);
        await store.resetTask("t");
        await store.append("t", 0, seg(1, { changes: [set("a", "zombie")] }));
        await store.putState("t", [set("a", "savepoint")]);
        const base = { ...emptyBase(), through: 10, sentThrough: 10 };
        await store.putBase("t", 0, base);
        expect(await store.readBase("t", 0)).toEqual(base);
        expect(await store.readSegments("t", 0, 0)).toEqual([]);
        expect(await store.getState("t", [ref("a"), ref("b")])).toEqual(["savepoint", undefined]);
        await store.append("t", 0, seg(11, { gen: 2, sentThrough: 10, changes: [set("b", 11)] }));
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([11]);
        expect(await store.getState("t", [ref("a"), ref("b")])).toEqual(["savepoint", 11]);
      });
    });

    describe("truncate fences older generations", () => {
      it("refuses appends of a generation below the fence and writes nothing; newer ones reuse voided numbers", async () => {
        await appendAll("t", 0, [
          seg(1, { changes: [set("a", 1)] }),
          seg(2, { changes: [set("a", 2)] }),
          seg(3, { changes: [set("a", 3)] }),
        ]);
        await store.truncate("t", 0, 2, 2);
        const err = await store.append("t", 0, seg(3, { gen: 1, changes: [set("z", "zombie")] })).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SegmentFencedError);
        expect(err).toBeInstanceOf(SegmentConflictError);
        expect((err as SegmentFencedError).reason).toBe("segment-conflict");
        expect((err as SegmentFencedError).message).toMatch(/generation 1.*generation 2/);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2]);
        expect(await store.getState("t", [ref("a"), ref("z")])).toEqual([2, undefined]);

        await store.append("t", 0, seg(3, { gen: 2, changes: [set("a", 30)] }));
        await expect(store.append("t", 0, seg(4, { gen: 1, changes: [set("z", 1)] }))).rejects.toBeInstanceOf(
          SegmentFencedError,
        );
        await store.append("t", 0, seg(4, { gen: 3, changes: [set("a", 40)] }));
        const segs = await store.readSegments("t", 0, 0);
        expect(segs.map((s) => [s.n, s.gen])).toEqual([
          [1, 1],
          [2, 1],
          [3, 2],
          [4, 3],
        ]);
        expect(await store.getState("t", [ref("a"), ref("z")])).toEqual([40, undefined]);
      });

      it("fences at the cut when nothing is voided, and on an empty partition", async () => {
        await appendAll("t", 0, [seg(1), seg(2)]);
        await store.truncate("t", 0, 2, 5);
        await expect(store.append("t", 0, seg(3, { gen: 4 }))).rejects.toBeInstanceOf(SegmentFencedError);
        await store.append("t", 0, seg(3, { gen: 5 }));

        await store.truncate("t", 1, 0, 3);
        await expect(store.append("t", 1, seg(1, { gen: 2 }))).rejects.toBeInstanceOf(SegmentFencedError);
        expect(await store.readSegments("t", 1, 0)).toEqual([]);
        await store.append("t", 1, seg(1, { gen: 3 }));
        expect(ns(await store.readSegments("t", 1, 0))).toEqual([1]);

        // Only that partition is fenced.
        await store.append("t", 2, seg(1, { gen: 1 }));
        await store.append("u", 0, seg(1, { gen: 1 }));
      });

      it("keeps the highest fence, also across compaction", async () => {
        await appendAll("t", 0, [sent(1), sent(2)]);
        await store.truncate("t", 0, 2, 3);
        await store.truncate("t", 0, 2, 2);
        await expect(store.append("t", 0, sent(3, [], { gen: 2 }))).rejects.toBeInstanceOf(SegmentFencedError);
        await store.append("t", 0, sent(3, [set("a", 3)], { gen: 3 }));
        await store.append("t", 0, sent(4, [], { gen: 3 }));
        expect(await store.compact("t", 0, 3)).toBe(3);
        await expect(store.append("t", 0, sent(5, [set("a", 5)], { gen: 1 }))).rejects.toBeInstanceOf(
          SegmentFencedError,
        );
        await store.append("t", 0, sent(5, [], { gen: 3 }));
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([4, 5]);
        expect(await store.getState("t", [ref("a")])).toEqual([3]);
      });
    });

    describe("putState", () => {
      it("writes base values that getState, scanState and exportState see", async () => {
        await store.putState("t", [set("a", 1, 1), set("b", { two: 2 }, 70), set("c", 3, 2)]);
        await store.putState("t", [del("c", 2), set("d", [4], 3)]);
        expect(await store.getState("t", [ref("a", 1), ref("b", 70), ref("c", 2), ref("d", 3)])).toEqual([
          1,
          { two: 2 },
          undefined,
          [4],
        ]);
        expect(byKey(await store.scanState("t", S, 0, 63))).toEqual([
          ["a", 1],
          ["d", [4]],
        ]);
        expect(byKey(await store.exportState("t", 0, 0, 0, 63))).toEqual([set("a", 1, 1), set("d", [4], 3)]);
        expect(byKey(await store.exportState("t", 1, 0, 64, 127))).toEqual([set("b", { two: 2 }, 70)]);
        expect(await store.getState("u", [ref("a", 1)])).toEqual([undefined]);
      });

      it("is overridden by later segments, and seen again when they are truncated", async () => {
        await store.putState("t", [set("a", 1, 1)]);
        await store.append("t", 0, seg(1, { changes: [set("a", 5, 1)] }));
        expect(await store.getState("t", [ref("a", 1)])).toEqual([5]);
        expect(byKey(await store.exportState("t", 0, 0, 0, 63))).toEqual([set("a", 1, 1)]);
        expect(byKey(await store.exportState("t", 0, 1, 0, 63))).toEqual([set("a", 5, 1)]);
        await store.truncate("t", 0, 0, 1);
        expect(await store.getState("t", [ref("a", 1)])).toEqual([1]);
        expect(await store.scanState("t", S, 0, 127)).toEqual([["a", 1]]);
      });
    });
  });
}

function emptyBase(): PartitionBase {
  return {
    through: 0,
    sentThrough: 0,
    positions: {},
    outSeqs: {},
    opState: {},
    watermarks: {},
    ended: [],
    finished: false,
    buffered: [],
  };
}
