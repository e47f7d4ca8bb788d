/**
 * What building a join needs, shared by the joins' translations (join-plan.ts) and the joins
 * that run with the operator above or beside them (join-fused.ts): the context, the state
 * layouts in the operators' uids, and the helpers that keep uids where they were.
 */
import type { DataStream } from "../api/datastream.ts";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import type { KeyedCoProcessFunction } from "../api/functions.ts";
import type { Key } from "../keys.ts";
import { appendJoin, UNIQUE_LAYOUT } from "./append-join.ts";
import type { Row } from "./expr.ts";
import { expiryOf, joinBounds } from "./join-bounds.ts";
import { type JoinCode, joinKey } from "./join-code.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";
import { uniqueOn } from "./unique-keys.ts";

type Join = Extract<Rel, { kind: "join" }>;

/** What building a join needs of the plan's translation context. */
export interface JoinContext {
  readonly env: StreamExecutionEnvironment;
  readonly uid: () => string;
  /** The uids of calcs the optimizer made (see `TranslateContext`). */
  readonly syntheticUid?: () => string;
  /** The streams behind `datastream` tables (see `TranslateContext`). */
  readonly streams?: ReadonlyMap<string, DataStream<Record<string, unknown>>>;
  readonly miniBatch?: boolean;
  /** The streams built for the join's inputs, by plan (sub-plan reuse; see `translate`). */
  readonly reuse?: Map<string, DataStream<unknown>>;
}

/**
 * The version of the joins' state layout, in their operator uids: a savepoint taken with
 * another layout (before version 2: array keys, rows stored by their JSON) names a join uid
 * this plan lacks, so restoring it fails with the uid change named instead of reading state
 * it cannot understand.
 */
export const JOIN_LAYOUT = "j2";
/**
 * The state layout of the regular join (join.ts), in its operator uid: version 3 stores an
 * insert-only side's rows under sequence numbers, which a version-2 reader would misread.
 */
export const REGULAR_LAYOUT = "j3";
/** The state layout of the bucketed interval join (band-join.ts), in its operator uid. */
export const BAND_LAYOUT = "b1";
/** The state layout of the window extreme join (extreme-join.ts), in its operator uid. */
export const EXTREME_LAYOUT = "x1";
/** The state layout of a join with a TopN inside it (ranked-join.ts), after the join's uid. */
export const RANKED_LAYOUT = "r1";
/** The state layout of the group extreme join (group-extreme-join.ts), in its operator uid. */
export const GROUP_EXTREME_LAYOUT = "t1";
/** The state layout of a join with a group aggregate inside it (aggregated-join.ts), after the join's uid. */
export const AGGREGATED_LAYOUT = "m1";
/** The state layout of the window join of distinct window aggregates (window-join.ts), in its operator uid. */
export const WINDOW_JOIN_LAYOUT = "g1";

/**
 * The uid of join `rel` of state layout `layout`: `-n` after it when the optimizer narrowed its
 * rows (rank-prune.ts), so that a savepoint of the wider rows is refused, not misread.
 */
export function joinUid(ctx: { uid(): string }, layout: string, rel: Join): string {
  return `${ctx.uid()}-${layout}${rel.narrowed ? "-n" : ""}`;
}

/** `ctx`, or for the outermost join a copy with its own map of the sides' streams (sub-plan reuse). */
export function withReuse<C extends JoinContext>(outer: C): C {
  return outer.reuse ? outer : { ...outer, reuse: new Map<string, DataStream<unknown>>() };
}

/**
 * Takes the uids that building `rel` takes, building it into a scratch environment where the
 * sub-plans already built for this join stand in as empty streams.
 */
export function drawUids<C extends JoinContext>(
  rel: Rel,
  ctx: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
): void {
  const scratch = new StreamExecutionEnvironment({ ...ctx.env.config });
  const reuse = new Map<string, DataStream<unknown>>();
  for (const key of ctx.reuse?.keys() ?? []) reuse.set(key, scratch.fromElements<unknown>([]));
  const streams = new Map<string, DataStream<Record<string, unknown>>>();
  for (const name of ctx.streams?.keys() ?? []) streams.set(name, scratch.fromElements<Record<string, unknown>>([]));
  input(rel, { ...ctx, env: scratch, reuse, streams });
}

/**
 * `right`, or, when it is `left` itself (a self join whose sides are one reused sub-plan), a
 * copy of it through a map: an operator reads a stream once per input.
 */
export function distinct<T>(right: DataStream<T>, left: unknown, ctx: JoinContext): DataStream<T> {
  return right === left ? right.map((x) => x).uid(ctx.uid()) : right;
}

/** True when `rel` runs as {@link appendJoin}: an inner join, not temporal, of two insert-only inputs. */
export function isAppendJoin(rel: Join): boolean {
  return !rel.outer && !rel.temporal && !isUpdating(changelogMode(rel.left)) && !isUpdating(changelogMode(rel.right));
}

/** An operator run inside a per-key join (ranked-join.ts): how it wraps the join's function, its layout, and the uids its own operators would have taken. */
export interface Inside {
  readonly wrap: (
    join: KeyedCoProcessFunction<Row, Row, Key, never, Row>,
  ) => KeyedCoProcessFunction<Row, Row, Key, never, unknown>;
  readonly layout: string;
  readonly uids: () => void;
}

/**
 * Builds inner join `rel` of insert-only inputs as the per-key append join running `code`
 * (append-join.ts; an interval join when its condition bounds a side's event time), with
 * `inside`, if given, run in its operator: its uid then ends in the operator's layout too.
 */
export function perKeyJoin<C extends JoinContext, T>(
  rel: Join,
  code: JoinCode<T>,
  ctx: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
  inside?: Inside,
): DataStream<unknown> {
  const bounds = joinBounds(rel);
  const left = input(rel.left, ctx) as DataStream<Row>;
  const right = distinct(input(rel.right, ctx), left, ctx) as DataStream<Row>;
  const unique = { left: uniqueOn(rel.left, rel.leftKeys), right: uniqueOn(rel.right, rel.rightKeys) };
  const fn = appendJoin(code, { left: expiryOf(bounds.left), right: expiryOf(bounds.right) }, unique);
  const joined = joinUid(ctx, JOIN_LAYOUT, rel);
  const uid = unique.left || unique.right ? `${joined}-${UNIQUE_LAYOUT}` : joined;
  inside?.uids();
  return left
    .connect(right)
    .keyBy(joinKey(rel.leftKeys), joinKey(rel.rightKeys))
    .process((inside ? inside.wrap(fn as never) : fn) as typeof fn)
    .uid(inside ? `${uid}-${inside.layout}` : uid) as DataStream<unknown>;
}
