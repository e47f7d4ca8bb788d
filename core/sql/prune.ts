/**
 * What the projection pushdown rules share (join-prune.ts, rank-prune.ts, window-prune.ts): the
 * columns a calc reads, a relation projected to some of its columns, and a calc re-read over a
 * node whose input lost columns.
 */
import { type BoundExpr, inputsOf, rewriteInputs } from "./expr.ts";
import type { Field, Rel } from "./logical.ts";

type Calc = Extract<Rel, { kind: "calc" }>;

/** Old column → new position, for the kept columns `keep` (ascending). */
export const positions = (keep: readonly number[]) => new Map(keep.map((old, i) => [old, i]));

/** `e` over a relation of `fields`, reading the same columns at their new positions `at`. */
export function reindex(e: BoundExpr, at: ReadonlyMap<number, number>, fields: readonly Field[]): BoundExpr {
  return rewriteInputs(e, (i) => ({ kind: "input", index: at.get(i) as number, type: (fields[i] as Field).type }));
}

/**
 * `rel` projected to its columns `columns` (`rel` itself when that is all of them); `synthetic`:
 * the new calc is one the plan did not have (see the calc's `synthetic`).
 */
export function projected(rel: Rel, columns: readonly number[], synthetic = false): Rel {
  if (columns.length === rel.fields.length) return rel;
  const projects: BoundExpr[] = columns.map((index) => ({
    kind: "input",
    index,
    type: (rel.fields[index] as Field).type,
  }));
  const fields = columns.map((i) => rel.fields[i] as Field);
  return { kind: "calc", input: rel, projects, fields, ...(synthetic ? { synthetic } : {}) };
}

/** The columns under `n` that `c` reads, and `also`, ascending. */
export function columnsRead(c: Calc, n: number, also: Iterable<number>): number[] {
  const used = new Set<number>();
  for (const i of also) if (i < n) used.add(i);
  for (const p of c.projects) for (const i of inputsOf(p)) if (i < n) used.add(i);
  if (c.filter) for (const i of inputsOf(c.filter)) if (i < n) used.add(i);
  return [...used].sort((a, b) => a - b);
}

/**
 * `c` over `input`, a node that was `c.input` (its first `n` columns those of its own input,
 * then columns of its own) now over its input's columns `keep` only: the same columns read at
 * their new positions, the node's own columns after the kept ones.
 */
export function overPruned(c: Calc, input: Rel, keep: readonly number[], n: number): Calc {
  const fields = c.input.fields;
  const at = new Map(positions(keep));
  for (let i = n; i < fields.length; i++) at.set(i, keep.length + (i - n));
  const { filter, ...rest } = c;
  return {
    ...rest,
    input,
    projects: c.projects.map((p) => reindex(p, at, fields)),
    ...(filter ? { filter: reindex(filter, at, fields) } : {}),
  };
}
