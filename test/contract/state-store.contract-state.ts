/**
 * The `StateStore` contract, part 2 of 3: keyed state as segments and truncation shape it (truncate, getState, scanState).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Segment, StateStore } from "../../core/ports/state-store.ts";
import { byKey, del, type MakeStateStore, ns, ref, S, seg, sent, set } from "./state-store.contract-helpers.ts";

/** Defines this part of the contract suite for the store `make` creates. */
export function stateStoreStateContract(name: string, make: MakeStateStore): void {
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

    describe("truncate", () => {
      it("voids later segments and their state; numbering continues after the cut", async () => {
        await appendAll("t", 0, [
          seg(1, { changes: [set("a", 1), set("b", 1)] }),
          seg(2, { changes: [set("a", 2)] }),
          seg(3, { changes: [set("a", 3), del("b"), set("c", 3)] }),
          seg(4, { changes: [set("a", 4)] }),
        ]);
        expect(await store.getState("t", [ref("a"), ref("b"), ref("c")])).toEqual([4, undefined, 3]);
        await store.truncate("t", 0, 2, 1);
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
        await store.truncate("t", 0, 0, 1);
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
        await store.truncate("t", 0, 3, 1);
        expect(await store.getState("t", [ref("a"), ref("b")])).toEqual([3, undefined]);
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([3]);
        await store.truncate("t", 0, 2, 1);
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
        await expect(store.truncate("t", 0, 1, 1)).rejects.toThrow();
        expect(ns(await store.readSegments("t", 0, 0))).toEqual([3, 4]);
        expect(await store.getState("t", [ref("a")])).toEqual([3]);
        expect((await store.readBase("t", 0))?.through).toBe(2);
      });

      it("at or after the last segment changes nothing", async () => {
        await appendAll("t", 0, [seg(1, { changes: [set("a", 1)] }), seg(2, { changes: [set("a", 2)] })]);
        await store.truncate("t", 0, 2, 1);
        await store.truncate("t", 0, 5, 1);
        await store.truncate("t", 3, 0, 1);
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
  });
}
