/**
 * Projection pushdown through a rank (Flink's CalcRankTransposeRule): under a calc over a TopN or
 * deduplication, the rank's input keeps only the columns that the calc, the partition keys, the
 * sort keys and a window TopN's `window_end` read, so that the rank (and a join below it, whose
 * sides the new calc prunes in turn, join-prune.ts) stores narrower rows: q9 drops a bid's
 * `channel` and `url` before the join.
 *
 * The rows a narrowed rank or join stores change shape, so the plan marks them `narrowed`, which
 * their operator uids carry: a savepoint taken before this rule (the wide rows) names a uid the
 * plan lacks and is refused instead of misread.
 */
import type { Field, Rel } from "./logical.ts";
import { columnsRead, overPruned, positions, projected } from "./prune.ts";

type Calc = Extract<Rel, { kind: "calc" }>;
type Rank = Extract<Rel, { kind: "rank" }>;

/**
 * `c` over a rank whose input is projected to the columns read above and by the rank; `c`
 * itself when the rank needs every column. `optimize` optimizes the new calc below the rank.
 */
export function pruneRank(c: Calc, optimize: (rel: Rel) => Rel): Calc {
  const r = c.input;
  if (r.kind !== "rank") return c;
  const n = r.input.fields.length;
  const keys = [...r.partitionKeys, ...r.orderBy.map((o) => o.column)];
  const keep = columnsRead(c, n, r.windowEnd === undefined ? keys : [...keys, r.windowEnd]);
  if (keep.length === n) return c;
  const at = positions(keep);
  const to = (i: number) => at.get(i) as number;
  const input = narrowJoin(optimize(projected(r.input, keep, true)), joinUnder(r.input)?.fields.length);
  const rank: Rank = {
    ...r,
    input,
    partitionKeys: r.partitionKeys.map(to),
    orderBy: r.orderBy.map((o) => ({ ...o, column: to(o.column) })),
    ...(r.windowEnd !== undefined ? { windowEnd: to(r.windowEnd) } : {}),
    fields: [...keep.map((i) => r.fields[i] as Field), ...r.fields.slice(n)], // the row number after them
    narrowed: true,
  };
  return overPruned(c, rank, keep, n);
}

/** The join that `rel` is, or that its calcs sit on. */
function joinUnder(rel: Rel): Extract<Rel, { kind: "join" }> | undefined {
  if (rel.kind === "join") return rel;
  return rel.kind === "calc" ? joinUnder(rel.input) : undefined;
}

/** `rel` with the join its calcs sit on marked `narrowed` when it has fewer columns than `width` (its rows lost some). */
function narrowJoin(rel: Rel, width: number | undefined): Rel {
  if (rel.kind === "join") return width !== undefined && rel.fields.length < width ? { ...rel, narrowed: true } : rel;
  if (rel.kind === "calc") return { ...rel, input: narrowJoin(rel.input, width) };
  return rel;
}
