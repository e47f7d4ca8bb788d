/**
 * The `StateStore` contract, part 1 of 3: the segment log (append, readSegments, readBase, compact).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SegmentConflictError } from "../../core/errors.ts";
import type { PartitionBase, Segment, StateStore } from "../../core/ports/state-store.ts";
import { byKey, del, env, type MakeStateStore, ns, ref, S, seg, sent, set } from "./state-store.contract-helpers.ts";

/** Defines this part of the contract suite for the store `make` creates. */
export function stateStoreLogContract(name: string, make: MakeStateStore): void {
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

    describe("append", () => {
      it("stores segments that readSegments returns whole and in order", async () => {
        const s1 = seg(1, {
          positions: { "src#0": 3 },
          outSeqs: { "sink#0": 1 },
          changes: [set("a", { n: 1, tags: ["x", "y"] }), del("b", 2)],
          outbox: [
            {
              to: { task: "sink", partition: 0 },
              envelope: { ...env("t#0", 1, [1, "two", { three: 3 }]), times: [5, 6, 7] },
            },
          ],
          opState: { "src/pos": { split: "s0", offset: 3 } },
          watermarks: { "src#0": 42 },
          sink: { out: [{ a: 1 }] },
          deadLetters: [
            { operator: "map-1", value: { bad: true }, error: "boom", attempts: 3, channel: "src#0", seq: 2, time: 9 },
          ],
          aligning: { n: 1, channels: ["src#0"], since: 1001 },
        });
        const s2 = seg(2, {
          positions: { "src#0": 4 },
          sentThrough: 1,
          endsEpoch: 1,
          alignmentMs: 3,
          aligning: null,
          ended: ["src#0"],
          finished: true,
          buffered: [env("src#1", 7, [null, false, 0, ""])],
        });
        const s3 = seg(3, { sentThrough: 2, changes: [set("a", null), set("c", "", 3)] });
        await appendAll("t", 0, [s1, s2, s3]);
        expect(await store.readSegments("t", 0, 0)).toEqual([s1, s2, s3]);
      });

      it("is conditional: a second segment n fails with SegmentConflictError and writes nothing", async () => {
        await store.append("t", 0, seg(1, { positions: { "src#0": 1 }, changes: [set("a", 1)] }));
        const rival = seg(1, { positions: { "src#0": 9 }, changes: [set("a", 99), set("z", 99)] });
        const err = await store.append("t", 0, rival).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SegmentConflictError);
        expect((err as SegmentConflictError).reason).toBe("segment-conflict");
        expect((err as SegmentConflictError).retryable).toBe(true);
        expect(await store.readSegments("t", 0, 0)).toEqual([
          seg(1, { positions: { "src#0": 1 }, changes: [set("a", 1)] }),
        ]);
        expect(await store.getState("t", [ref("a"), ref("z")])).toEqual([1, undefined]);
        expect(await store.scanState("t", S, 0, 127)).toEqual([["a", 1]]);
        await store.append("t", 0, seg(2, { changes: [set("a", 2)] }));
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2]);
      });

      it("rejects a gap (or a first segment other than 1) and writes nothing", async () => {
        await expect(store.append("t", 0, seg(2, { changes: [set("a", 2)] }))).rejects.toBeInstanceOf(
          SegmentConflictError,
        );
        expect(await store.readSegments("t", 0, 0)).toEqual([]);
        await store.append("t", 0, seg(1, { changes: [set("a", 1)] }));
        await expect(store.append("t", 0, seg(3, { changes: [set("a", 3), set("c", 3)] }))).rejects.toBeInstanceOf(
          SegmentConflictError,
        );
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1]);
        expect(await store.getState("t", [ref("a"), ref("c")])).toEqual([1, undefined]);
        await store.append("t", 0, seg(2));
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2]);
      });

      it("numbers segments per task and partition", async () => {
        await store.append("t", 0, seg(1, { time: 1 }));
        await store.append("t", 1, seg(1, { time: 2 }));
        await store.append("u", 0, seg(1, { time: 3 }));
        await store.append("t", 0, seg(2, { time: 4 }));
        await expect(store.append("t", 1, seg(1))).rejects.toBeInstanceOf(SegmentConflictError);
        expect((await store.readSegments("t", 0, 0)).map((s) => s.time)).toEqual([1, 4]);
        expect((await store.readSegments("t", 1, 0)).map((s) => s.time)).toEqual([2]);
        expect((await store.readSegments("u", 0, 0)).map((s) => s.time)).toEqual([3]);
        expect(await store.readSegments("u", 1, 0)).toEqual([]);
      });
    });

    describe("readSegments and readBase", () => {
      it("readSegments returns only the segments numbered above `after`", async () => {
        await appendAll("t", 0, [seg(1), seg(2), seg(3), seg(4)]);
        expect(ns(await store.readSegments("t", 0, 2))).toEqual([3, 4]);
        expect(ns(await store.readSegments("t", 0, 3))).toEqual([4]);
        expect(await store.readSegments("t", 0, 4)).toEqual([]);
        expect(await store.readSegments("t", 0, 10)).toEqual([]);
        expect(await store.readSegments("nope", 0, 0)).toEqual([]);
      });

      it("readSegments after a compaction returns the uncompacted tail", async () => {
        await appendAll("t", 0, [sent(1), sent(2), sent(3), sent(4), sent(5)]);
        expect(await store.compact("t", 0, 3)).toBe(3);
        expect(await store.readSegments("t", 0, 0)).toEqual([sent(4), sent(5)]);
        expect(ns(await store.readSegments("t", 0, 3))).toEqual([4, 5]);
        expect(ns(await store.readSegments("t", 0, 4))).toEqual([5]);
        expect(await store.readSegments("t", 0, 5)).toEqual([]);
      });

      it("readLog, where the store has it, returns readSegments' segments and the base's through", async () => {
        await appendAll("t", 0, [sent(1), sent(2), sent(3), sent(4), sent(5)]);
        const readLog = store.readLog?.bind(store);
        if (!readLog) {
          expect(name).toMatch(/sqlite/i); // the stores riffle publishes from on AWS and in memory have it
          return;
        }
        expect(await readLog("t", 0, 0)).toEqual({ through: 0, segments: await store.readSegments("t", 0, 0) });
        expect(await store.compact("t", 0, 3)).toBe(3);
        // A store may say when it wrote the base (`baseAt`: DynamoDB's fold policy folds by age too).
        const { baseAt, ...folded } = await readLog("t", 0, 0);
        expect(folded).toEqual({ through: 3, segments: [sent(4), sent(5)] });
        if (baseAt !== undefined) expect(baseAt).toBeGreaterThan(0);
        const { baseAt: _at, ...after4 } = await readLog("t", 0, 4);
        expect(after4).toEqual({ through: 3, segments: [sent(5)] });
        expect(await readLog("nope", 0, 0)).toEqual({ through: 0, segments: [] });
      });

      it("readBase is undefined until the partition is compacted", async () => {
        expect(await store.readBase("t", 0)).toBeUndefined();
        await appendAll("t", 0, [sent(1), sent(2)]);
        expect(await store.readBase("t", 0)).toBeUndefined();
        await store.compact("t", 0, 1);
        expect((await store.readBase("t", 0))?.through).toBe(1);
        expect(await store.readBase("t", 1)).toBeUndefined();
      });
    });

    describe("compact", () => {
      it("never folds a segment whose outbox is not proven sent", async () => {
        await appendAll("t", 0, [seg(1), seg(2), seg(3)]);
        expect(await store.compact("t", 0, 3)).toBe(0);
        expect(await store.readBase("t", 0)).toBeUndefined();
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2, 3]);
        await store.append("t", 0, seg(4, { sentThrough: 2 }));
        expect(await store.compact("t", 0, 10)).toBe(2);
        expect((await store.readBase("t", 0))?.through).toBe(2);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([3, 4]);
      });

      it("keeps at least the last segment and returns the new base's through", async () => {
        await appendAll("t", 0, [sent(1), sent(2), sent(3)]);
        expect(await store.compact("t", 0, 100)).toBe(2);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([3]);
        expect(await store.compact("t", 0, 100)).toBe(2);
        await store.append("t", 0, sent(4));
        expect(await store.compact("t", 0, 100)).toBe(3);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([4]);
      });

      it("stops at `through`; compacting at or below the base changes nothing", async () => {
        await appendAll("t", 0, [sent(1), sent(2), sent(3), sent(4), sent(5)]);
        expect(await store.compact("t", 0, 2)).toBe(2);
        const base = await store.readBase("t", 0);
        expect(await store.compact("t", 0, 1)).toBe(2);
        expect(await store.compact("t", 0, 2)).toBe(2);
        expect(await store.readBase("t", 0)).toEqual(base);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([3, 4, 5]);
        expect(await store.compact("u", 0, 5)).toBe(0);
      });

      it("readBase after compaction is the fold of the compacted segments", async () => {
        const s1 = seg(1, {
          positions: { "a#0": 1 },
          outSeqs: { "b#0": 1 },
          opState: { src: { pos: 10 } },
          watermarks: { "a#0": 100 },
          buffered: [env("a#0", 3, ["x"]), env("a#0", 9, ["y"])],
          outbox: [{ to: { task: "b", partition: 0 }, envelope: env("t#0", 1, [1]) }],
        });
        const s2 = seg(2, {
          positions: { "a#0": 2, "c#0": 1 },
          outSeqs: { "b#0": 2, "b#1": 1 },
          watermarks: { "c#0": 50 },
          ended: ["c#0"],
          aligning: { n: 1, channels: ["a#0"], since: 1002 },
          sentThrough: 1,
        });
        const s3 = seg(3, {
          positions: { "a#0": 3 },
          opState: { src: { pos: 20 }, other: "o" },
          aligning: null,
          endsEpoch: 1,
          alignmentMs: 5,
          finished: true,
          sentThrough: 2,
        });
        const s4 = seg(4, { sentThrough: 3 });
        await appendAll("t", 0, [s1, s2, s3, s4]);

        expect(await store.compact("t", 0, 2)).toBe(2);
        const after2: PartitionBase = {
          through: 2,
          sentThrough: 1,
          positions: { "a#0": 2, "c#0": 1 },
          outSeqs: { "b#0": 2, "b#1": 1 },
          opState: { src: { pos: 10 } },
          watermarks: { "a#0": 100, "c#0": 50 },
          ended: ["c#0"],
          finished: false,
          buffered: [env("a#0", 3, ["x"]), env("a#0", 9, ["y"])],
          aligning: { n: 1, channels: ["a#0"], since: 1002 },
        };
        expect(await store.readBase("t", 0)).toEqual(after2);

        expect(await store.compact("t", 0, 10)).toBe(3);
        const after3 = await store.readBase("t", 0);
        expect(after3).toEqual({
          through: 3,
          sentThrough: 2,
          positions: { "a#0": 3, "c#0": 1 },
          outSeqs: { "b#0": 2, "b#1": 1 },
          opState: { src: { pos: 20 }, other: "o" },
          watermarks: { "a#0": 100, "c#0": 50 },
          ended: ["c#0"],
          finished: true,
          buffered: [env("a#0", 9, ["y"])],
        });
        expect(after3?.aligning).toBeUndefined();
        expect(await store.readSegments("t", 0, 0)).toEqual([s4]);
      });

      it("keeps keyed state readable: compaction changes no committed value", async () => {
        await appendAll("t", 0, [
          sent(1, [set("a", 1), set("b", 1), set("c", 1, 7)]),
          sent(2, [set("a", 2), del("b")]),
          sent(3, [set("a", 3), set("d", 3, 9)]),
          sent(4, [del("c", 7), set("b", 4)]),
          sent(5, [set("e", 5)]),
        ]);
        const refs = ["a", "b", "c", "d", "e"].map((k) => ref(k, k === "c" ? 7 : k === "d" ? 9 : 1));
        const before = await store.getState("t", refs);
        const scanBefore = byKey(await store.scanState("t", S, 0, 127));
        expect(before).toEqual([3, 4, undefined, 3, 5]);
        expect(await store.compact("t", 0, 2)).toBe(2);
        expect(await store.getState("t", refs)).toEqual(before);
        expect(byKey(await store.scanState("t", S, 0, 127))).toEqual(scanBefore);
        expect(await store.compact("t", 0, 10)).toBe(4);
        expect(await store.getState("t", refs)).toEqual(before);
        expect(byKey(await store.scanState("t", S, 0, 127))).toEqual(scanBefore);
        expect(scanBefore).toEqual([
          ["a", 3],
          ["b", 4],
          ["d", 3],
          ["e", 5],
        ]);
      });
    });
  });
}
