/**
 * Folding keyed state cheaply (issue 13): `foldDue` (fold only when it pays) and
 * `netChanges` (what a fold writes to the base values), with the `n` mark the keyed
 * backend sets on a change of a key that had no committed value.
 */

import { describe, expect, it } from "vitest";
import { foldDue, netChanges } from "../../core/log/compaction.ts";
import type { StateChange } from "../../core/log/segment.ts";
import { KeyedBackend } from "../../core/runtime/keyed-backend.ts";

const set = (k: string, v: unknown, n?: true): StateChange => ({ s: "op/x", k, g: 1, v, ...(n ? { n } : {}) });
const del = (k: string, n?: true): StateChange => ({ s: "op/x", k, g: 1, d: true, ...(n ? { n } : {}) });

describe("netChanges", () => {
  it("keeps the last change of each key, in first-seen order", () => {
    expect(netChanges([set("a", 1), set("b", 1), set("a", 2), del("b")])).toEqual([set("a", 2), del("b")]);
  });

  it("drops a key born and deleted within the fold, and keeps a deletion of a key the base may hold", () => {
    expect(netChanges([set("w", 1, true), set("w", 2), del("w")])).toEqual([]);
    expect(netChanges([del("w", true)])).toEqual([]);
    expect(netChanges([set("w", 1), del("w")])).toEqual([del("w")]);
    expect(netChanges([set("w", 1, true), set("w", 3)])).toEqual([set("w", 3)]);
    // Born, deleted, born again: the base never held it, the last value is written.
    expect(netChanges([set("w", 1, true), del("w"), set("w", 5, true)])).toEqual([set("w", 5, true)]);
  });
});

describe("the keyed backend's `n` mark", () => {
  it("marks a write of a key known unset (loaded as unset, or a partition that started empty), never one with a value", () => {
    const cold = new KeyedBackend(false);
    cold.load(
      [
        { s: "op/x", k: "unset", g: 1 },
        { s: "op/x", k: "held", g: 1 },
      ],
      [undefined, 7],
    );
    cold.setFor("op/x", "unset", 1, 1);
    cold.setFor("op/x", "held", 1, undefined);
    cold.setFor("op/x", "unknown", 1, 2); // never read: the cache cannot tell
    expect(cold.changes()).toEqual([
      { s: "op/x", k: "unset", g: 1, v: 1, n: true },
      { s: "op/x", k: "held", g: 1, d: true },
      { s: "op/x", k: "unknown", g: 1, v: 2 },
    ]);
    cold.commit();
    cold.setFor("op/x", "unset", 1, undefined); // committed a value in the last batch: not new any more
    expect(cold.changes()).toEqual([{ s: "op/x", k: "unset", g: 1, d: true }]);

    const empty = new KeyedBackend(true);
    empty.setFor("op/x", "a", 1, 1);
    empty.setFor("op/x", "a", 1, undefined);
    expect(empty.changes()).toEqual([{ s: "op/x", k: "a", g: 1, d: true, n: true }]);
  });
});

describe("foldDue", () => {
  const policy = { segments: 128, checkpoints: 16 };
  it("folds at every completed checkpoint without a policy, and never when the cut is at the base", () => {
    expect(foldDue(undefined, 3, false, { base: 10 }, 11, 0)).toBe(true);
    expect(foldDue(undefined, 3, false, { base: 11 }, 11, 0)).toBe(false);
    expect(foldDue(policy, 32, true, { base: 11 }, 11, 0)).toBe(false);
  });
  it("with a policy: at 128 segments, every 16th checkpoint, or the final one", () => {
    expect(foldDue(policy, 3, false, { base: 0 }, 127, 0)).toBe(false);
    expect(foldDue(policy, 3, false, { base: 0 }, 128, 0)).toBe(true);
    expect(foldDue(policy, 32, false, { base: 0 }, 1, 0)).toBe(true);
    expect(foldDue(policy, 33, true, { base: 0 }, 1, 0)).toBe(true);
  });
  it("with maxAgeMs: also once the base is that old, or the store says there is none; never on an unknown age", () => {
    const aged = { ...policy, maxAgeMs: 1000 };
    expect(foldDue(aged, 3, false, { base: 5, baseAt: 9_000 }, 6, 9_999)).toBe(false);
    expect(foldDue(aged, 3, false, { base: 5, baseAt: 9_000 }, 6, 10_000)).toBe(true);
    expect(foldDue(aged, 3, false, { base: 0, baseAt: 0 }, 1, 10_000)).toBe(true);
    expect(foldDue(aged, 3, false, { base: 5 }, 6, 10_000)).toBe(false);
    expect(foldDue(aged, 3, false, { base: 6, baseAt: 0 }, 6, 10_000)).toBe(false);
  });
});
