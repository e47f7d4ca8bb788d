/**
 * A group aggregate with one group per join key, over that join (an inner join of insert-only
 * inputs kept per key: append-join.ts; a plain calc between them runs in the join too), runs
 * inside the join's operator (inside-join.ts): Nexmark q4's "each auction's highest bid in its
 * life", `MAX(B.price) … GROUP BY A.id, A.category` over the auction–bid join on the auction id.
 *
 * The join key holds the group when one side (say the auctions) is unique on the join key
 * (unique-keys.ts), the group columns are that side's columns only, and they include its join
 * key columns: every joined row of a join key then has that side's one row, so one group, and
 * a group's rows come from one join key. The aggregate's state lives beside the join's under
 * the join key, and the joined rows go straight into it: no shuffle of every joined row to a
 * second keyed operator, only the aggregate's changes out. Flink's planner keeps the two apart
 * (a hash exchange between them); the result is the same.
 */
import { type BoundExpr, inputsOf } from "./expr.ts";
import { changelogMode, type Field, isUpdating, type Rel } from "./logical.ts";
import { isPlainCalc } from "./plain-calc.ts";
import { uniqueOn } from "./unique-keys.ts";

type Aggregate = Extract<Rel, { kind: "aggregate" }>;
type Join = Extract<Rel, { kind: "join" }>;
type Calc = Extract<Rel, { kind: "calc" }>;

/** The join below group aggregate `agg` (and the plain calc between them, if any) when the aggregate has one group per join key (see the module comment). */
export function joinOfGroups(agg: Aggregate): { join: Join; calc?: Calc } | undefined {
  if (agg.window || agg.session || agg.groupKeys === 0 || isUpdating(changelogMode(agg.input))) return undefined;
  const calc = agg.input.kind === "calc" && isPlainCalc(agg.input) ? agg.input : undefined;
  const j = calc ? calc.input : agg.input;
  if (j.kind !== "join" || j.outer || j.temporal) return undefined;
  const n = j.left.fields.length;
  const groups = Array.from({ length: agg.groupKeys }, (_, i): BoundExpr | undefined =>
    calc ? calc.projects[i] : { kind: "input", index: i, type: (j.fields[i] as Field).type },
  );
  const read = groups.map((g) => (g ? [...inputsOf(g)] : [-1]));
  const plain = new Set(groups.flatMap((g) => (g?.kind === "input" ? [g.index] : [])));
  const holds = (keys: readonly BoundExpr[], offset: number, from: (c: number) => boolean) =>
    read.every((cols) => cols.every(from)) && keys.every((k) => k.kind === "input" && plain.has(k.index + offset));
  const byLeft = uniqueOn(j.left, j.leftKeys) && holds(j.leftKeys, 0, (c) => c >= 0 && c < n);
  const byRight = !byLeft && uniqueOn(j.right, j.rightKeys) && holds(j.rightKeys, n, (c) => c >= n);
  if (!byLeft && !byRight) return undefined;
  return calc ? { join: j, calc } : { join: j };
}
