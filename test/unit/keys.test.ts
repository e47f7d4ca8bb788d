import { describe, expect, it } from "vitest";
import { JobDefinitionError } from "../../core/errors.ts";
import {
  DEFAULT_MAX_PARALLELISM,
  decodeKey,
  encodeKey,
  type Key,
  keyGroupOf,
  keyGroupRange,
  murmur3,
  partitionOfKeyGroup,
} from "../../core/keys.ts";

/**
 * Independent reference murmur3_x86_32 over raw bytes, written with BigInt
 * arithmetic so that it shares no 32-bit tricks (Math.imul, `| 0`, `>>> 0`) with
 * the implementation under test.
 */
function referenceMurmur3(bytes: Uint8Array, seed = 0): number {
  const mask = 0xffffffffn;
  const mul = (a: bigint, b: bigint) => (a * b) & mask;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) & mask;
  const c1 = 0xcc9e2d51n;
  const c2 = 0x1b873593n;
  const littleEndian = (from: number, count: number): bigint => {
    let k = 0n;
    for (let j = count - 1; j >= 0; j--) k = (k << 8n) | BigInt(bytes[from + j] ?? 0);
    return k;
  };
  let h = BigInt(seed) & mask;
  const blocks = Math.floor(bytes.length / 4);
  for (let b = 0; b < blocks; b++) {
    const k = mul(rotl(mul(littleEndian(b * 4, 4), c1), 15n), c2);
    h ^= k;
    h = (mul(rotl(h, 13n), 5n) + 0xe6546b64n) & mask;
  }
  const tail = bytes.length % 4;
  if (tail > 0) h ^= mul(rotl(mul(littleEndian(blocks * 4, tail), c1), 15n), c2);
  h ^= BigInt(bytes.length);
  h ^= h >> 16n;
  h = mul(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return Number(h);
}

const utf8 = (s: string): Uint8Array => Buffer.from(s, "utf8");

describe("encodeKey", () => {
  it("tags keys by type, so equal-looking keys of different types differ", () => {
    // prepare
    const lookalikes: Key[] = [1, "1", 1n, true, "true", "t", null, "null", "z", ["1"], [1], "[1]", [], "", [[]], [""]];

    // act
    const encoded = lookalikes.map((k) => encodeKey(k));

    // assess
    expect(encodeKey(1)).not.toBe(encodeKey("1"));
    expect(new Set(encoded).size).toBe(lookalikes.length);
  });

  it("distinguishes composite keys that flatten to the same text", () => {
    // prepare
    const keys: Key[] = [
      ["a", "b"],
      ["a,b"],
      ["ab"],
      [["a"], "b"],
      ["a", ["b"]],
      [["a", "b"]],
      ["1:a"],
      ["1", "a"],
      [1, "a"],
    ];

    // act
    const encoded = keys.map((k) => encodeKey(k));

    // assess
    expect(new Set(encoded).size).toBe(keys.length);
  });

  it("encodes -0 exactly as 0, so both address the same state and key group", () => {
    // act
    const negative = encodeKey(-0);
    const positive = encodeKey(0);

    // assess
    expect(negative).toBe(positive);
    expect(encodeKey([-0, "x"])).toBe(encodeKey([0, "x"]));
    expect(keyGroupOf(negative, DEFAULT_MAX_PARALLELISM)).toBe(keyGroupOf(positive, DEFAULT_MAX_PARALLELISM));
  });

  it("is deterministic for equal keys", () => {
    // prepare
    const a: Key = ["user", 42, [true, null, 7n]];
    const b: Key = ["user", 42, [true, null, 7n]];

    // act + assess
    expect(encodeKey(a)).toBe(encodeKey(b));
  });

  it.each<[string, unknown]>([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    ["a plain object", { a: 1 }],
    ["an empty object", {}],
    ["undefined", undefined],
    ["a symbol", Symbol("k")],
    ["a function", () => 1],
    ["a Date", new Date(0)],
    ["an array holding NaN", ["ok", Number.NaN]],
    ["an array holding an object", [1, { a: 1 }]],
    ["an array holding undefined", [undefined]],
    ["a nested array holding Infinity", [[1, [Number.POSITIVE_INFINITY]]]],
  ])("rejects %s with JobDefinitionError", (_label, bad) => {
    // act + assess
    expect(() => encodeKey(bad as Key)).toThrow(JobDefinitionError);
  });
});

describe("decodeKey", () => {
  it.each<[string, Key]>([
    ["empty string", ""],
    ["plain string", "hello"],
    ["string with separators", "a:b[c]d,e"],
    ["string looking like an encoding", "[1:x]"],
    ["string of digits and a colon", "12:"],
    ["unicode string", "héllo wörld ✓ 日本語 🚀"],
    ["string with NUL and newline", "a\u0000b\nc"],
    ["zero", 0],
    ["negative integer", -17],
    ["fraction", 3.25],
    ["large exponent", 1e21],
    ["smallest subnormal", Number.MIN_VALUE],
    ["largest double", Number.MAX_VALUE],
    ["max safe integer", Number.MAX_SAFE_INTEGER],
    ["true", true],
    ["false", false],
    ["null", null],
    ["zero bigint", 0n],
    ["huge negative bigint", -123456789012345678901234567890n],
  ])("round-trips %s", (_label, key) => {
    // act
    const decoded = decodeKey(encodeKey(key));

    // assess
    expect(decoded).toStrictEqual(key);
  });

  it.each<[string, Key]>([
    ["empty array", []],
    ["array of empty arrays", [[], [[]], [[], []]]],
    ["array with separator-laden strings", [":", "[", "]", ",", "1:", "]]", "[[", "a:b,c]", ""]],
    ["array of every scalar type", ["s", 1, -2.5, true, false, null, 10n]],
    ["deeply nested array", [[[[["deep", ["er"]]]]], "tail"]],
    ["nested arrays mixing strings that look like length prefixes", [["3:abc"], "2:", [["0:"], "]"]]],
    ["unicode inside arrays", [["日本", "🚀"], "ü"]],
  ])("round-trips %s", (_label, key) => {
    // act
    const decoded = decodeKey(encodeKey(key));

    // assess
    expect(decoded).toStrictEqual(key);
  });

  it("decodes -0 as 0", () => {
    // act
    const decoded = decodeKey(encodeKey(-0));

    // assess
    expect(Object.is(decoded, 0)).toBe(true);
  });

  it("rejects trailing characters", () => {
    // act + assess
    expect(() => decodeKey(`${encodeKey(true)}x`)).toThrow(SyntaxError);
  });
});

describe("murmur3", () => {
  it.each<[string, number]>([
    ["", 0],
    ["hello", 0x248bfa47],
    ["Hello, world!", 0xc0363e43],
    ["The quick brown fox jumps over the lazy dog", 0x2e4ff723],
  ])("matches the published seed-0 vector for %j", (input, expected) => {
    // prepare: the vector must also agree with the independent reference
    const reference = referenceMurmur3(utf8(input));

    // act
    const actual = murmur3(input);

    // assess
    expect(reference).toBe(expected);
    expect(actual).toBe(expected);
  });

  it("hashes 'hello' to 613153351", () => {
    // act + assess
    expect(murmur3("hello")).toBe(613153351);
  });

  it.each(["héllo wörld ✓ 日本語 🚀", "é", "ü1", "日本", "🚀", "a🚀b", "\u0080", "\u00ff\u00ff\u00ff"])(
    "hashes the UTF-8 bytes of the non-ASCII string %j like the reference",
    (input) => {
      // prepare
      const expected = referenceMurmur3(utf8(input));

      // act
      const actual = murmur3(input);

      // assess
      expect(actual).toBe(expected);
    },
  );

  it("hashes the non-ASCII sample to the value the reference gives (0x7cad85e8)", () => {
    // prepare
    const input = "héllo wörld ✓ 日本語 🚀";

    // act + assess
    expect(referenceMurmur3(utf8(input))).toBe(0x7cad85e8);
    expect(murmur3(input)).toBe(0x7cad85e8);
  });

  it("agrees with the reference for every tail length (0..3) and longer inputs", () => {
    // prepare
    const inputs = Array.from({ length: 40 }, (_, n) => "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF".slice(0, n));

    // act
    const mismatches = inputs.filter((s) => murmur3(s) !== referenceMurmur3(utf8(s)));

    // assess
    expect(mismatches).toEqual([]);
  });

  it("honours the seed", () => {
    // act
    const seeded = murmur3("hello", 1);

    // assess
    expect(seeded).toBe(referenceMurmur3(utf8("hello"), 1));
    expect(seeded).not.toBe(murmur3("hello"));
  });

  it("returns an unsigned 32-bit integer", () => {
    // prepare
    const inputs = Array.from({ length: 500 }, (_, i) => `k${i}`);

    // act
    const hashes = inputs.map((s) => murmur3(s));

    // assess
    for (const h of hashes) {
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThanOrEqual(0xffffffff);
    }
    expect(hashes.some((h) => h > 0x7fffffff)).toBe(true);
  });
});

describe("keyGroupOf", () => {
  it("always lands in [0, maxParallelism)", () => {
    // prepare
    const keys: Key[] = [];
    for (let i = 0; i < 2000; i++) keys.push(i % 2 === 0 ? `key-${i}` : i, [i, `x${i}`]);

    for (const maxParallelism of [1, 2, 7, 128, 1000, 32768]) {
      // act
      const groups = keys.map((k) => keyGroupOf(encodeKey(k), maxParallelism));

      // assess
      for (const g of groups) {
        expect(Number.isInteger(g)).toBe(true);
        expect(g).toBeGreaterThanOrEqual(0);
        expect(g).toBeLessThan(maxParallelism);
      }
    }
  });

  it("is the murmur3 hash of the encoded key modulo maxParallelism", () => {
    // prepare
    const encoded = encodeKey(["tenant", 7]);

    // act
    const group = keyGroupOf(encoded, 128);

    // assess
    expect(group).toBe(referenceMurmur3(utf8(encoded)) % 128);
  });

  it("spreads 10,000 distinct keys over all 128 key groups evenly", () => {
    // prepare
    const counts = new Array<number>(128).fill(0);

    // act
    for (let i = 0; i < 10_000; i++) {
      const g = keyGroupOf(encodeKey(`user-${i}`), 128);
      counts[g] = (counts[g] ?? 0) + 1;
    }

    // assess
    const min = Math.min(...counts);
    const max = Math.max(...counts);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(min).toBeGreaterThan(0);
    expect(max / min).toBeLessThan(2.5);
  });

  it("spreads 10,000 distinct numeric keys over all 128 key groups evenly", () => {
    // prepare
    const counts = new Array<number>(128).fill(0);

    // act
    for (let i = 0; i < 10_000; i++) {
      const g = keyGroupOf(encodeKey(i), 128);
      counts[g] = (counts[g] ?? 0) + 1;
    }

    // assess
    const min = Math.min(...counts);
    const max = Math.max(...counts);
    expect(min).toBeGreaterThan(0);
    expect(max / min).toBeLessThan(2.5);
  });
});

describe("key groups are pinned (state and savepoints are addressed by them)", () => {
  it("encodes and groups scalar, composite and non-ASCII keys exactly as before the one-pass hash", () => {
    // prepare: [key, its encoding, key group at 128, key group at 32768], computed by the earlier two-pass code
    const pinned: [Key, string, number, number][] = [
      [0, "n0", 79, 32335],
      [-0, "n0", 79, 32335],
      [1.5, "n1.5", 109, 29549],
      [-42, "n-42", 116, 9972],
      [1e21, "n1e+21", 82, 5202],
      ["", "s", 113, 19185],
      ["auction-17", "sauction-17", 84, 15956],
      ["é", "sé", 88, 30296],
      ["日本", "s日本", 107, 17259],
      ["\u{1F600}", "s\u{1F600}", 0, 12416],
      [true, "t", 77, 24397],
      [null, "z", 23, 6679],
      [-7n, "b-7", 100, 23780],
      [[], "[]", 124, 14204],
      [[1000, "2015-07-15"], "[5:n100011:s2015-07-15]", 107, 9963],
      [[["a"], 2, null], "[6:[2:sa]2:n21:z]", 67, 18115],
      [["x", 3.25, false], "[2:sx5:n3.251:f]", 82, 1234],
      [[""], "[1:s]", 41, 22057],
    ];

    // act
    const got = pinned.map(([key]) => {
      const enc = encodeKey(key);
      return [key, enc, keyGroupOf(enc, 128), keyGroupOf(enc, 32768)];
    });

    // assess
    expect(got).toEqual(pinned);
  });
});

describe("partitionOfKeyGroup and keyGroupRange", () => {
  const pairs: [number, number][] = [];
  for (const maxParallelism of [1, 7, 16, 128, 1000]) {
    for (let parallelism = 1; parallelism <= Math.min(13, maxParallelism); parallelism++) {
      pairs.push([parallelism, maxParallelism]);
    }
  }

  it.each(pairs)("agree for parallelism %i, maxParallelism %i", (parallelism, maxParallelism) => {
    // act
    const ranges = Array.from({ length: parallelism }, (_, p) => keyGroupRange(p, parallelism, maxParallelism));
    const owners = Array.from({ length: maxParallelism }, (_, kg) =>
      partitionOfKeyGroup(kg, parallelism, maxParallelism),
    );

    // assess: ranges are non-empty, ascending, contiguous and cover [0, maxP - 1]
    expect(ranges[0]?.start).toBe(0);
    expect(ranges[parallelism - 1]?.end).toBe(maxParallelism - 1);
    ranges.forEach((r, p) => {
      expect(r.start).toBeLessThanOrEqual(r.end);
      if (p > 0) expect(r.start).toBe((ranges[p - 1]?.end ?? Number.NaN) + 1);
    });

    // assess: every key group is owned by exactly the one partition whose range holds it
    owners.forEach((owner, kg) => {
      expect(owner).toBeGreaterThanOrEqual(0);
      expect(owner).toBeLessThan(parallelism);
      const holders = ranges.flatMap((r, p) => (kg >= r.start && kg <= r.end ? [p] : []));
      expect(holders).toEqual([owner]);
    });
  });

  it("splits 128 key groups over 3 partitions as Flink does", () => {
    // act
    const ranges = [0, 1, 2].map((p) => keyGroupRange(p, 3, 128));

    // assess
    expect(ranges).toEqual([
      { start: 0, end: 42 },
      { start: 43, end: 85 },
      { start: 86, end: 127 },
    ]);
  });

  it("moves whole ranges on rescale: doubling the parallelism splits every old partition in two", () => {
    // prepare
    const maxParallelism = 128;
    const before = 4;
    const after = 8;

    // act
    const moved = Array.from({ length: maxParallelism }, (_, kg) => [
      partitionOfKeyGroup(kg, before, maxParallelism),
      partitionOfKeyGroup(kg, after, maxParallelism),
    ]);

    // assess
    for (const [oldP, newP] of moved) expect(Math.floor((newP ?? 0) / 2)).toBe(oldP);
  });
});

describe("decodeKey rejects malformed encodings", () => {
  it.each(["[2:tx]", "n", "b", "bx1", "nabc", "tt", "q1", "[3:sa"])("rejects %j", (bad) => {
    expect(() => decodeKey(bad)).toThrow(SyntaxError);
  });
});
