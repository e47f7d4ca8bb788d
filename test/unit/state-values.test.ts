import { describe, expect, it } from "vitest";
import { decodeRich, encodeRich, unstorable } from "../../core/runtime/state-values.ts";

const viaJson = (v: unknown) => decodeRich(JSON.parse(JSON.stringify(encodeRich(v))));

describe("unstorable", () => {
  it("passes plain JSON and names the first part JSON would change", () => {
    expect(unstorable({ a: [1, "x", null, true, { b: -0.5 }], c: undefined }, "json")).toBeUndefined();
    expect(unstorable(Number.POSITIVE_INFINITY, "json")).toBe("Infinity");
    expect(unstorable([[1], [2, [new Map()]]], "json")).toBe("a Map");
    expect(unstorable({ d: new Date(0) }, "json")).toBe("a Date");
    expect(unstorable(Symbol("s"), "json")).toBe("a symbol");
    expect(unstorable(Object.create({}), "json")).toBe("an object with a custom prototype");
    expect(unstorable(new (class Item {})(), "json")).toBe("an Item");
    expect(unstorable(new Float64Array(2), "json")).toBe("a Float64Array");
  });

  it("lets the rich codec hold Date, Map, Set and bigint, but not what it cannot give back", () => {
    expect(unstorable({ m: new Map([[1n, new Set([new Date(1)])]]) }, "rich")).toBeUndefined();
    expect(unstorable(new Map([["k", Number.NaN]]), "rich")).toBe("NaN");
    expect(unstorable(new Date(Number.NaN), "rich")).toBe("an invalid Date");
    expect(unstorable(new Set([new (class Thing {})()]), "rich")).toBe("a Thing");
  });
});

describe("the rich codec", () => {
  it("gives every supported value back through JSON", () => {
    const value = {
      m: new Map<unknown, unknown>([
        ["a", 1n],
        [2, new Set(["x", new Date(5)])],
      ]),
      big: -(2n ** 70n),
      list: [new Date(0), { nested: new Map() }],
      plain: { $riffle: "Map", v: [] }, // a plain object that looks like a tag
      n: null,
    };
    expect(viaJson(value)).toEqual(value);
    const back = viaJson(value) as typeof value;
    expect(back.m).toBeInstanceOf(Map);
    expect(back.plain).toEqual({ $riffle: "Map", v: [] });
  });
});
