/**
 * The joins that run with the operator above or beside them (DESIGN, translate): the window
 * extreme join (extreme-join.ts), the group extreme join (group-extreme-join.ts) and a TopN
 * inside its join (ranked-join.ts). Each is chosen where the plan proves it; the operators it
 * replaces keep their uids drawn, unused, so that every operator after it keeps its uid.
 */
import type { DataStream } from "../api/datastream.ts";
import type { Key } from "../keys.ts";
import { groupAggregate } from "./aggregate.ts";
import { joinOfGroups } from "./aggregated-join.ts";
import { generateRow } from "./codegen.ts";
import type { BoundExpr, Row } from "./expr.ts";
import { type Extreme, extremeOf } from "./extreme-join.ts";
import { type Edge, extremeJoin, extremeKey, withEdges } from "./extreme-join-fn.ts";
import { type GroupExtreme, groupExtremeJoin, groupExtremeOf } from "./group-extreme-join.ts";
import { insideJoin } from "./inside-join.ts";
import { bandOf } from "./join-band.ts";
import { fusedJoinCode, type JoinCode, joinCode, joinKey } from "./join-code.ts";
import {
  AGGREGATED_LAYOUT,
  drawUids,
  EXTREME_LAYOUT,
  GROUP_EXTREME_LAYOUT,
  isAppendJoin,
  type JoinContext,
  joinUid,
  perKeyJoin,
  RANKED_LAYOUT,
  WINDOW_JOIN_LAYOUT,
  withReuse,
} from "./join-context.ts";
import type { Rel } from "./logical.ts";
import { appendTopN, rankOrder } from "./rank.ts";
import { joinBelow } from "./ranked-join.ts";
import { nativeRecords } from "./reuse.ts";
import { nativeWatermarksOf } from "./scan-calc.ts";
import { sideInput, sideRows, type WindowJoin, type WindowSide, windowJoinOf } from "./window-join.ts";
import { windowJoin } from "./window-join-fn.ts";

type Join = Extract<Rel, { kind: "join" }>;

/** `below` when its join runs as the per-key append join (not a band, extreme or window join), else undefined. */
function perKeyOnly<B extends { join: Join }>(below: B | undefined): B | undefined {
  const join = below?.join;
  return join && isAppendJoin(join) && !bandOf(join) && !extremeOf(join) && !windowJoinOf(join) ? below : undefined;
}

/** The join (and calc) TopN `rank` runs inside (ranked-join.ts): a per-key append join partitioned as the TopN. */
const rankingJoin = (rank: Extract<Rel, { kind: "rank" }>) => perKeyOnly(joinBelow(rank));

/** The join (and calc) group aggregate `agg` runs inside (aggregated-join.ts): a per-key append join with one group per key. */
const groupingJoin = (agg: Extract<Rel, { kind: "aggregate" }>) => perKeyOnly(joinOfGroups(agg));

/** True when TopN `rank` runs inside the join below it (ranked-join.ts). */
export const ranksInJoin = (rank: Extract<Rel, { kind: "rank" }>): boolean => rankingJoin(rank) !== undefined;

/** True when group aggregate `agg` runs inside the join below it (aggregated-join.ts). */
export const aggregatesInJoin = (agg: Extract<Rel, { kind: "aggregate" }>): boolean => groupingJoin(agg) !== undefined;

/** The uids an operator run inside a join takes, as its own operators would: the calc's (`calc`), then its own (`own`). */
interface InsideUids {
  readonly calc: () => string;
  readonly own: () => void;
}

/**
 * Builds keyed function `inner` inside the per-key join of `below` (its calc fused into the
 * join), its state layout `layout` after the join's uid (inside-join.ts).
 */
function insideBelow<C extends JoinContext>(
  below: { join: Join; calc?: Extract<Rel, { kind: "calc" }> },
  inner: unknown,
  layout: string,
  outer: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
  uids: InsideUids,
): DataStream<unknown> {
  const { join: rel, calc } = below;
  const code = calc
    ? fusedJoinCode(rel.condition, rel.left.fields.length, {
        filter: calc.filter,
        projects: calc.projects,
        make: generateRow,
      })
    : joinCode(rel.condition, rel.left.fields, rel.right.fields);
  return perKeyJoin(rel, code, withReuse(outer), input, {
    wrap: (join) => insideJoin(join, inner as never) as never,
    layout,
    uids: () => {
      if (calc?.filter) uids.calc();
      if (calc) uids.calc();
      uids.own();
    },
  });
}

/**
 * Builds TopN `rank` over insert-only rows, and the join below it (and a plain calc between
 * them), as one operator (ranked-join.ts) when {@link ranksInJoin}; `uids.calc` takes the calc's
 * uids and `uids.own` the TopN's, as their own operators would, so that the operators after
 * them keep theirs. Undefined otherwise.
 */
export function translateRankedJoin<C extends JoinContext>(
  rank: Extract<Rel, { kind: "rank" }>,
  outer: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
  uids: InsideUids,
): DataStream<unknown> | undefined {
  const below = rankingJoin(rank);
  if (!below) return undefined;
  const topN = appendTopN(rank.limit, rankOrder(rank.orderBy), rank.rowNumber, outer.miniBatch ?? true);
  return insideBelow(below, topN, RANKED_LAYOUT, outer, input, uids);
}

/**
 * Builds group aggregate `agg` over insert-only rows, and the join below it (and a plain calc
 * between them), as one operator (aggregated-join.ts) when {@link aggregatesInJoin}; `uids` as
 * for {@link translateRankedJoin}. Undefined otherwise.
 */
export function translateAggregatedJoin<C extends JoinContext>(
  agg: Extract<Rel, { kind: "aggregate" }>,
  outer: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
  uids: InsideUids,
): DataStream<unknown> | undefined {
  const below = groupingJoin(agg);
  if (!below) return undefined;
  const aggregate = groupAggregate(agg.groupKeys, agg.aggs, false, outer.miniBatch ?? true);
  return insideBelow(below, aggregate, AGGREGATED_LAYOUT, outer, input, uids);
}

/**
 * Builds join `rel` as the window extreme join (extreme-join.ts): its left side alone, keyed by
 * window. The operators its right side (the window aggregate) and the interval join's copies
 * would have had keep their uids, unused, so that the operators after the join keep theirs.
 */
export function translateExtremeJoin<C extends JoinContext, T>(
  rel: Join,
  extreme: Extreme,
  code: JoinCode<T>,
  ctx: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
): DataStream<unknown> {
  const left = input(rel.left, ctx) as DataStream<Row>;
  drawUids(rel.right, ctx, input);
  const edgesUid = ctx.uid(); // the uid of the interval join's copies
  const edged = extreme.edge ? left.flatMap(withEdges(extreme)).uid(edgesUid) : left;
  return (edged as DataStream<Row | Edge>)
    .keyBy(extremeKey(extreme))
    .process(extremeJoin(extreme, code))
    .uid(joinUid(ctx, EXTREME_LAYOUT, rel)) as DataStream<unknown>;
}

/**
 * Builds join `rel` as the group extreme join (group-extreme-join.ts): its left side alone, keyed
 * by the join key. The uids of the regular join's wrapper of the left rows and of its right side
 * (the group aggregate) are taken, unused, so that the operators after the join keep theirs.
 */
export function translateGroupExtreme<C extends JoinContext>(
  rel: Join,
  top: GroupExtreme,
  ctx: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
): DataStream<unknown> {
  const left = input(rel.left, ctx) as DataStream<Row>;
  ctx.uid(); // the map of the left rows into changes
  drawUids(rel.right, ctx, input);
  return left
    .keyBy(joinKey(top.keys))
    .process(groupExtremeJoin(top, joinCode(rel.condition, rel.left.fields, rel.right.fields)))
    .uid(joinUid(ctx, GROUP_EXTREME_LAYOUT, rel)) as DataStream<unknown>;
}

/**
 * Builds join `rel` as the window join of distinct window aggregates (window-join.ts): each
 * side's input (below its view's calc, or its table function) made into the side's rows, and
 * one operator keyed by the join key. Each side's rows take the first uid of the operators they
 * replace (the calc below the table function, the fused window aggregate's rows, the aggregate,
 * the calc above it), the others and the band join's copies keep theirs, unused, so that the
 * operators after the join keep theirs.
 */
export function translateWindowJoin<C extends JoinContext, T>(
  rel: Join,
  wj: WindowJoin,
  code: JoinCode<T>,
  ctx: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
): DataStream<unknown> {
  const side = (s: WindowSide, plan: Rel) => {
    // Watermarks over a native scan: the side's rows are made from the connector's records.
    const native = nativeWatermarksOf(sideInput(s), ctx.streams);
    const rows = native ? nativeRecords(native, ctx).stream : (input(sideInput(s), ctx) as DataStream<Row>);
    const drawn: string[] = [];
    drawUids(plan, { ...ctx, uid: () => drawn[drawn.push(ctx.uid()) - 1] as string }, input);
    return rows.process(sideRows(s, native)).uid(drawn[0] as string);
  };
  const left = side(wj.left, rel.left);
  const right = side(wj.right, rel.right);
  if (bandOf(rel)) ctx.uid(); // the band join's copies
  const { keys, windowAt, toEnd } = wj;
  const endOf =
    keys.length === 1 ? (k: Key) => (k as number) + toEnd : (k: Key) => ((k as Key[])[windowAt] as number) + toEnd;
  const keyOf = (exprs: readonly BoundExpr[]) => joinKey(keys.map((i) => exprs[i] as BoundExpr));
  return left
    .connect(right)
    .keyBy(keyOf(rel.leftKeys), keyOf(rel.rightKeys))
    .process(windowJoin(code, endOf))
    .uid(joinUid(ctx, WINDOW_JOIN_LAYOUT, rel)) as DataStream<unknown>;
}

/** The inputs of join `rel` that its operators read, as EXPLAIN shows them: an extreme join computes its right side itself, a window join both sides' aggregates. */
export function joinInputs(rel: Join): readonly Rel[] {
  const wj = windowJoinOf(rel);
  if (wj) return [wj.left.pre, wj.right.pre];
  return extremeOf(rel) !== undefined || groupExtremeOf(rel) !== undefined ? [rel.left] : [rel.left, rel.right];
}
