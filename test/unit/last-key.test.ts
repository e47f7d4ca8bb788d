/** The keyed operator's last encoded key: which keys reuse its encoding, and which are encoded again. */
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../core/errors.ts";
import { encodeKey, type Key, keyGroupOf } from "../../core/keys.ts";
import { LastKey } from "../../core/operators/last-key.ts";

const remembered = (key: Key) => {
  const last = new LastKey();
  last.remember(key, encodeKey(key), 7);
  return last;
};

describe("LastKey", () => {
  it("matches nothing before a key is remembered", () => {
    expect(new LastKey().matches("")).toBe(false);
    expect(new LastKey().matches(0)).toBe(false);
  });

  it("matches an equal scalar and gives its encoding and group", () => {
    const last = remembered("a");
    expect(last.matches("a")).toBe(true);
    expect([last.enc, last.group]).toEqual([encodeKey("a"), 7]);
    expect(last.matches("b")).toBe(false);
    expect(last.matches(["a"])).toBe(false);
    expect(remembered(0).matches(-0)).toBe(encodeKey(0) === encodeKey(-0));
    expect(remembered(1).matches("1")).toBe(false);
    expect(remembered(null).matches(null)).toBe(true);
  });

  it("matches an array of equal scalars by value, even one array changed in place", () => {
    const key: Key[] = [1000, 2000];
    const last = remembered(key);
    expect(last.matches([1000, 2000])).toBe(true);
    key[1] = 3000;
    expect(last.matches(key)).toBe(false);
    expect(last.matches([1000])).toBe(false);
    expect(last.matches([1000, 2000, 3])).toBe(false);
    expect(last.matches(1000)).toBe(false);
  });

  it("never matches a NaN, nor a key with a nested array", () => {
    const nested: Key = [1, [2, 3]];
    expect(remembered(nested).matches([1, [2, 3]])).toBe(false);
    const last = new LastKey();
    last.remember(Number.NaN, "x", 1);
    expect(last.matches(Number.NaN)).toBe(false);
    last.remember([Number.NaN], "y", 1);
    expect(last.matches([Number.NaN])).toBe(false);
  });

  it("resolves a key to its encoding and key group, refusing one outside the partition's groups", () => {
    const last = new LastKey();
    last.resolve([1000, 2000], 128, { start: 0, end: 127 });
    expect([last.enc, last.group]).toEqual([encodeKey([1000, 2000]), keyGroupOf(encodeKey([1000, 2000]), 128)]);
    const group = keyGroupOf(encodeKey("x"), 128);
    expect(() => last.resolve("x", 128, { start: group + 1, end: group + 1 })).toThrow(ProtocolError);
    expect(() => last.resolve(Number.NaN, 128, { start: 0, end: 127 })).toThrow(/not a finite number/);
    expect(last.matches([1000, 2000])).toBe(true); // neither refused key replaced it
  });
});
