/**
 * The chaos oracle on hand-made outputs: it accepts exactly-once output and the
 * re-processing a restore implies, and names every loss and duplicate.
 */

import { describe, expect, it } from "vitest";
import type { ChaosRow } from "./dataset.ts";
import { checkEras, checkFinal, type EraInput, type OracleInput, type SavepointSeen } from "./oracle.ts";

const expected = new Map([
  ["a", [1, 3, 5]],
  ["x7", [7]],
]);
const rows = (key: string, from: number, to: number): ChaosRow[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ key, n: from + i, id: expected.get(key)?.[from + i - 1] ?? -1 }));
const fin = (key: string, n: number): ChaosRow => ({ key, fin: n, id: 100 });
const first = (r: ChaosRow[]): EraInput => ({ label: "era 0", start: { kind: "initial" }, rows: r });
const restored = (r: ChaosRow[], savepoint = "sp"): EraInput => ({
  label: "era 1",
  start: { kind: "restore", savepoint },
  rows: r,
});

function verdict(eras: EraInput[], savepoints = new Map<string, SavepointSeen>(), pending = new Set<number>()) {
  const input: OracleInput = { expected, eras, savepoints, finEnds: true };
  const v = checkEras(input);
  return [...v.violations, ...checkFinal(input, v, pending).violations];
}

describe("chaos oracle", () => {
  it("accepts exactly-once output", () => {
    expect(verdict([first([...rows("a", 1, 3), fin("a", 3), ...rows("x7", 1, 1), fin("x7", 1)])])).toEqual([]);
  });

  it("names a duplicate, a loss and a wrong id within an era", () => {
    expect(verdict([first([...rows("a", 1, 2), ...rows("a", 2, 3), fin("a", 3)])]).join()).toMatch(/duplicate/);
    expect(verdict([first([...rows("a", 1, 1), ...rows("a", 3, 3), fin("a", 3)])]).join()).toMatch(/loss/);
    expect(verdict([first([{ key: "a", n: 1, id: 3 }])]).join()).toMatch(/has id 3, expected 1/);
  });

  it("accepts a restore that re-processes from its savepoint, and nothing earlier or later", () => {
    const sp = new Map([["sp", { era: 0, atRequest: new Map([["a", 1]]) }]]);
    const before = [...rows("a", 1, 2), ...rows("x7", 1, 1)];
    const resumedFrom = (from: number) => [...rows("a", from, 3), fin("a", 3), fin("x7", 1)];
    expect(verdict([first(before), restored(resumedFrom(2))], sp)).toEqual([]);
    expect(verdict([first(before), restored(resumedFrom(3))], sp)).toEqual([]);
    expect(verdict([first(before), restored(resumedFrom(1))], sp).join()).toMatch(/must start in \[1, 2\]: duplicates/);
    const skipped = verdict([first(rows("a", 1, 1)), restored(resumedFrom(3))], sp).join();
    expect(skipped).toMatch(/must start in \[1, 1\]: committed output lost/);
  });

  it("takes a key's final count from the era its restore inherited it from", () => {
    const sp = new Map([["sp", { era: 0, atRequest: new Map([["a", 3]]) }]]);
    const done = [...rows("a", 1, 3), fin("a", 3), ...rows("x7", 1, 1), fin("x7", 1)];
    expect(verdict([first(done), restored([])], sp)).toEqual([]);
  });

  it("lets a poison key stay at 0 only while its record is a pending dead letter", () => {
    const out = [...rows("a", 1, 3), fin("a", 3), fin("x7", 0)];
    expect(verdict([first(out)], new Map(), new Set([7]))).toEqual([]);
    expect(verdict([first(out)]).join()).toMatch(/key x7 ends at fin 0, expected 1 .*lost/);
  });

  it("refuses a second fin and rows after a fin where the fin ends the key's input", () => {
    const out = [...rows("a", 1, 3), fin("a", 3), fin("a", 3), ...rows("x7", 1, 1), fin("x7", 1)];
    expect(verdict([first(out)]).join()).toMatch(/fin repeated 2 times: duplicate/);
  });

  it("accepts a poison record replayed once after its key's end, and names a second replay", () => {
    const out = [...rows("a", 1, 3), fin("a", 3), fin("x7", 0), ...rows("x7", 1, 1)];
    expect(verdict([first(out)])).toEqual([]);
    expect(verdict([first([...out, ...rows("x7", 1, 1)])]).join()).toMatch(/n 1 follows 1: duplicate/);
    expect(verdict([first([...rows("a", 1, 3), fin("a", 3), ...rows("a", 3, 3)])]).join()).toMatch(/after its fin/);
  });
});
