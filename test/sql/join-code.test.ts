/**
 * The generated code of a join (core/sql/join-code.ts): the residual condition and a fused
 * calc's filter read the two sides' rows in place, three-valued (a pair joins only when both are
 * TRUE), and the output is built from both rows; checked against the closure compiler over the
 * concatenated row.
 */
import { describe, expect, it } from "vitest";
import { call } from "../../core/sql/bind-expr.ts";
import { generateObject } from "../../core/sql/codegen.ts";
import { type BoundExpr, compile, type Row } from "../../core/sql/expr.ts";
import { fusedJoinCode, joinCode, joinKey } from "../../core/sql/join-code.ts";
import type { Field } from "../../core/sql/logical.ts";
import { BIGINT, type SqlType, VARCHAR } from "../../core/sql/types.ts";

const pos = { line: 1, column: 1 };
const col = (index: number, type: SqlType): BoundExpr => ({ kind: "input", index, type });
const lit = (value: unknown, type: SqlType): BoundExpr => ({ kind: "literal", value, type });
const fn = (name: string, ...args: BoundExpr[]) => call(name, args, pos);
const field = (name: string, type: SqlType) => ({ name, type }) as unknown as Field;

// Left [id, name], right [ref, price]: joined row [id, name, ref, price].
const left = [field("id", BIGINT), field("name", VARCHAR)];
const right = [field("ref", BIGINT), field("price", BIGINT)];
const condition = fn("<", col(0, BIGINT), col(3, BIGINT)); // id < price
const filter = fn(">", col(3, BIGINT), lit(10, BIGINT)); // price > 10
const lefts: Row[] = [
  [1, "a"],
  [null, "b"],
  [20, null],
];
const rights: Row[] = [
  [1, 5],
  [2, 30],
  [3, null],
  [4, 11],
];

describe("join code", () => {
  it("joins and outputs what the closure compiler gives over the concatenated row", () => {
    const code = joinCode(condition, left, right);
    const residual = compile(condition);
    for (const l of lefts)
      for (const r of rights) {
        const joined = [...l, ...r];
        expect(code.residual?.(l, r), JSON.stringify(joined)).toBe(residual(joined));
        expect(code.concat(l, r)).toEqual(joined);
      }
  });

  it("runs a fused calc: its filter after the residual, both TRUE to join, its projection over both rows", () => {
    const projects = [col(1, VARCHAR), fn("+", col(0, BIGINT), col(3, BIGINT))];
    const code = fusedJoinCode(condition, left.length, {
      filter,
      projects,
      make: (exprs, columns) => generateObject(["name", "total"], exprs, columns),
    });
    const [residual, test] = [compile(condition), compile(filter)];
    let joins = 0;
    let nulls = 0;
    for (const l of lefts)
      for (const r of rights) {
        const joined = [...l, ...r];
        const expected = residual(joined) === true && test(joined) === true;
        if (residual(joined) === null || test(joined) === null) nulls++;
        expect(code.residual?.(l, r) === true, JSON.stringify(joined)).toBe(expected);
        if (expected) joins++;
        const [name, total] = projects.map((p) => compile(p)(joined));
        expect(code.concat(l, r)).toEqual({ name, total });
      }
    expect(joins).toBe(3); // [1, "a"] with [2, 30] and [4, 11]; [20, null] with [2, 30]
    expect(nulls).toBeGreaterThan(0);
  });

  it("runs a fused filter alone when the join has no residual condition", () => {
    const code = fusedJoinCode(undefined, left.length, {
      filter,
      projects: [col(2, BIGINT)],
      make: (exprs, columns) => generateObject(["ref"], exprs, columns),
    });
    expect(rights.filter((r) => code.residual?.([1, "a"], r) === true)).toEqual([
      [2, 30],
      [4, 11],
    ]);
  });

  it("keys a row by one column's value, or by an array of several", () => {
    expect(joinKey([col(1, VARCHAR)])([7, "x"])).toBe("x");
    expect(joinKey([col(1, VARCHAR), col(0, BIGINT)])([7, "x"])).toEqual(["x", 7]);
  });
});
