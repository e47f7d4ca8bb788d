/**
 * How a join node runs: an inner join of insert-only inputs as the append join (rows in and out;
 * an interval join when its condition bounds a side's event time, join-bounds.ts), an event-time
 * temporal join (temporal-join.ts), and any other (outer, or over an updating input) as the
 * regular join of changes (join.ts). Also its EXPLAIN line.
 */
import type { DataStream } from "../api/datastream.ts";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import type { KeyedProcessFunction } from "../api/functions.ts";
import type { StateSpec } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import { appendJoin } from "./append-join.ts";
import { bandJoin, bandKeys, copiesOf, encodedJoinKey } from "./band-join.ts";
import { generate, generateRow } from "./codegen.ts";
import { type BoundExpr, type Row, showExpr } from "./expr.ts";
import { describeExtreme, type Extreme, extremeOf } from "./extreme-join.ts";
import { type Edge, extremeJoin, extremeKey, withEdges } from "./extreme-join-fn.ts";
import { type GroupExtreme, groupExtremeJoin, groupExtremeOf } from "./group-extreme-join.ts";
import { regularJoin } from "./join.ts";
import { type Band, bandOf, describeBand } from "./join-band.ts";
import { expiryOf, joinBounds } from "./join-bounds.ts";
import { type FusedCalc, fusedJoinCode, type JoinCode, joinCode, joinKey } from "./join-code.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";
import { joinBelow, rankedJoin } from "./ranked-join.ts";
import { temporalJoin } from "./temporal-join.ts";

type Join = Extract<Rel, { kind: "join" }>;

/** What building a join needs of the plan's translation context. */
export interface JoinContext {
  readonly env: StreamExecutionEnvironment;
  readonly uid: () => string;
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

/**
 * The uid of join `rel` of state layout `layout`: `-n` after it when the optimizer narrowed its
 * rows (rank-prune.ts), so that a savepoint of the wider rows is refused, not misread.
 */
function joinUid(ctx: { uid(): string }, layout: string, rel: Join): string {
  return `${ctx.uid()}-${layout}${rel.narrowed ? "-n" : ""}`;
}

/** Builds join `rel`; `input` builds its sides (sharing `ctx.reuse`, made here for the outermost join). */
export function translateJoin<C extends JoinContext>(
  rel: Join,
  outer: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
): DataStream<unknown> {
  const ctx = withReuse(outer);
  const uid = () => joinUid(ctx, JOIN_LAYOUT, rel);
  if (isAppendJoin(rel))
    return translateAppendJoin(rel, joinCode(rel.condition, rel.left.fields, rel.right.fields), ctx, input);
  const top = groupExtremeOf(rel);
  if (top) return translateGroupExtreme(rel, top, ctx, input);
  const residual = rel.condition ? generate(rel.condition) : undefined;
  const asChanges = (r: Rel, at: C = ctx): DataStream<Change> => {
    const s = input(r, at);
    return isUpdating(changelogMode(r))
      ? (s as DataStream<Change>)
      : (s as DataStream<Row>).map((row): Change => ({ kind: "+I", row })).uid(ctx.uid());
  };
  const keyOf = (exprs: readonly BoundExpr[]) => {
    const key = joinKey(exprs);
    return (c: Change) => key(c.row);
  };
  // A temporal join's versioned side must keep every version: no mini-batch below it folds two into one.
  const left = asChanges(rel.left);
  const right = distinct(asChanges(rel.right, rel.temporal ? { ...ctx, miniBatch: false } : ctx), left, ctx);
  const keyed = left.connect(right).keyBy(keyOf(rel.leftKeys), keyOf(rel.rightKeys));
  const rightWidth = rel.right.fields.length;
  const joined = (
    rel.temporal
      ? keyed.process(temporalJoin(residual, rel.temporal, rel.outer === "LEFT", rightWidth))
      : keyed.process(
          regularJoin(joinCode(rel.condition, rel.left.fields, rel.right.fields), {
            leftOuter: rel.outer === "LEFT" || rel.outer === "FULL",
            rightOuter: rel.outer === "RIGHT" || rel.outer === "FULL",
            leftWidth: rel.left.fields.length,
            rightWidth,
            leftInsertOnly: !isUpdating(changelogMode(rel.left)),
            rightInsertOnly: !isUpdating(changelogMode(rel.right)),
          }),
        )
  ).uid(rel.temporal ? uid() : joinUid(ctx, REGULAR_LAYOUT, rel));
  if (isUpdating(changelogMode(rel))) return joined as DataStream<unknown>;
  return joined.map((c) => c.row).uid(ctx.uid()) as DataStream<unknown>;
}

/** `ctx`, or for the outermost join a copy with its own map of the sides' streams (sub-plan reuse). */
function withReuse<C extends JoinContext>(outer: C): C {
  return outer.reuse ? outer : { ...outer, reuse: new Map<string, DataStream<unknown>>() };
}

/**
 * Builds plain calc `calc` (insert-only, reading no clock, calling no remote function: the caller
 * checks) over an inner join of insert-only inputs as that join, the calc fused into it
 * (join-code.ts), its records made by `make`; undefined when `calc` is over anything else. The
 * calc's operators' uids are taken all the same, so that the operators above keep theirs.
 */
export function fusedJoinCalc<C extends JoinContext, T>(
  calc: Extract<Rel, { kind: "calc" }>,
  outer: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
  make: FusedCalc<T>["make"],
  calcUid: () => string = outer.uid,
): DataStream<T> | undefined {
  const rel = calc.input;
  if (rel.kind !== "join" || !fusesWithJoin(calc)) return undefined;
  const { filter, projects } = calc;
  const code = fusedJoinCode(rel.condition, rel.left.fields.length, { filter, projects, make });
  const joined = translateAppendJoin(rel, code, withReuse(outer), input);
  if (filter) calcUid();
  calcUid();
  return joined as DataStream<T>;
}

/** True when a plain calc `calc` runs in the join below it ({@link fusedJoinCalc}). */
export function fusesWithJoin(calc: Extract<Rel, { kind: "calc" }>): boolean {
  return calc.input.kind === "join" && isAppendJoin(calc.input);
}

/** Builds inner join `rel` of insert-only inputs running `code`: bucketed for a band, else per key (append-join.ts). */
function translateAppendJoin<C extends JoinContext, T>(
  rel: Join,
  code: JoinCode<T>,
  ctx: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
): DataStream<unknown> {
  const extreme = extremeOf(rel);
  if (extreme) return translateExtremeJoin(rel, extreme, code, ctx, input);
  const band = bandOf(rel);
  if (band) return translateBandJoin(rel, band, code, ctx, input);
  const bounds = joinBounds(rel);
  const left = input(rel.left, ctx) as DataStream<Row>;
  const right = distinct(input(rel.right, ctx), left, ctx) as DataStream<Row>;
  const fn = appendJoin(code, { left: expiryOf(bounds.left), right: expiryOf(bounds.right) });
  return left
    .connect(right)
    .keyBy(joinKey(rel.leftKeys), joinKey(rel.rightKeys))
    .process(fn)
    .uid(joinUid(ctx, JOIN_LAYOUT, rel)) as DataStream<unknown>;
}

/** Builds join `rel` as the bucketed interval join of `band` (band-join.ts). */
function translateBandJoin<C extends JoinContext, T>(
  rel: Join,
  band: Band,
  code: JoinCode<T>,
  ctx: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
): DataStream<unknown> {
  const left = input(rel.left, ctx) as DataStream<Row>;
  const right = distinct(input(rel.right, ctx), left, ctx) as DataStream<Row>;
  const leftKey = encodedJoinKey(joinKey(rel.leftKeys));
  const rightKey = encodedJoinKey(joinKey(rel.rightKeys));
  const [storedKey, copiedKey] = band.stored === "left" ? [leftKey, rightKey] : [rightKey, leftKey];
  const keys = bandKeys(band, storedKey, copiedKey);
  const copy = (s: DataStream<Row>) => s.flatMap(copiesOf(band)).uid(ctx.uid()) as DataStream<unknown>;
  const [l, r] =
    band.stored === "left" ? [left as DataStream<unknown>, copy(right)] : [copy(left), right as DataStream<unknown>];
  const [lk, rk] = band.stored === "left" ? [keys.stored, keys.copied] : [keys.copied, keys.stored];
  return l
    .connect(r)
    .keyBy(lk as (x: unknown) => Key, rk as (x: unknown) => Key)
    .process(bandJoin(band, code, storedKey, copiedKey))
    .uid(joinUid(ctx, BAND_LAYOUT, rel)) as DataStream<unknown>;
}

/** The join (and calc) TopN `rank` runs inside (ranked-join.ts): a per-key append join partitioned as the TopN. */
function rankingJoin(rank: Extract<Rel, { kind: "rank" }>) {
  const below = joinBelow(rank);
  if (!below || !isAppendJoin(below.join) || bandOf(below.join) || extremeOf(below.join)) return undefined;
  return below;
}

/** True when TopN `rank` runs inside the join below it (ranked-join.ts). */
export const ranksInJoin = (rank: Extract<Rel, { kind: "rank" }>): boolean => rankingJoin(rank) !== undefined;

/**
 * Builds TopN `rank` over insert-only rows, and the join below it (and a plain calc between
 * them), as one operator (ranked-join.ts) when {@link ranksInJoin}; `calcUid` takes the calc's
 * uids and `rankUids` the TopN's, as their own operators would, so that the operators after them
 * keep theirs. Undefined otherwise.
 */
export function translateRankedJoin<C extends JoinContext>(
  rank: Extract<Rel, { kind: "rank" }>,
  outer: C,
  input: (r: Rel, ctx: C) => DataStream<unknown>,
  topN: KeyedProcessFunction<Row, Key, StateSpec, Change>,
  uids: { readonly calc: () => string; readonly rank: () => void },
): DataStream<unknown> | undefined {
  const below = rankingJoin(rank);
  if (!below) return undefined;
  const { join: rel, calc } = below;
  const ctx = withReuse(outer);
  const left = input(rel.left, ctx) as DataStream<Row>;
  const right = distinct(input(rel.right, ctx), left, ctx) as DataStream<Row>;
  const bounds = joinBounds(rel);
  const code = calc
    ? fusedJoinCode(rel.condition, rel.left.fields.length, {
        filter: calc.filter,
        projects: calc.projects,
        make: generateRow,
      })
    : joinCode(rel.condition, rel.left.fields, rel.right.fields);
  const join = appendJoin(code, { left: expiryOf(bounds.left), right: expiryOf(bounds.right) });
  const uid = `${joinUid(ctx, JOIN_LAYOUT, rel)}-${RANKED_LAYOUT}`;
  if (calc?.filter) uids.calc();
  if (calc) uids.calc();
  uids.rank();
  return left
    .connect(right)
    .keyBy(joinKey(rel.leftKeys), joinKey(rel.rightKeys))
    .process(rankedJoin(join, topN))
    .uid(uid) as DataStream<unknown>;
}

/**
 * Builds join `rel` as the window extreme join (extreme-join.ts): its left side alone, keyed by
 * window. The operators its right side (the window aggregate) and the interval join's copies
 * would have had keep their uids, unused, so that the operators after the join keep theirs.
 */
function translateExtremeJoin<C extends JoinContext, T>(
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
function translateGroupExtreme<C extends JoinContext>(
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

/** True when join `rel` computes its right side itself (an extreme join): only its left side is built. */
export const buildsLeftOnly = (rel: Join): boolean => extremeOf(rel) !== undefined || groupExtremeOf(rel) !== undefined;

/**
 * Takes the uids that building `rel` takes, building it into a scratch environment where the
 * sub-plans already built for this join stand in as empty streams.
 */
function drawUids<C extends JoinContext>(rel: Rel, ctx: C, input: (r: Rel, ctx: C) => DataStream<unknown>): void {
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
function distinct<T>(right: DataStream<T>, left: unknown, ctx: JoinContext): DataStream<T> {
  return right === left ? right.map((x) => x).uid(ctx.uid()) : right;
}

/** True when `rel` runs as {@link appendJoin}: an inner join, not temporal, of two insert-only inputs. */
function isAppendJoin(rel: Join): boolean {
  return !rel.outer && !rel.temporal && !isUpdating(changelogMode(rel.left)) && !isUpdating(changelogMode(rel.right));
}

/** The EXPLAIN line of join `rel` (without its changelog mode). */
export function describeJoin(rel: Join): string {
  const l = rel.left.fields.map((f) => f.name);
  const r = rel.right.fields.map((f) => f.name);
  const keys = rel.leftKeys
    .map((k, i) => `${showExpr(k, l)} = ${showExpr(rel.rightKeys[i] as BoundExpr, r)}`)
    .join(", ");
  const where = rel.condition ? `, where=[${showExpr(rel.condition, [...l, ...r])}]` : "";
  const type = `type=[${rel.outer ? `${rel.outer[0]}${rel.outer.slice(1).toLowerCase()}OuterJoin` : "InnerJoin"}]`;
  const extreme = extremeOf(rel);
  if (extreme) return describeExtreme(rel, extreme, keys, where);
  const top = groupExtremeOf(rel);
  if (top) {
    const of = `${top.fn}(${showExpr(top.value, l)}) per ${top.keys.map((k) => showExpr(k, l)).join(", ")}`;
    return `GroupExtremeJoin(${type}, keys=[${keys}]${where}, extreme=[${of}]) → keyBy + keyed process, computing its right input (the group aggregate) itself`;
  }
  if (rel.temporal)
    return `TemporalJoin(${type}, keys=[${keys}]${where}) → connect + keyBy + keyed co-process with event-time timers`;
  const bounds = isAppendJoin(rel) ? joinBounds(rel) : { left: [], right: [] };
  if (bounds.left.length === 0 && bounds.right.length === 0)
    return `Join(${type}, keys=[${keys}]${where}) → connect + keyBy + keyed co-process`;
  const show = (bs: typeof bounds.left, names: readonly string[]) =>
    bs.length === 0
      ? "never"
      : bs
          .map(
            (b) => `${showExpr(b.expr, names)}${b.shift > 0 ? ` - ${b.shift}` : b.shift < 0 ? ` + ${-b.shift}` : ""}`,
          )
          .join(", ");
  const band = bandOf(rel);
  const expiry = `${band ? `, ${describeBand(band, l, r)}` : ""}, leftExpiry=[${show(bounds.left, l)}], rightExpiry=[${show(bounds.right, r)}]`;
  return `IntervalJoin(${type}, keys=[${keys}]${where}${expiry}) → connect + keyBy + keyed co-process with event-time timers`;
}
