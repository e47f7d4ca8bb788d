/**
 * The `OutputStore` contract: the behaviour every implementation must share, written
 * once and run against each of them (see `stores.test.ts`, `dynamo.test.ts`).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { OutputStore, PublishedSegment } from "../../core/ports/output-store.ts";
import type { DeadLetter } from "../../core/ports/state-store.ts";

/** A fresh, empty store; `close` releases it after the test. */
export type MakeOutputStore = () => Promise<{ store: OutputStore; close?: () => void }>;

function pub(
  task: string,
  partition: number,
  segment: number,
  sink: Record<string, unknown[]> = {},
  deadLetters: DeadLetter[] = [],
  generation = 1,
): PublishedSegment {
  return { task, partition, segment, generation, sink, deadLetters };
}
function letter(value: unknown, o: Partial<DeadLetter> = {}): DeadLetter {
  return { operator: "map-1", value, error: "boom", attempts: 3, channel: "src#0", seq: 7, time: 99, ...o };
}

/** Reads every page of a sink with page size `limit`. */
async function readAll(store: OutputStore, job: string, sink: string, limit?: number): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.read(job, sink, { ...(cursor ? { cursor } : {}), ...(limit ? { limit } : {}) });
    pages.push(page.values);
    cursor = page.cursor;
  } while (cursor);
  return pages;
}

/** Defines the contract suite for the store `make` creates. */
export function outputStoreContract(name: string, make: MakeOutputStore): void {
  describe(`OutputStore contract: ${name}`, () => {
    let store: OutputStore;
    let close: (() => void) | undefined;

    beforeEach(async () => {
      const made = await make();
      store = made.store;
      close = made.close;
    });
    afterEach(() => {
      close?.();
    });

    it("reads a sink ordered by task, partition, segment and position", async () => {
      await store.publish("j", [
        pub("b", 0, 2, { out: ["b0s2"] }),
        pub("a", 1, 1, { out: ["a1s1"] }),
        pub("a", 0, 10, { out: ["a0s10-0", "a0s10-1"] }),
        pub("a", 0, 9, { out: ["a0s9"], other: ["x"] }),
      ]);
      await store.publish("j", [pub("a", 0, 1, { out: [{ first: true }] }), pub("a-b", 0, 1, { out: ["ab"] })]);
      const page = await store.read("j", "out");
      expect(page.values).toEqual([{ first: true }, "a0s9", "a0s10-0", "a0s10-1", "a1s1", "ab", "b0s2"]);
      expect(page.cursor).toBeUndefined();
      expect(await store.read("j", "other")).toEqual({ values: ["x"] });
      expect(await store.read("j", "none")).toEqual({ values: [] });
      expect(await store.read("k", "out")).toEqual({ values: [] });
    });

    it("publishing a segment again changes nothing", async () => {
      const s = pub("t", 0, 1, { out: [1, 2] }, [letter("bad")]);
      await store.publish("j", [s]);
      await store.markReplayed("j", ["t#0#1#1#0"], 500);
      await store.publish("j", [s, pub("t", 0, 2, { out: [3] })]);
      await store.publish("j", [s]);
      expect((await store.read("j", "out")).values).toEqual([1, 2, 3]);
      const letters = await store.deadLetters("j");
      expect(letters).toHaveLength(1);
      expect(letters[0]?.replayedAt).toBe(500);
    });

    it("pages with a cursor; the pages add up to the whole output", async () => {
      const segs: PublishedSegment[] = [];
      const all: unknown[] = [];
      for (let p = 0; p < 2; p++) {
        for (let n = 1; n <= 4; n++) {
          const values = Array.from({ length: n }, (_, i) => ({ p, n, i }));
          segs.push(pub("t", p, n, { out: values }));
          all.push(...values);
        }
      }
      await store.publish("j", segs);
      for (const limit of [1, 3, 4, 7, 20, 100]) {
        const pages = await readAll(store, "j", "out", limit);
        expect(pages.flat()).toEqual(all);
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
        expect(pages.length).toBe(Math.ceil(all.length / limit));
      }
    });

    it("a cursor keeps its place when output lands before it", async () => {
      await store.publish("j", [pub("t", 0, 5, { out: ["a", "b", "c"] }), pub("t", 1, 1, { out: ["d"] })]);
      const first = await store.read("j", "out", { limit: 2 });
      expect(first.values).toEqual(["a", "b"]);
      await store.publish("j", [pub("t", 0, 1, { out: ["early"] })]);
      const second = await store.read("j", "out", { ...(first.cursor ? { cursor: first.cursor } : {}), limit: 10 });
      expect(second).toEqual({ values: ["c", "d"] });
    });

    it("keeps dead letters with ids, ordered by task, partition, segment and index", async () => {
      await store.publish("j", [
        pub("t", 1, 1, {}, [letter("t1")]),
        pub("t", 0, 12, {}, [letter("t0s12-0"), letter({ v: 1 }, { operator: "m2", error: "E", attempts: 5 })]),
        pub("s", 0, 3, { out: ["x"] }, [letter("s0")]),
        pub("t", 0, 2, {}, [letter("t0s2")]),
      ]);
      await store.publish("k", [pub("t", 0, 1, {}, [letter("k")])]);
      const letters = await store.deadLetters("j");
      expect(letters.map((d) => d.id)).toEqual(["s#0#1#3#0", "t#0#1#2#0", "t#0#1#12#0", "t#0#1#12#1", "t#1#1#1#0"]);
      expect(letters[3]).toEqual({
        ...letter({ v: 1 }, { operator: "m2", error: "E", attempts: 5 }),
        id: "t#0#1#12#1",
        task: "t",
        partition: 0,
        segment: 12,
      });
      expect(letters[3]).not.toHaveProperty("replayedAt");
      expect((await store.deadLetters("k")).map((d) => d.value)).toEqual(["k"]);
      expect(await store.deadLetters("none")).toEqual([]);
    });

    it("markReplayed sets replayedAt on known ids and ignores unknown ones", async () => {
      await store.publish("j", [pub("t", 0, 1, {}, [letter("a"), letter("b")])]);
      await store.markReplayed("j", ["t#0#1#1#1", "t#0#1#9#0", "t#0#2#1#1", "nope", "x#y#z#1#2"], 1234);
      await store.markReplayed("k", ["t#0#1#1#0"], 1);
      const letters = await store.deadLetters("j");
      expect(letters.map((d) => d.replayedAt)).toEqual([undefined, 1234]);
      expect(await store.deadLetters("k")).toEqual([]);
    });

    it("marks letters with their replay envelope and clears only a mark that still has the given seq", async () => {
      await store.publish("j", [pub("t", 0, 1, {}, [letter("a"), letter("b"), letter("c")])]);
      const mark = (seq: number) => ({ generation: 2, task: "t", partition: 1, channel: "$replay:src#0", seq });
      await store.markReplayed("j", ["t#0#1#1#0", "t#0#1#1#1"], 50, { "t#0#1#1#0": mark(5), "t#0#1#1#1": mark(5) });
      await store.markReplayed("j", ["t#0#1#1#2"], 60);
      expect((await store.deadLetters("j")).map((d) => [d.replayedAt, d.replay?.seq])).toEqual([
        [50, 5],
        [50, 5],
        [60, undefined],
      ]);
      // A newer replay marked b again: the restore's clear of its older mark leaves it.
      await store.markReplayed("j", ["t#0#1#1#1"], 70, { "t#0#1#1#1": mark(9) });
      const undo = [
        { id: "t#0#1#1#0", seq: 5 },
        { id: "t#0#1#1#1", seq: 5 },
        { id: "t#0#1#1#2", seq: 5 },
        { id: "t#0#1#9#0", seq: 5 },
      ];
      await store.unmarkReplayed("j", undo);
      await store.unmarkReplayed("j", undo); // clearing again changes nothing
      const letters = await store.deadLetters("j");
      expect(letters[0]).not.toHaveProperty("replayedAt");
      expect(letters[0]).not.toHaveProperty("replay");
      expect(letters.map((d) => [d.replayedAt, d.replay])).toEqual([
        [undefined, undefined],
        [70, mark(9)],
        [60, undefined],
      ]);
      // A mark without an envelope replaces the envelope.
      await store.markReplayed("j", ["t#0#1#1#1"], 80);
      expect((await store.deadLetters("j"))[1]).not.toHaveProperty("replay");
    });

    it("keeps the output of each generation: a restore that restarts segment numbers adds, never replaces", async () => {
      await store.publish("j", [pub("t", 0, 1, { out: ["g1s1"] }, [letter("d1")]), pub("t", 0, 2, { out: ["g1s2"] })]);
      await store.publish("j", [
        pub("t", 0, 1, { out: ["g2s1"] }, [letter("d2")], 2),
        pub("s", 0, 1, { out: ["s"] }, [], 3),
      ]);
      await store.publish("j", [pub("t", 0, 1, { out: ["g2s1"] }, [letter("d2")], 2)]);
      expect((await store.read("j", "out")).values).toEqual(["s", "g1s1", "g1s2", "g2s1"]);
      const pages = await readAll(store, "j", "out", 1);
      expect(pages.flat()).toEqual(["s", "g1s1", "g1s2", "g2s1"]);
      const letters = await store.deadLetters("j");
      expect(letters.map((d) => [d.id, d.value])).toEqual([
        ["t#0#1#1#0", "d1"],
        ["t#0#2#1#0", "d2"],
      ]);
    });

    it("resetPublished forgets a job's marks and keeps its output", async () => {
      await store.publish("j", [pub("t", 0, 1, { out: [1] })]);
      await store.setPublished("j", { "t#0": 7 });
      await store.setPublished("k", { "t#0": 3 });
      await store.resetPublished("j");
      expect(await store.publishedThrough("j")).toEqual({});
      expect(await store.publishedThrough("k")).toEqual({ "t#0": 3 });
      await store.setPublished("j", { "t#0": 1 });
      expect(await store.publishedThrough("j")).toEqual({ "t#0": 1 });
      expect((await store.read("j", "out")).values).toEqual([1]);
    });

    it("published marks only move forward, per job", async () => {
      expect(await store.publishedThrough("j")).toEqual({});
      await store.setPublished("j", { "t#0": 3, "t#1": 1 });
      await store.setPublished("j", { "t#0": 2, "u#0": 5 });
      await store.setPublished("j", { "t#1": 4 });
      await store.setPublished("k", { "t#0": 9 });
      expect(await store.publishedThrough("j")).toEqual({ "t#0": 3, "t#1": 4, "u#0": 5 });
      expect(await store.publishedThrough("k")).toEqual({ "t#0": 9 });
    });

    it("published marks of many partitions: each moves forward alone", async () => {
      const first = Object.fromEntries(Array.from({ length: 100 }, (_, p) => [`t#${p}`, 10]));
      await store.setPublished("j", first);
      // Half move on, half would move back (a concurrent publication got further).
      const second = Object.fromEntries(Array.from({ length: 100 }, (_, p) => [`t#${p}`, p % 2 === 0 ? 20 : 5]));
      await store.setPublished("j", second);
      const expected = Object.fromEntries(Array.from({ length: 100 }, (_, p) => [`t#${p}`, p % 2 === 0 ? 20 : 10]));
      expect(await store.publishedThrough("j")).toEqual(expected);
    });
  });
}
