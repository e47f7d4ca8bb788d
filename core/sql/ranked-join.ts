/**
 * A TopN partitioned by a join's key, over that join (an inner join of insert-only inputs kept
 * per key: append-join.ts; a plain calc between them runs in the join too), runs inside the join's operator: Nexmark q9's "each auction's
 * highest bid", a TopN per auction id over the auction–bid join on the auction id. The joined
 * rows of a key are the rows of the TopN's partition, so the TopN's state lives beside the
 * join's under the same key, and the joined rows go straight into it: no shuffle of every
 * joined row to a second keyed operator, only the TopN's changes out. Flink's planner keeps
 * the two apart (a hash exchange on the same key between them); the result is the same. The
 * TopN runs in the join as any keyed function does (inside-join.ts).
 */
import type { BoundExpr } from "./expr.ts";
import { isDeduplicate, type Rel } from "./logical.ts";
import { isPlainCalc } from "./plain-calc.ts";

type Rank = Extract<Rel, { kind: "rank" }>;
type Join = Extract<Rel, { kind: "join" }>;
type Calc = Extract<Rel, { kind: "calc" }>;

/**
 * The join below TopN `rank` (and the plain calc between them, if any) when the TopN partitions
 * by exactly the join's keys of one side (its partition columns are that side's key columns, in
 * key order, through the calc) and is a plain TopN (not a window TopN nor a deduplication).
 */
export function joinBelow(rank: Rank): { join: Join; calc?: Calc } | undefined {
  if (rank.windowEnd !== undefined || isDeduplicate(rank)) return undefined;
  const calc = rank.input.kind === "calc" && isPlainCalc(rank.input) ? rank.input : undefined;
  const j = calc ? calc.input : rank.input;
  if (j.kind !== "join") return undefined;
  const n = j.left.fields.length;
  const joinColumn = (c: number) => {
    const p = calc ? calc.projects[c] : { kind: "input" as const, index: c };
    return p?.kind === "input" ? p.index : -1;
  };
  const partition = rank.partitionKeys.map(joinColumn);
  const columns = (keys: readonly BoundExpr[], offset: number) =>
    keys.map((k) => (k.kind === "input" ? k.index + offset : -2));
  const same = (cols: readonly number[]) =>
    cols.length === partition.length && cols.every((c, i) => c >= 0 && c === partition[i]);
  if (!same(columns(j.leftKeys, 0)) && !same(columns(j.rightKeys, n))) return undefined;
  return calc ? { join: j, calc } : { join: j };
}
