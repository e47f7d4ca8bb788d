/**
 * Projection pushdown into a join (Flink's ProjectJoinTransposeRule): under a calc over a join,
 * each side keeps only the columns that the calc, the join keys or the join's condition read, so
 * that the join stores, compares and concatenates narrower rows (q3 keeps 2 of an auction's 10
 * columns). A temporal join is left alone (its rowtime columns are positions in its sides).
 */
import { inputsOf } from "./expr.ts";
import type { Field, Rel } from "./logical.ts";
import { positions, projected, reindex } from "./prune.ts";

type Calc = Extract<Rel, { kind: "calc" }>;
type Join = Extract<Rel, { kind: "join" }>;

/**
 * `c` over a join whose sides are projected to the columns read above them; `c` itself when
 * every column is read. `optimize` optimizes the new calcs below the join (they merge with
 * the calcs already there).
 */
export function pruneJoin(c: Calc, optimize: (rel: Rel) => Rel): Calc {
  const j = c.input;
  if (j.kind !== "join" || j.temporal) return c;
  const n = j.left.fields.length;
  const used = new Set<number>();
  for (const p of c.projects) inputsOf(p, used);
  if (c.filter) inputsOf(c.filter, used);
  if (j.condition) inputsOf(j.condition, used);
  for (const k of j.leftKeys) inputsOf(k, used);
  for (const k of j.rightKeys) for (const i of inputsOf(k)) used.add(i + n);
  if (used.size === j.fields.length) return c;
  const keep = [...used].sort((a, b) => a - b);
  const leftKeep = keep.filter((i) => i < n);
  const rightKeep = keep.filter((i) => i >= n).map((i) => i - n);
  const at = positions(keep);
  const leftAt = positions(leftKeep);
  const rightAt = positions(rightKeep);
  // Under a calc new to the plan (rank-prune.ts), a side's new calc is new too: uids outside the sequence.
  const side = (rel: Rel, keepCols: readonly number[]) => optimize(projected(rel, keepCols, c.synthetic === true));
  const join: Join = {
    ...j,
    left: side(j.left, leftKeep),
    right: side(j.right, rightKeep),
    leftKeys: j.leftKeys.map((k) => reindex(k, leftAt, j.left.fields)),
    rightKeys: j.rightKeys.map((k) => reindex(k, rightAt, j.right.fields)),
    fields: keep.map((i) => j.fields[i] as Field),
    ...(j.condition ? { condition: reindex(j.condition, at, j.fields) } : {}),
  };
  const { filter, ...rest } = c;
  return {
    ...rest,
    input: join,
    projects: c.projects.map((p) => reindex(p, at, j.fields)),
    ...(filter ? { filter: reindex(filter, at, j.fields) } : {}),
  };
}
