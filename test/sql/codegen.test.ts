/**
 * Generated code (core/sql/codegen.ts) against the closure compiler (`compile` in expr.ts): the
 * same value for every expression over rows with NULLs, NaN, negative and fractional numbers, and
 * a few values written out, so that a change to both cannot pass unnoticed.
 */
import { describe, expect, it } from "vitest";
import { call } from "../../core/sql/bind-expr.ts";
import { generate, generateObject, generateRow } from "../../core/sql/codegen.ts";
import { type BoundExpr, compile, type Row } from "../../core/sql/expr.ts";
import { splitIndex } from "../../core/sql/functions.ts";
import { formatTimestamp, utcHour } from "../../core/sql/time-format.ts";
import { BIGINT, BOOLEAN, DOUBLE, NULL, type SqlType, TIMESTAMP, VARCHAR } from "../../core/sql/types.ts";

const pos = { line: 1, column: 1 };
const DEC: SqlType = { kind: "DECIMAL", precision: 10, scale: 2 };
const ROW: SqlType = { kind: "ROW", fields: [{ name: "x", type: BIGINT }] } as unknown as SqlType;

const col = (index: number, type: SqlType): BoundExpr => ({ kind: "input", index, type });
const lit = (value: unknown, type: SqlType): BoundExpr => ({ kind: "literal", value, type });
const fn = (name: string, ...args: BoundExpr[]) => call(name, args, pos);

const a = col(0, BIGINT);
const b = col(1, BIGINT);
const d = col(2, DEC);
const s = col(3, VARCHAR);
const t = col(4, TIMESTAMP);
const flag = col(5, BOOLEAN);
const obj = col(6, ROW);
const x = col(7, DOUBLE);

/** Rows with every column NULL in some, and odd values in others. */
const ROWS: Row[] = [
  [1, 2, 1.25, "abc", Date.UTC(2015, 6, 15, 8, 30), true, { x: 5, "odd key": 1 }, 0.5],
  [null, 2, null, null, null, null, null, null],
  [-7, 0, -3.33, "", -1, false, { x: null }, Number.NaN],
  [123, 123, 0.908, "c c c", Date.UTC(2015, 6, 15, 19, 59, 59, 999), null, {}, -0.25],
  [5, null, 10, "Hello", 3_600_000 * 6 + 1, true, { y: 1 }, Number.NaN],
  [2 ** 40, -3, 2.5, "x", -3_600_000 * 5 - 0.5, false, null, 1e300],
];

const EXPRESSIONS: [string, BoundExpr][] = [
  ["a + b", fn("+", a, b)],
  ["a - b * 2", fn("-", a, fn("*", b, lit(2, BIGINT)))],
  ["0.908 * d", fn("*", lit(0.908, { kind: "DECIMAL", precision: 4, scale: 3 }), d)],
  ["d + d", fn("+", d, d)],
  ["d - 1", fn("-", d, lit(1, BIGINT))],
  ["a / b", fn("/", a, b)],
  ["x / 2.0", fn("/", x, lit(2, DOUBLE))],
  ["MOD(a, 123)", fn("MOD", a, lit(123, BIGINT))],
  ["a % b", fn("%", a, b)],
  ["a = b", fn("=", a, b)],
  ["x = x (NaN)", fn("=", x, x)],
  ["x <> x", fn("<>", x, x)],
  ["a < b", fn("<", a, b)],
  ["a <= b", fn("<=", a, b)],
  ["x > 0", fn(">", x, lit(0, DOUBLE))],
  ["x >= 0", fn(">=", x, lit(0, DOUBLE))],
  ["s = 'abc'", fn("=", s, lit("abc", VARCHAR))],
  ["a = NULL", fn("=", a, lit(null, NULL))],
  ["flag AND a > 1", fn("AND", flag, fn(">", a, lit(1, BIGINT)))],
  ["flag OR a > 1", fn("OR", flag, fn(">", a, lit(1, BIGINT)))],
  ["NOT flag", fn("NOT", flag)],
  ["UPPER(s) || s", fn("||", fn("UPPER", s), s)],
  ["CHAR_LENGTH(s)", fn("CHAR_LENGTH", s)],
  ["HOUR(t)", fn("HOUR", t)],
  ["DATE_FORMAT(t, …)", fn("DATE_FORMAT", t, lit("yyyy-MM-dd 'at' HH:mm", VARCHAR))],
  ["SPLIT_INDEX(s, ' ', 1)", fn("SPLIT_INDEX", s, lit(" ", VARCHAR), lit(1, BIGINT))],
  ["ABS(x)", fn("ABS", x)],
  ["REGEXP_EXTRACT(s, '(c) (c)', 2)", fn("REGEXP_EXTRACT", s, lit("(c) (c)", VARCHAR), lit(2, BIGINT))],
  ["REGEXP_EXTRACT(s, s, 0)", fn("REGEXP_EXTRACT", s, s, lit(0, BIGINT))],
  ["obj.x", { kind: "field", expr: obj, name: "x", type: BIGINT }],
  ["obj.`odd key`", { kind: "field", expr: obj, name: "odd key", type: BIGINT }],
  [
    "CASE",
    {
      kind: "case",
      whens: [
        { when: fn(">=", fn("HOUR", t), lit(8, BIGINT)), result: lit("day", VARCHAR) },
        { when: flag, result: s },
      ],
      else: lit("other", VARCHAR),
      type: VARCHAR,
    },
  ],
  [
    "CASE over a repeated HOUR(t) and a + b",
    {
      kind: "case",
      whens: [
        {
          when: fn("AND", fn(">=", fn("HOUR", t), lit(8, BIGINT)), fn("<=", fn("HOUR", t), lit(18, BIGINT))),
          result: fn("*", fn("+", a, b), fn("+", a, b)),
        },
        {
          when: fn("OR", fn("<=", fn("HOUR", t), lit(6, BIGINT)), fn(">=", fn("HOUR", t), lit(20, BIGINT))),
          result: b,
        },
      ],
      else: fn("+", a, b),
      type: BIGINT,
    },
  ],
  ["CAST(d AS BIGINT)", { kind: "cast", expr: d, type: BIGINT }],
  ["CAST(a AS VARCHAR)", { kind: "cast", expr: a, type: VARCHAR }],
  ["CAST(s AS BOOLEAN)", { kind: "cast", expr: s, type: BOOLEAN }],
  ["CAST(x AS DECIMAL(5, 1))", { kind: "cast", expr: x, type: { kind: "DECIMAL", precision: 5, scale: 1 } }],
  ["s IS NULL", { kind: "is-null", expr: s, not: false, type: BOOLEAN }],
  [
    "obj.x IS NOT NULL",
    { kind: "is-null", expr: { kind: "field", expr: obj, name: "x", type: BIGINT }, not: true, type: BOOLEAN },
  ],
  ["a literal with quotes and a placeholder", lit(["it's\"`$", "{x}`"].join(""), VARCHAR)],
  ["-1.5", lit(-1.5, DOUBLE)],
];

describe("generated expressions", () => {
  for (const [name, e] of EXPRESSIONS)
    it(`${name}: the closure compiler's value on every row`, () => {
      const closure = compile(e);
      const generated = generate(e);
      for (const row of ROWS) expect(generated(row), JSON.stringify(row)).toStrictEqual(closure(row));
    });

  it("computes the values written out here", () => {
    const [first, nulls, third] = ROWS as [Row, Row, Row];
    expect(generate(fn("*", lit(0.908, { kind: "DECIMAL", precision: 4, scale: 3 }), d))(first)).toBe(1.135);
    expect(generate(fn("AND", flag, fn(">", a, lit(1, BIGINT))))(nulls)).toBe(null);
    expect(generate(fn("AND", flag, fn(">", a, lit(1, BIGINT))))(third)).toBe(false);
    expect(generate(fn("OR", flag, fn(">", a, lit(1, BIGINT))))(nulls)).toBe(null);
    expect(generate(fn("=", x, x))(third)).toBe(true);
    expect(generate(fn("HOUR", t))(first)).toBe(8);
    expect(generate(fn("MOD", a, lit(123, BIGINT)))(third)).toBe(-7);
  });

  it("stops a strict call at its first NULL argument, and AND at its first FALSE", () => {
    let calls = 0;
    const counted = call("CHAR_LENGTH", [s], pos) as Extract<BoundExpr, { kind: "call" }>;
    const spy: BoundExpr = { ...counted, fn: { ...counted.fn, make: () => () => ++calls } };
    generate(fn("+", a, spy))([null, 0, 0, "abc"]);
    generate(fn("AND", lit(false, BOOLEAN), fn("=", spy, lit(1, BIGINT))))([1, 0, 0, "abc"]);
    expect(calls).toBe(0);
    generate(fn("+", a, spy))([1, 0, 0, "abc"]);
    expect(calls).toBe(1);
  });

  it("computes a call that occurs more than once once per record, and a user function each time", () => {
    const hour = fn("HOUR", t);
    const twice = fn("+", hour, hour);
    expect(generate(twice).toString()).toContain("c0 = (");
    expect(generate(twice)(ROWS[0] as Row)).toBe(16);
    let calls = 0;
    const counted = call("CHAR_LENGTH", [s], pos) as Extract<BoundExpr, { kind: "call" }>;
    const udf: BoundExpr = { ...counted, fn: { ...counted.fn, make: () => () => ++calls } };
    expect(generate(fn("+", udf, udf))(ROWS[0] as Row)).toBe(3);
    expect(calls).toBe(2);
  });

  it("builds rows and sink records, with names that are not identifiers set from constants (`__proto__` an own property)", () => {
    const row = ROWS[0] as Row;
    expect(generateRow([a, fn("+", a, b), s])(row)).toEqual([1, 3, "abc"]);
    expect(generateObject(["auction", "price"], [a, b])(row)).toEqual({ auction: 1, price: 2 });
    const names = ["odd key", "__proto__", "1"];
    const odd = generateObject(names, [a, b, s])(row);
    expect(Object.entries(odd)).toEqual([
      ["1", "abc"],
      ["odd key", 1],
      ["__proto__", 2],
    ]);
    expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
  });
});

describe("scalar function fast paths", () => {
  it("utcHour agrees with Date's UTC hour, out of range and for negative times too", () => {
    for (const ms of [
      0,
      1,
      -1,
      -0.5,
      0.5,
      3_599_999,
      3_600_000,
      -3_600_001,
      1.7e12 + 123,
      8.64e15,
      -8.64e15,
      8.64e15 + 1,
    ])
      expect(utcHour(ms), String(ms)).toStrictEqual(new Date(ms).getUTCHours());
    expect(utcHour(Number.NaN)).toBeNaN();
  });

  it("SPLIT_INDEX gives the part split() gives, for separators that repeat, overlap or are empty", () => {
    const texts = ["", "/", "a/b/c", "//x//", "https://www.nexmark.com/foo/bar/item.htm?query=1", "aaa", "abc"];
    for (const text of texts)
      for (const sep of ["/", "//", "aa", "", "zz"])
        for (const i of [0, 1, 2, 3, 4, 5, -1, 1.5])
          expect(splitIndex(text, sep, i), `${text} ${sep} ${i}`).toBe(text.split(sep)[i] ?? null);
  });

  it("DATE_FORMAT gives the same text for a pattern used again", () => {
    const t = Date.UTC(2015, 6, 5, 8, 4, 9, 7);
    expect(formatTimestamp(t, "yyyy-MM-dd HH:mm")).toBe("2015-07-05 08:04");
    expect(formatTimestamp(t + 60_000, "yyyy-MM-dd HH:mm")).toBe("2015-07-05 08:05");
    expect(formatTimestamp(t, "'it''s' H")).toBe("its 8");
  });

  it("DATE_FORMAT's text of the last span a pattern saw changes at the span's edge, in any order of times", () => {
    const day = 86_400_000;
    const base = Date.UTC(2015, 6, 5);
    // Times on both sides of day, hour, minute, second and ms edges, in order and shuffled.
    const edges = [day, 3_600_000, 60_000, 1000, 1].flatMap((u) => [base + u - 1, base + u, base + 5 * u - 1]);
    const times = [...edges, ...edges.slice().reverse(), base - 1, base - day - 1, base, base];
    for (const ms of times) {
      const iso = new Date(ms).toISOString();
      expect(formatTimestamp(ms, "yyyy-MM-dd"), `${ms}`).toBe(iso.slice(0, 10));
      expect(formatTimestamp(ms, "HH:mm"), `${ms}`).toBe(iso.slice(11, 16));
      expect(formatTimestamp(ms, "yyyy-MM-dd HH:mm:ss.SSS"), `${ms}`).toBe(iso.slice(0, 23).replace("T", " "));
    }
  });
});
