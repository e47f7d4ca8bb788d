/**
 * Map state over the keyed backend (core/operators/state-handles.ts `rawMap`): a batch's first
 * write copies the committed map, later writes of the batch change that copy in place, and no
 * write ever reaches a map a committed segment (or the cache) holds.
 */
import { describe, expect, it } from "vitest";
import type { MapState } from "../../core/api/state.ts";
import { stateHandle, stateValues } from "../../core/operators/state-handles.ts";
import { KeyedBackend } from "../../core/runtime/keyed-backend.ts";

function setup() {
  const b = new KeyedBackend(true);
  b.current.key = "k";
  b.current.enc = "sk";
  b.current.group = 1;
  const ts = { now: () => 0, schedule: () => {} };
  const map = stateHandle({ kind: "map" }, "op/m", b, ts, stateValues("op", "m", "json")).handle as MapState<number>;
  return { b, map };
}

/** Commits the batch and returns a deep copy of its changes, and the changes themselves. */
function commit(b: KeyedBackend) {
  const changes = b.changes();
  const copy = structuredClone(changes);
  b.commit();
  return { changes, copy };
}

describe("map state on the keyed backend", () => {
  it("never changes a committed batch's map by a later batch's puts and removes", () => {
    const { b, map } = setup();
    map.put("a", 1);
    map.put("b", 2);
    const first = commit(b);
    map.put("c", 3);
    map.put("a", 10);
    map.remove("b");
    expect(first.changes).toEqual(first.copy);
    const second = commit(b);
    expect(second.copy.map((c) => c.v)).toEqual([{ a: 10, c: 3 }]);
    map.remove("a");
    map.remove("c");
    expect(first.changes).toEqual(first.copy);
    expect(second.changes).toEqual(second.copy);
    expect(map.size()).toBe(0);
    expect(commit(b).copy).toEqual([{ s: "op/m", k: "sk", g: 1, d: true }]);
  });

  it("keeps committed maps whole with index keys (a join's sequence numbers) too", () => {
    const { b, map } = setup();
    map.put("1", 1);
    map.put("2", 2);
    map.put("10", 10);
    const first = commit(b);
    map.remove("2");
    map.put("11", 11);
    expect(first.changes).toEqual(first.copy);
    const second = commit(b);
    expect(second.copy.map((c) => c.v)).toEqual([{ 1: 1, 10: 10, 11: 11 }]);
    map.remove("1");
    expect(second.changes).toEqual(second.copy);
    expect(Object.fromEntries(map.entries())).toEqual({ 10: 10, 11: 11 });
  });

  it("reads its own writes within a batch, and removing the last entry clears the key", () => {
    const { b, map } = setup();
    map.put("x", 1);
    expect(map.get("x")).toBe(1);
    expect(map.has("y")).toBe(false);
    map.put("y", 2);
    map.remove("x");
    expect(Object.fromEntries(map.entries())).toEqual({ y: 2 });
    commit(b);
    map.remove("y");
    expect(b.get("op/m")).toBeUndefined();
    expect(map.get("toString")).toBeUndefined();
  });

  it("keeps a rolled-back record's writes out of the batch while journaling", () => {
    const { b, map } = setup();
    map.put("a", 1);
    commit(b);
    b.startJournal();
    const mark = b.mark();
    map.put("b", 2);
    b.rollback(mark);
    expect(Object.fromEntries(map.entries())).toEqual({ a: 1 });
  });
});
