/**
 * Shared distinct views (core/sql/distinct-view.ts): COUNT(DISTINCT x) calls over one column share
 * one store entry per value, a bitmask of the calls whose FILTER let it through.
 */
import { describe, expect, it } from "vitest";
import { addDistinct, distinctViews } from "../../core/sql/distinct-view.ts";
import type { AggCall } from "../../core/sql/logical.ts";
import { BIGINT } from "../../core/sql/types.ts";

const count = (arg: number | undefined, distinct: boolean, filter?: number): AggCall => ({
  fn: "COUNT",
  ...(arg === undefined ? {} : { arg }),
  distinct,
  ...(filter === undefined ? {} : { filter }),
  type: BIGINT,
});

/** A store over a plain map that counts its writes. */
function store() {
  const m = new Map<string, number>();
  let puts = 0;
  return {
    m,
    puts: () => puts,
    get: (k: string) => m.get(k),
    put: (k: string, v: number) => {
      puts++;
      m.set(k, v);
    },
  };
}

describe("distinct views", () => {
  it("groups the COUNT(DISTINCT …) calls by column, leaving COUNT(*) and plain counts out", () => {
    // Columns: 0 bidder, 1 auction, 2 and 3 filters.
    const aggs = [count(undefined, false), count(0, true), count(0, true, 2), count(1, true, 3), count(1, false)];
    const views = distinctViews(aggs);
    expect(views.map((v) => ({ arg: v.arg, calls: v.calls, filters: v.filters }))).toEqual([
      { arg: 0, calls: [1, 2], filters: [undefined, 2] },
      { arg: 1, calls: [3], filters: [3] },
    ]);
    expect(new Set(views.map((v) => v.prefix)).size).toBe(2);
  });

  it("splits more than 30 calls over one column into views of 30 (one bit each)", () => {
    const aggs = Array.from({ length: 65 }, () => count(0, true));
    expect(distinctViews(aggs).map((v) => v.calls.length)).toEqual([30, 30, 5]);
  });

  it("counts a value once per call whose filter passes, and writes only when a call sees it first", () => {
    const aggs = [count(0, true), count(0, true, 1), count(0, true, 2)];
    const views = distinctViews(aggs);
    const s = store();
    const acc = [0, 0, 0];
    addDistinct(views, s, acc, ["a", true, false]);
    expect(acc).toEqual([1, 1, 0]);
    addDistinct(views, s, acc, ["a", true, false]);
    expect(acc).toEqual([1, 1, 0]);
    expect(s.puts()).toBe(1);
    addDistinct(views, s, acc, ["a", false, true]);
    expect(acc).toEqual([1, 1, 1]);
    addDistinct(views, s, acc, ["b", false, null]);
    expect(acc).toEqual([2, 1, 1]);
    expect(s.puts()).toBe(3);
    expect(s.m.size).toBe(2);
  });

  it("skips NULL values, and tells a number from the string of its digits", () => {
    const views = distinctViews([count(0, true)]);
    const s = store();
    const acc = [0];
    addDistinct(views, s, acc, [null]);
    expect(acc).toEqual([0]);
    addDistinct(views, s, acc, [1]);
    addDistinct(views, s, acc, ["1"]);
    addDistinct(views, s, acc, [1]);
    expect(acc).toEqual([2]);
  });
});
