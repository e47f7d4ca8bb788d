/**
 * The `IngestLog` contract: the behaviour every implementation must share, written
 * once and run against each of them (see `stores.test.ts`, `dynamo.test.ts`).
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IngestLog } from "../../core/ports/ingest-log.ts";

/** A fresh, empty log; `close` releases it after the test. */
export type MakeIngestLog = () => Promise<{ log: IngestLog; close?: () => void }>;

/** Defines the contract suite for the log `make` creates. */
export function ingestLogContract(name: string, make: MakeIngestLog): void {
  describe(`IngestLog contract: ${name}`, () => {
    let log: IngestLog;
    let close: (() => void) | undefined;

    beforeEach(async () => {
      const made = await make();
      log = made.log;
      close = made.close;
    });
    afterEach(() => {
      close?.();
    });

    it("gives appends consecutive seqs from 1 and reads them back in order", async () => {
      expect(await log.head("j", "src", 0)).toBe(0);
      expect(await log.read("j", "src", 0, 0, 10)).toEqual([]);
      expect(await log.append("j", "src", 0, ["a", "b", "c"])).toEqual({ first: 1, last: 3 });
      expect(await log.append("j", "src", 0, [{ d: 4 }])).toEqual({ first: 4, last: 4 });
      expect(await log.head("j", "src", 0)).toBe(4);
      expect(await log.read("j", "src", 0, 0, 10)).toEqual([
        { seq: 1, value: "a" },
        { seq: 2, value: "b" },
        { seq: 3, value: "c" },
        { seq: 4, value: { d: 4 } },
      ]);
    });

    it("reads at most `max` records after `after`", async () => {
      await log.append("j", "src", 0, [1, 2, 3, 4, 5]);
      await log.append("j", "src", 0, [6, 7]);
      const seqs = async (after: number, max: number) => (await log.read("j", "src", 0, after, max)).map((r) => r.seq);
      expect(await seqs(0, 2)).toEqual([1, 2]);
      expect(await seqs(2, 2)).toEqual([3, 4]);
      expect(await seqs(4, 3)).toEqual([5, 6, 7]);
      expect(await seqs(5, 100)).toEqual([6, 7]);
      expect(await seqs(7, 10)).toEqual([]);
      expect(await seqs(20, 10)).toEqual([]);
      expect(await seqs(3, 0)).toEqual([]);
      const page = await log.read("j", "src", 0, 5, 1);
      expect(page).toEqual([{ seq: 6, value: 6 }]);
    });

    it("an empty append adds nothing", async () => {
      await log.append("j", "src", 0, ["a"]);
      const r = await log.append("j", "src", 0, []);
      expect(r.last).toBe(1);
      expect(r.first).toBe(2);
      expect(await log.head("j", "src", 0)).toBe(1);
      expect(await log.append("j", "src", 0, ["b"])).toEqual({ first: 2, last: 2 });
    });

    it("numbers each job, source and partition on its own", async () => {
      await log.append("j", "src", 0, ["j0"]);
      await log.append("j", "src", 1, ["j1a", "j1b"]);
      await log.append("j", "other", 0, ["o"]);
      await log.append("k", "src", 0, ["k"]);
      expect(await log.read("j", "src", 0, 0, 10)).toEqual([{ seq: 1, value: "j0" }]);
      expect(await log.read("j", "src", 1, 0, 10)).toEqual([
        { seq: 1, value: "j1a" },
        { seq: 2, value: "j1b" },
      ]);
      expect(await log.read("j", "other", 0, 0, 10)).toEqual([{ seq: 1, value: "o" }]);
      expect(await log.read("k", "src", 0, 0, 10)).toEqual([{ seq: 1, value: "k" }]);
      expect(await log.head("j", "src", 1)).toBe(2);
      expect(await log.head("k", "src", 1)).toBe(0);
    });

    it("keeps JSON values as they were", async () => {
      const values = [
        0,
        -1.5,
        "",
        "héllo ✓ 🌊",
        null,
        false,
        true,
        [],
        {},
        { a: { b: [1, "two", null, { c: [] }] } },
        "line\nbreak",
      ];
      await log.append("j", "src", 0, values);
      expect((await log.read("j", "src", 0, 0, 100)).map((r) => r.value)).toEqual(values);
    });

    it("serializes concurrent appends: gapless, non-overlapping ranges", async () => {
      const batches = Array.from({ length: 8 }, (_, i) => [`${i}-a`, `${i}-b`, `${i}-c`]);
      const ranges = await Promise.all(batches.map((b) => log.append("j", "src", 0, b)));
      const sorted = [...ranges].sort((a, b) => a.first - b.first);
      expect(sorted).toEqual(sorted.map((_, i) => ({ first: 1 + 3 * i, last: 3 + 3 * i })));
      const read = await log.read("j", "src", 0, 0, 100);
      expect(read.map((r) => r.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      ranges.forEach((r, i) => {
        expect(read.slice(r.first - 1, r.last).map((x) => x.value)).toEqual(batches[i]);
      });
    });
  });
}
