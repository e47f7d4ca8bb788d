/**
 * Hashed map state (core/operators/map-trie.ts, map-handle.ts): against a plain `Map` as the
 * model, over many batches of random puts and removes on several keys, with commits, journaled
 * batches rolled back, and a reload of the stored values from JSON. What a batch committed is
 * never changed by a later one, and either layout reads the other's values.
 */
import { describe, expect, it } from "vitest";
import type { MapState } from "../../core/api/state.ts";
import { seededRandom } from "../../core/ml/random.ts";
import { isTrie, LEAF_MAX } from "../../core/operators/map-trie.ts";
import { stateHandle, stateValues } from "../../core/operators/state-handles.ts";
import type { StateChange } from "../../core/ports/state-store.ts";
import { KeyedBackend } from "../../core/runtime/keyed-backend.ts";

function handle(b: KeyedBackend, hashed: boolean): MapState<number> {
  const ts = { now: () => 0, schedule: () => {} };
  const d = { kind: "map" as const, hashed };
  return stateHandle(d, "op/m", b, ts, stateValues("op", "m", "json")).handle as MapState<number>;
}

function at(b: KeyedBackend, key: string): void {
  b.current.key = key;
  b.current.enc = key;
  b.current.group = 1;
}

const sorted = (es: [string, unknown][]) => [...es].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe("hashed map state", () => {
  it("matches a Map over random batches, never changing a committed value", () => {
    const rnd = seededRandom(7);
    const b = new KeyedBackend(true);
    const map = handle(b, true);
    const model = new Map<string, Map<string, number>>();
    const committed: { changes: StateChange[]; json: string }[] = [];
    for (let batch = 0; batch < 300; batch++) {
      for (let op = 0; op < 40; op++) {
        const key = `k${Math.floor(rnd() * 3)}`;
        at(b, key);
        const m = model.get(key) ?? new Map<string, number>();
        model.set(key, m);
        // A growing key space: maps pass the flat size, split leaves, and shrink again.
        const k = `e${Math.floor(rnd() * Math.min(60 + batch * 8, 2000))}`;
        if (rnd() < 0.25) {
          map.remove(k);
          m.delete(k);
        } else {
          const v = Math.floor(rnd() * 1000);
          map.put(k, v);
          m.set(k, v);
        }
        expect(map.get(k)).toBe(m.get(k));
        expect(map.has(k)).toBe(m.has(k));
      }
      const changes = b.changes();
      committed.push({ changes, json: JSON.stringify(changes) });
      b.commit();
      for (const c of committed.slice(-5)) expect(JSON.stringify(c.changes)).toBe(c.json);
      for (const [key, m] of model) {
        at(b, key);
        expect(map.size()).toBe(m.size);
        expect(sorted(map.entries())).toEqual(sorted([...m]));
      }
    }
    for (const c of committed) expect(JSON.stringify(c.changes)).toBe(c.json);
    at(b, "k0");
    expect(isTrie(b.get("op/m"))).toBe(true);
  });

  it("rolls a journaled batch back to its mark without touching what the batch kept", () => {
    const b = new KeyedBackend(true);
    const map = handle(b, true);
    at(b, "k");
    for (let i = 0; i < 10 * LEAF_MAX; i++) map.put(`e${i}`, i);
    b.commit();
    b.startJournal();
    map.put("e1", -1);
    const mark = b.mark();
    map.put("e2", -2);
    map.remove("e3");
    map.put("new", 5);
    b.rollback(mark);
    expect(map.get("e1")).toBe(-1);
    expect(map.get("e2")).toBe(2);
    expect(map.get("e3")).toBe(3);
    expect(map.has("new")).toBe(false);
    expect(map.size()).toBe(10 * LEAF_MAX);
  });

  it("reads the other layout's stored values, after a JSON round trip", () => {
    const b = new KeyedBackend(true);
    at(b, "k");
    const hashed = handle(b, true);
    for (let i = 0; i < 500; i++) hashed.put(`e${i}`, i);
    const [change] = b.changes();
    b.commit();
    const fresh = new KeyedBackend(false);
    at(fresh, "k");
    fresh.load([{ s: "op/m", k: "k", g: 1 }], [JSON.parse(JSON.stringify(change?.v))]);
    const plain = handle(fresh, false);
    expect(plain.size()).toBe(500);
    expect(plain.get("e499")).toBe(499);
    plain.put("e500", 500);
    plain.remove("e0");
    expect(isTrie(fresh.get("op/m"))).toBe(false);
    expect(plain.size()).toBe(500);
    const again = handle(fresh, true);
    expect(again.get("e500")).toBe(500);
    again.put("e501", 501);
    expect(isTrie(fresh.get("op/m"))).toBe(true);
    expect(again.size()).toBe(501);
    expect(again.has("e0")).toBe(false);
  });

  it("stays flat while small, and removes the key's value when the last entry goes", () => {
    const b = new KeyedBackend(true);
    at(b, "k");
    const map = handle(b, true);
    map.put("a", 1);
    expect(b.get("op/m")).toEqual({ a: 1 });
    for (let i = 0; i < 100; i++) map.put(`e${i}`, i);
    b.commit();
    map.remove("a");
    for (let i = 0; i < 100; i++) map.remove(`e${i}`);
    expect(map.size()).toBe(0);
    expect(map.entries()).toEqual([]);
    expect(b.changes()).toEqual([{ s: "op/m", k: "k", g: 1, d: true }]);
  });
});
