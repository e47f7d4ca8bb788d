/**
 * A TopN partitioned by a join's key, over that join (an inner join of insert-only inputs kept
 * per key: append-join.ts; a plain calc between them runs in the join too), runs inside the join's operator: Nexmark q9's "each auction's
 * highest bid", a TopN per auction id over the auction–bid join on the auction id. The joined
 * rows of a key are the rows of the TopN's partition, so the TopN's state lives beside the
 * join's under the same key, and the joined rows go straight into it: no shuffle of every
 * joined row to a second keyed operator, only the TopN's changes out. Flink's planner keeps
 * the two apart (a hash exchange on the same key between them); the result is the same.
 */
import type { KeyedContext, KeyedCoProcessFunction, KeyedProcessFunction } from "../api/functions.ts";
import type { StateSpec } from "../api/state.ts";
import { InternalError } from "../errors.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import type { BoundExpr, Row } from "./expr.ts";
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

/**
 * The join function `join` with TopN `rank` inside it: per key, the rows the join emits for an
 * input bundle go through the TopN at once, and the TopN's changes are the output.
 */
export function rankedJoin<J extends StateSpec, R extends StateSpec>(
  join: KeyedCoProcessFunction<Row, Row, Key, J, Row>,
  rank: KeyedProcessFunction<Row, Key, R, Change>,
): KeyedCoProcessFunction<Row, Row, Key, J & R, Change> {
  const shared = Object.keys(join.state ?? {}).filter((name) => name in (rank.state ?? {}));
  if (shared.length > 0) throw new InternalError(`a join and a TopN in one operator share state ${shared.join(", ")}`);
  const ranked = (rows: Row[], ctx: KeyedContext<Key, J & R, Change>) => {
    if (rows.length === 0) return;
    if (rank.processBundle) rank.processBundle(rows, ctx as unknown as KeyedContext<Key, R, Change>);
    else for (const row of rows) rank.processElement(row, ctx as unknown as KeyedContext<Key, R, Change>);
  };
  // The join's context: the operator's, its output collected instead of emitted (made once per context).
  let joined: Row[] = [];
  let outer: object | undefined;
  let into: KeyedContext<Key, J, Row> | undefined;
  const collecting = (ctx: KeyedContext<Key, J & R, Change>): KeyedContext<Key, J, Row> => {
    if (ctx !== outer || !into) {
      outer = ctx;
      into = Object.create(ctx) as KeyedContext<Key, J, Row>;
      (into as { emit: (row: Row) => void }).emit = (row) => void joined.push(row);
    }
    return into;
  };
  const through = (side: (rows: readonly Row[], ctx: KeyedContext<Key, J, Row>) => void) => {
    return (rows: readonly Row[], ctx: KeyedContext<Key, J & R, Change>) => {
      joined = [];
      side(rows, collecting(ctx));
      ranked(joined, ctx);
    };
  };
  const bundle = (own: "processBundle1" | "processBundle2", one: "processElement1" | "processElement2") => {
    const f = join[own];
    return f
      ? f.bind(join)
      : (rows: readonly Row[], ctx: KeyedContext<Key, J, Row>) => {
          for (const row of rows) join[one](row, ctx);
        };
  };
  const first = through(bundle("processBundle1", "processElement1"));
  const second = through(bundle("processBundle2", "processElement2"));
  return {
    state: { ...join.state, ...rank.state } as J & R,
    processElement1: (row, ctx) => first([row], ctx),
    processElement2: (row, ctx) => second([row], ctx),
    processBundle1: first,
    processBundle2: second,
    ...(join.onTimer
      ? { onTimer: (at, ctx) => join.onTimer?.(at, ctx as unknown as Parameters<NonNullable<typeof join.onTimer>>[1]) }
      : {}),
  };
}
