// The nexmark generator's determinism, and the nexmark source built on it.

import { describe, expect, it } from "vitest";
import type { SourceChunk } from "../../core/api/source.ts";
import { nexmarkEvent } from "../../core/nexmark/generator.ts";
import { type NexmarkConfig, type NexmarkEvent, nexmarkConfig } from "../../core/nexmark/model.ts";
import { nexmarkSource } from "../../core/nexmark/source.ts";
import { events } from "./nexmark-generator-helpers.ts";

/** Reads every split of a source with readers asking for `max` records at a time; returns events by id. */
async function readAll(config: NexmarkConfig, splits: number, max: number): Promise<Map<number, NexmarkEvent>> {
  const source = nexmarkSource(config, { splits });
  const byId = new Map<number, NexmarkEvent>();
  for (const split of source.splits(3)) {
    const reader = source.reader(split, undefined);
    let id = split.first as number;
    let chunk: SourceChunk<NexmarkEvent>;
    do {
      chunk = await reader.read(max);
      expect(chunk.times).toEqual(chunk.records.map((r) => r.dateTime));
      for (const record of chunk.records) {
        expect(byId.has(id)).toBe(false);
        byId.set(id, record);
        id += splits;
      }
      expect(chunk.position).toBe(id);
    } while (!chunk.done);
  }
  return byId;
}

describe("nexmark generator: determinism", () => {
  it("gives identical JSON lines for the same config, and different ones for another seed", () => {
    const config = nexmarkConfig({ seed: 11 });
    const a = events(5000, config).map((ev) => JSON.stringify(ev));
    const b = events(5000, { ...config }).map((ev) => JSON.stringify(ev));
    expect(b).toEqual(a);
    const other = events(5000, nexmarkConfig({ seed: 12 })).map((ev) => JSON.stringify(ev));
    const same = other.filter((line, i) => line === a[i]).length;
    expect(same).toBeLessThan(50);
  });

  it("an event does not depend on which events were generated before it", () => {
    const config = nexmarkConfig({ seed: 3 });
    const forward = events(300, config);
    const backward: NexmarkEvent[] = [];
    for (let e = 299; e >= 0; e--) backward[e] = nexmarkEvent(e, config);
    expect(backward).toEqual(forward);
  });

  it("seeds from both halves of large event ids and seeds", () => {
    const config = nexmarkConfig({ seed: 5 });
    const low = nexmarkEvent(254, config);
    const high = nexmarkEvent(254 + 2 ** 32 * 50, config);
    if (high.type !== "bid" || low.type !== "bid") throw new Error("expected bids");
    // Same low 32 bits of the id: the random fields must still differ.
    expect([high.price, high.url]).not.toEqual([low.price, low.url]);
    const bigSeed = nexmarkEvent(254, nexmarkConfig({ seed: 5 + 2 ** 32 }));
    if (bigSeed.type !== "bid") throw new Error("expected a bid");
    expect([bigSeed.price, bigSeed.url]).not.toEqual([low.price, low.url]);
  });
});

describe("nexmark source", () => {
  const config = nexmarkConfig({ seed: 21, events: 2_003 });
  const expected = events(2_003, config);

  it("yields the same events with 1, 4 and 16 splits, at any read size", async () => {
    for (const [splits, max] of [
      [1, 1000],
      [4, 7],
      [16, 64],
    ] as const) {
      const byId = await readAll(config, splits, max);
      expect(byId.size).toBe(2_003);
      const sorted = [...byId.entries()].sort((x, y) => x[0] - y[0]).map(([, ev]) => ev);
      expect(sorted).toEqual(expected);
    }
  });

  it("has a fixed number of splits whatever the parallelism; bounded iff events is set", () => {
    const source = nexmarkSource(config);
    expect(source.splits(1)).toHaveLength(16);
    expect(source.splits(64)).toHaveLength(16);
    expect(source.splits(4).map((s) => s.id)).toEqual(Array.from({ length: 16 }, (_, i) => String(i)));
    expect(source.bounded).toBe(true);
    expect(source.name).toBe("nexmark");
    expect(nexmarkSource(nexmarkConfig({ seed: 1 })).bounded).toBe(false);
  });

  it("restarting a reader from a position mid-split reproduces the tail", async () => {
    const source = nexmarkSource(config, { splits: 4 });
    const split = source.splits(2)[3];
    if (!split) throw new Error("no split 3");
    const reader = source.reader(split, undefined);
    const head = await reader.read(100);
    const tail = await reader.read(10_000);
    expect(tail.done).toBe(true);
    expect(head.done).toBe(false);
    expect(head.position).toBe(3 + 100 * 4);

    const restarted = source.reader(split, head.position);
    const again = await restarted.read(10_000);
    expect(again.records).toEqual(tail.records);
    expect(again.times).toEqual(tail.times);
    expect(again.position).toBe(tail.position);
    expect(again.done).toBe(true);
    expect(again.records[0]).toEqual(nexmarkEvent(403, config));
  });

  it("reports done exactly when the split's last event has been read", async () => {
    const source = nexmarkSource(config, { splits: 4 });
    for (const split of source.splits(4)) {
      const reader = source.reader(split, undefined);
      let ids = 0;
      for (;;) {
        const chunk = await reader.read(1);
        ids += chunk.records.length;
        const position = chunk.position as number;
        expect(chunk.done).toBe(position >= 2_003);
        if (chunk.done) break;
        expect(chunk.records).toHaveLength(1);
      }
      expect(ids).toBe(Math.ceil((2_003 - (split.first as number)) / 4));
    }
  });

  it("an unbounded source never reports done", async () => {
    const unbounded = nexmarkConfig({ seed: 2 });
    const source = nexmarkSource(unbounded, { splits: 2 });
    const split = source.splits(1)[1];
    if (!split) throw new Error("no split 1");
    const reader = source.reader(split, 1_000_001);
    const chunk = await reader.read(5);
    expect(chunk.done).toBe(false);
    expect(chunk.records).toEqual(
      [1_000_001, 1_000_003, 1_000_005, 1_000_007, 1_000_009].map((e) => nexmarkEvent(e, unbounded)),
    );
    expect(chunk.position).toBe(1_000_011);
  });

  it("rejects bad configs, split counts and positions", () => {
    expect(() => nexmarkSource(nexmarkConfig({ rate: 0 }))).toThrow(RangeError);
    expect(() => nexmarkSource(nexmarkConfig({ events: -1 }))).toThrow(RangeError);
    expect(() => nexmarkSource(nexmarkConfig({ seed: 1.5 }))).toThrow(RangeError);
    expect(() => nexmarkSource(config, { splits: 0 })).toThrow(RangeError);
    const source = nexmarkSource(config, { splits: 4 });
    const split = source.splits(1)[1];
    if (!split) throw new Error("no split 1");
    expect(() => source.reader(split, 6)).toThrow(RangeError);
    expect(() => source.reader(split, "5")).toThrow(RangeError);
    expect(() => source.reader(split, 5)).not.toThrow();
  });
});
