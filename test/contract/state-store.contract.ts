/**
 * The `StateStore` contract: the behaviour every implementation must share, written
 * once and run against each of them (see `stores.test.ts`).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Envelope } from "../../core/envelope.ts";
import { SegmentConflictError } from "../../core/errors.ts";
import type { PartitionBase, Segment, StateChange, StateRef, StateStore } from "../../core/ports/state-store.ts";

/** A fresh, empty store; `close` releases it after the test. */
export type MakeStateStore = () => Promise<{ store: StateStore; close?: () => void }>;

const S = "op/v";

function seg(n: number, o: Partial<Segment> = {}): Segment {
  return { n, gen: 1, time: 1000 + n, positions: {}, outSeqs: {}, changes: [], outbox: [], sentThrough: 0, ...o };
}
/** Segment `n` whose commit confirmed every earlier outbox sent. */
function sent(n: number, changes: StateChange[] = [], o: Partial<Segment> = {}): Segment {
  return seg(n, { changes, sentThrough: n - 1, ...o });
}
function set(k: string, v: unknown, g = 1, s = S): StateChange {
  return { s, k, g, v };
}
function del(k: string, g = 1, s = S): StateChange {
  return { s, k, g, d: true };
}
function ref(k: string, g = 1, s = S): StateRef {
  return { s, k, g };
}
function env(from: string, seq: number, records: unknown[]): Envelope {
  return { gen: 1, from, seq, records };
}
function byKey<T extends [string, unknown] | StateChange>(xs: T[]): T[] {
  const key = (x: T) => (Array.isArray(x) ? x[0] : `${x.s}\u0000${x.k}`);
  return [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Defines the contract suite for the store `make` creates. */
export function stateStoreContract(name: string, make: MakeStateStore): void {
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
    const ns = (segments: Segment[]) => segments.map((s) => s.n);

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

    describe("truncate", () => {
      it("voids later segments and their state; numbering continues after the cut", async () => {
        await appendAll("t", 0, [
          seg(1, { changes: [set("a", 1), set("b", 1)] }),
          seg(2, { changes: [set("a", 2)] }),
          seg(3, { changes: [set("a", 3), del("b"), set("c", 3)] }),
          seg(4, { changes: [set("a", 4)] }),
        ]);
        expect(await store.getState("t", [ref("a"), ref("b"), ref("c")])).toEqual([4, undefined, 3]);
        await store.truncate("t", 0, 2);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2]);
        expect(await store.getState("t", [ref("a"), ref("b"), ref("c")])).toEqual([2, 1, undefined]);
        expect(byKey(await store.scanState("t", S, 0, 127))).toEqual([
          ["a", 2],
          ["b", 1],
        ]);
        expect(byKey(await store.exportState("t", 0, 10, 0, 127))).toEqual([set("a", 2), set("b", 1)]);
        await store.append("t", 0, seg(3, { changes: [set("d", 5)] }));
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2, 3]);
        expect(await store.getState("t", [ref("a"), ref("c"), ref("d")])).toEqual([2, undefined, 5]);
      });

      it("leaves other partitions and tasks alone", async () => {
        await appendAll("t", 0, [seg(1, { changes: [set("a", 1)] }), seg(2, { changes: [set("a", 2)] })]);
        await appendAll("t", 1, [seg(1, { changes: [set("x", 1, 100)] }), seg(2, { changes: [set("x", 2, 100)] })]);
        await appendAll("u", 0, [seg(1, { changes: [set("a", 9)] }), seg(2, { changes: [set("a", 10)] })]);
        await store.truncate("t", 0, 0);
        expect(await store.readSegments("t", 0, 0)).toEqual([]);
        expect(ns(await store.readSegments("t", 1, 0))).toEqual([1, 2]);
        expect(ns(await store.readSegments("u", 0, 0))).toEqual([1, 2]);
        expect(await store.getState("t", [ref("a"), ref("x", 100)])).toEqual([undefined, 2]);
        expect(await store.getState("u", [ref("a")])).toEqual([10]);
        await store.append("t", 0, seg(1));
      });

      it("after a compaction, restores base values plus the segments up to the cut", async () => {
        await appendAll("t", 0, [
          sent(1, [set("a", 1), set("b", 1)]),
          sent(2, [set("a", 2)]),
          sent(3, [set("a", 3), del("b")]),
          sent(4, [set("a", 4)]),
        ]);
        expect(await store.compact("t", 0, 2)).toBe(2);
        await store.truncate("t", 0, 3);
        expect(await store.getState("t", [ref("a"), ref("b")])).toEqual([3, undefined]);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([3]);
        await store.truncate("t", 0, 2);
        expect(await store.readSegments("t", 0, 0)).toEqual([]);
        expect(await store.getState("t", [ref("a"), ref("b")])).toEqual([2, 1]);
        expect(byKey(await store.scanState("t", S, 0, 127))).toEqual([
          ["a", 2],
          ["b", 1],
        ]);
        expect((await store.readBase("t", 0))?.through).toBe(2);
        await store.append("t", 0, sent(3, [set("a", 30)]));
        expect(await store.getState("t", [ref("a")])).toEqual([30]);
      });

      it("throws when the cut is older than the base, and changes nothing", async () => {
        await appendAll("t", 0, [sent(1, [set("a", 1)]), sent(2, [set("a", 2)]), sent(3, [set("a", 3)]), sent(4)]);
        expect(await store.compact("t", 0, 2)).toBe(2);
        await expect(store.truncate("t", 0, 1)).rejects.toThrow();
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([3, 4]);
        expect(await store.getState("t", [ref("a")])).toEqual([3]);
        expect((await store.readBase("t", 0))?.through).toBe(2);
      });

      it("at or after the last segment changes nothing", async () => {
        await appendAll("t", 0, [seg(1, { changes: [set("a", 1)] }), seg(2, { changes: [set("a", 2)] })]);
        await store.truncate("t", 0, 2);
        await store.truncate("t", 0, 5);
        await store.truncate("t", 3, 0);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1, 2]);
        expect(await store.getState("t", [ref("a")])).toEqual([2]);
        await store.append("t", 0, seg(3));
      });
    });

    describe("getState", () => {
      it("returns committed values index-aligned with the refs, undefined when unset", async () => {
        const values: [string, unknown][] = [
          ["num", 42],
          ["zero", 0],
          ["neg", -1.5],
          ["str", "hello"],
          ["empty", ""],
          ["f", false],
          ["nul", null],
          ["obj", { a: { b: [1, 2, { c: "d" }] }, e: null }],
          ["arr", [1, "two", [3]]],
          ["uni", "héllo ✓ 🌊"],
        ];
        await store.append("t", 0, seg(1, { changes: values.map(([k, v], i) => set(k, v, i)) }));
        await store.append("u", 0, seg(1, { changes: [set("other", 1)] }));
        const refs = [
          ...values.map(([k], i) => ref(k, i)),
          ref("missing"),
          ref("num", 0, "op/other"),
          ref("other"),
          ref("num", 0),
        ];
        expect(await store.getState("t", refs)).toEqual([
          ...values.map(([, v]) => v),
          undefined,
          undefined,
          undefined,
          42,
        ]);
        const got = await store.getState("t", [ref("nul", 6)]);
        expect(got[0]).toBeNull();
        expect(await store.getState("nope", [ref("num", 0)])).toEqual([undefined]);
        expect(await store.getState("t", [])).toEqual([]);
      });

      it("sees the newest write of a key, deletes included", async () => {
        await appendAll("t", 0, [
          seg(1, { changes: [set("a", 1), set("b", 1), set("c", 1), set("d", 1)] }),
          seg(2, { changes: [set("a", 2), del("b"), set("c", 2), set("c", 3), set("d", 2), del("d")] }),
          seg(3, { changes: [del("a"), set("a", 4)] }),
        ]);
        expect(await store.getState("t", [ref("a"), ref("b"), ref("c"), ref("d")])).toEqual([
          4,
          undefined,
          3,
          undefined,
        ]);
        expect(byKey(await store.scanState("t", S, 0, 127))).toEqual([
          ["a", 4],
          ["c", 3],
        ]);
      });

      it("sees a delete of a compacted value, before and after that delete is compacted", async () => {
        await appendAll("t", 0, [sent(1, [set("a", 1), set("b", 1)]), sent(2), sent(3, [del("a")])]);
        expect(await store.compact("t", 0, 1)).toBe(1);
        expect(await store.getState("t", [ref("a"), ref("b")])).toEqual([undefined, 1]);
        await store.append("t", 0, sent(4));
        expect(await store.compact("t", 0, 3)).toBe(3);
        expect(await store.getState("t", [ref("a"), ref("b")])).toEqual([undefined, 1]);
        expect(await store.scanState("t", S, 0, 127)).toEqual([["b", 1]]);
      });

      it("reads a batch of 1000 refs", async () => {
        const changes = Array.from({ length: 1000 }, (_, i) => set(`k${i}`, { i }, i % 128));
        await store.append("t", 0, seg(1, { changes: changes.slice(0, 500) }));
        await store.append("t", 0, seg(2, { changes: changes.slice(500) }));
        const refs = changes.map((c) => ref(c.k, c.g));
        refs.push(ref("missing"));
        const got = await store.getState("t", refs);
        expect(got).toHaveLength(1001);
        expect(got.slice(0, 1000)).toEqual(changes.map((c) => c.v));
        expect(got[1000]).toBeUndefined();
      });
    });

    describe("scanState", () => {
      it("returns the values of one state id within a key-group range, bounds included", async () => {
        await appendAll("t", 0, [
          seg(1, {
            changes: [
              set("g0", 0, 0),
              set("g5", 5, 5),
              set("g10", 10, 10),
              set("g11", 11, 11),
              set("g127", 127, 127),
              set("w5", "w", 5, "op/w"),
              set("o5", "o", 5, "other/v"),
              set("gone", 6, 6),
            ],
          }),
          seg(2, { changes: [del("gone", 6)] }),
        ]);
        await store.append("u", 0, seg(1, { changes: [set("u7", 7, 7)] }));
        expect(byKey(await store.scanState("t", S, 5, 10))).toEqual([
          ["g10", 10],
          ["g5", 5],
        ]);
        expect(byKey(await store.scanState("t", S, 0, 127))).toEqual([
          ["g0", 0],
          ["g10", 10],
          ["g11", 11],
          ["g127", 127],
          ["g5", 5],
        ]);
        expect(await store.scanState("t", "op/w", 0, 127)).toEqual([["w5", "w"]]);
        expect(await store.scanState("t", "op/w", 6, 127)).toEqual([]);
        expect(await store.scanState("t", "missing", 0, 127)).toEqual([]);
        expect(await store.scanState("u", S, 0, 127)).toEqual([["u7", 7]]);
      });

      it("combines base values, live overrides and live deletes", async () => {
        await appendAll("t", 0, [
          sent(1, [set("a", 1, 1), set("b", 1, 2), set("c", 1, 3)]),
          sent(2, [set("a", 2, 1), del("b", 2), set("d", 2, 4)]),
          sent(3),
        ]);
        expect(await store.compact("t", 0, 1)).toBe(1);
        expect(byKey(await store.scanState("t", S, 0, 127))).toEqual([
          ["a", 2],
          ["c", 1],
          ["d", 2],
        ]);
        expect(byKey(await store.scanState("t", S, 2, 3))).toEqual([["c", 1]]);
      });
    });

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
        await expect(store.truncate("t", 0, 6)).rejects.toThrow();
        expect(await store.compact("t", 0, 8)).toBe(8);
        expect(await store.readBase("t", 0)).toEqual({ ...base, through: 8, positions: { "a#0": 41 } });
        expect(await store.getState("t", [ref("a")])).toEqual([8]);
      });

      it("throws on a partition that has segments or a base", async () => {
        await store.append("t", 0, seg(1));
        await expect(store.putBase("t", 0, { ...emptyBase(), through: 5 })).rejects.toThrow();
        expect(await store.readBase("t", 0)).toBeUndefined();
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([1]);
        const base = { ...emptyBase(), through: 3 };
        await store.putBase("t", 1, base);
        await expect(store.putBase("t", 1, { ...emptyBase(), through: 5 })).rejects.toThrow();
        expect(await store.readBase("t", 1)).toEqual(base);
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
        await store.truncate("t", 0, 0);
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
