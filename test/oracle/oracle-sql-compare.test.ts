// compareMultisets, which checks riffle's output against the oracle's.

import { describe, expect, it } from "vitest";
import { compareMultisets } from "./duckdb-oracle.ts";

describe("compareMultisets", () => {
  it("is empty for equal multisets in any order", () => {
    expect(
      compareMultisets(
        [
          { a: 1, s: "x" },
          { a: 2, s: "y" },
          { a: 1, s: "x" },
        ],
        [
          { s: "y", a: 2 },
          { a: 1, s: "x" },
          { a: 1, s: "x" },
        ],
      ),
    ).toEqual([]);
    expect(compareMultisets([], [])).toEqual([]);
  });

  it("counts multiplicity", () => {
    const diffs = compareMultisets([{ a: 1 }, { a: 1 }], [{ a: 1 }]);
    expect(diffs).toEqual([
      "2 actual rows vs 1 expected: 0 expected rows missing, 1 unexpected rows",
      "unexpected: { a: 1 }",
    ]);
  });

  it("reports missing and unexpected rows", () => {
    const diffs = compareMultisets([{ a: 1, s: "x" }], [{ a: 2, s: "x" }]);
    expect(diffs).toContain('missing: { a: 2, s: "x" }');
    expect(diffs).toContain('unexpected: { a: 1, s: "x" }');
  });

  it("compares integers exactly, even where the relative difference is tiny", () => {
    expect(compareMultisets([{ t: 1436918400001 }], [{ t: 1436918400000 }])).not.toEqual([]);
    expect(compareMultisets([{ t: 1436918400000 }], [{ t: 1436918400000 }])).toEqual([]);
    expect(compareMultisets([{ n: 3n }], [{ n: 3 }])).toEqual([]);
  });

  it("compares other numbers within a relative tolerance (1e-9 by default)", () => {
    expect(compareMultisets([{ p: 0.908 * (1 + 1e-12) }], [{ p: 0.908 }])).toEqual([]);
    expect(compareMultisets([{ p: 908.0000000000001 }], [{ p: 908 }])).toEqual([]);
    expect(compareMultisets([{ p: 0.908 * (1 + 1e-8) }], [{ p: 0.908 }])).not.toEqual([]);
    expect(compareMultisets([{ p: 1.001 }], [{ p: 1 }], { relTol: 1e-2 })).toEqual([]);
    expect(compareMultisets([{ p: 1.1 }], [{ p: 1 }], { relTol: 1e-2 })).not.toEqual([]);
  });

  it("matches tolerant rows one to one", () => {
    const expected = [
      { k: "a", p: 1.5 },
      { k: "a", p: 2.5 },
    ];
    expect(
      compareMultisets(
        [
          { k: "a", p: 2.5 + 1e-12 },
          { k: "a", p: 1.5 - 1e-12 },
        ],
        expected,
      ),
    ).toEqual([]);
    expect(
      compareMultisets(
        [
          { k: "a", p: 1.5 + 1e-12 },
          { k: "a", p: 1.5 - 1e-12 },
        ],
        expected,
      ),
    ).toContain('missing: { k: "a", p: 2.5 }');
  });

  it("requires exactly the same keys", () => {
    const diffs = compareMultisets([{ a: 1, b: 2 }], [{ a: 1, c: 2 }]);
    expect(diffs).toContain("actual rows have keys [a, b], which no expected row has");
    expect(diffs).toContain("expected rows have keys [a, c], which no actual row has");
    expect(compareMultisets([{ a: 1, b: null }], [{ a: 1 }])).not.toEqual([]);
  });

  it("does not equate strings with numbers, or null with a value", () => {
    expect(compareMultisets([{ a: "1" }], [{ a: 1 }])).not.toEqual([]);
    expect(compareMultisets([{ a: null }], [{ a: 0 }])).not.toEqual([]);
    expect(compareMultisets([{ a: null }], [{ a: null }])).toEqual([]);
  });

  it("handles large differing outputs quickly", () => {
    const expected = Array.from({ length: 20_000 }, (_, i) => ({ k: i, p: i + 0.5 }));
    const actual = expected.map((r) => ({ k: r.k, p: r.p * (1 + 1e-12) }));
    actual[7] = { k: 7, p: 99.5 };
    const started = performance.now();
    const diffs = compareMultisets(actual, expected);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(diffs).toEqual([
      "20000 actual rows vs 20000 expected: 1 expected rows missing, 1 unexpected rows",
      "missing: { k: 7, p: 7.5 }",
      "unexpected: { k: 7, p: 99.5 }",
    ]);
  });
});
