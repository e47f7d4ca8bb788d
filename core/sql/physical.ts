/**
 * The physical plan: each logical operator becomes riffle DataStream operators. Insert-only
 * streams carry rows (arrays); updating streams carry {@link Change}s.
 */
import type { DataStream } from "../api/datastream.ts";
import type { StreamExecutionEnvironment } from "../api/environment.ts";
import type { Source } from "../api/source.ts";
import { WatermarkStrategy } from "../api/watermarks.ts";
import type { Key } from "../keys.ts";
import { aggregateUid, type Change, groupAggregate } from "./aggregate.ts";
import { type ColumnReader, generate, generateRow } from "./codegen.ts";
import { sourceOf } from "./connectors.ts";
import type { BoundExpr, Row } from "./expr.ts";
import { translateAggregatedJoin, translateRankedJoin } from "./join-fused.ts";
import { fusedJoinCalc, translateJoin } from "./join-plan.ts";
import { windowAggregate } from "./keyed-window-aggregate.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";
import { translateLookupJoin } from "./lookup-join.ts";
import { translateOver } from "./over.ts";
import { calcExprs, isPlainCalc } from "./plain-calc.ts";
import { calcReadsClock, proctimeCalc } from "./proctime.ts";
import { translateRank } from "./rank.ts";
import { withRemoteCalls } from "./remote-udf.ts";
import { nativeRecords, reused } from "./reuse.ts";
import { fusedScanCalc, nativeWatermarksOf, throughNative } from "./scan-calc.ts";
import { sessionAggregate } from "./session-window.ts";
import { fusedWindowAggregate } from "./window-aggregate.ts";
import { windowsOf } from "./windows.ts";

/** Where a plan is built: the environment, the operators' uids, and the streams behind `datastream` tables. */
export interface TranslateContext {
  readonly env: StreamExecutionEnvironment;
  /** The next operator uid (stable ids for their state). */
  readonly uid: () => string;
  /**
   * The next uid outside `uid`'s sequence, for the operators of a calc the optimizer made where
   * the plan had none (`synthetic`): `<prefix>-s0`, `<prefix>-s1`, ….
   */
  readonly syntheticUid: () => string;
  readonly streams?: ReadonlyMap<string, DataStream<Record<string, unknown>>>;
  /** Whether group aggregates, TopN and deduplication take mini-batches (default true; `SQL_OPTIONS` in `session.ts`). */
  readonly miniBatch?: boolean;
  /**
   * The streams built for the inputs of the join being built, by their plans (sub-plan
   * reuse). Only a join's inputs share them, so that a plan without a join keeps its operator
   * uids (and its savepoints) as they were.
   */
  readonly reuse?: Map<string, DataStream<unknown>>;
}

/** The uids of one plan's operators: `<prefix>-0`, `<prefix>-1`, …, and its synthetic calcs' `<prefix>-s0`, …. */
export function uidSequence(prefix: string): Pick<TranslateContext, "uid" | "syntheticUid"> {
  let n = 0;
  let s = 0;
  return { uid: () => `${prefix}-${n++}`, syntheticUid: () => `${prefix}-s${s++}` };
}

/**
 * Builds `rel` into `ctx.env`. Under a join, a sub-plan equal to one already built for the join
 * is reused, as Flink's sub-plan reuse does: a join of two views of one table reads the table once.
 */
export function translate(rel: Rel, ctx: TranslateContext): DataStream<unknown> {
  return reused(rel, "", ctx, () => build(rel, ctx));
}

/**
 * Plain calc `rel` reading the connector's own records through the watermarks below it, when
 * it can (scan-calc.ts's {@link NativeWatermarks}): `make` generates its output from the projections.
 */
export function calcOverNativeScan<T>(
  rel: Calc,
  ctx: TranslateContext,
  uid: () => string,
  make: (exprs: readonly BoundExpr[], columns?: ColumnReader) => (row: Row) => T,
): DataStream<T> | undefined {
  const w = isPlainCalc(rel) ? nativeWatermarksOf(rel.input, ctx.streams) : undefined;
  if (!w) return undefined;
  return insertOnlyCalc(throughNative(rel, w), nativeRecords(w, ctx).stream, uid, make, w.native.column);
}

function build(rel: Rel, ctx: TranslateContext): DataStream<unknown> {
  const { env, uid } = ctx;
  switch (rel.kind) {
    case "scan": {
      const stream = ctx.streams?.get(rel.table.name);
      if (stream) {
        const names = rel.fields.map((f) => f.name);
        return stream.map((o): Row => names.map((n) => o[n] ?? null)).uid(uid()) as DataStream<unknown>;
      }
      return env.fromSource(sourceOf(rel.table) as Source<unknown>).uid(uid()) as DataStream<unknown>;
    }
    case "watermark": {
      const w = nativeWatermarksOf(rel, ctx.streams);
      if (w) {
        // The table's rows, made after the watermarks from the records that the calcs above read.
        const { stream, belowUid } = nativeRecords(w, ctx);
        return stream.map(generateRow(w.below.projects, w.native.column)).uid(belowUid) as DataStream<unknown>;
      }
      const time = rel.time;
      const input = translate(rel.input, ctx) as DataStream<Row>;
      const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Row>(rel.delayMs).withTimestampAssigner(
        (r) => r[time] as number,
      );
      return input.assignTimestampsAndWatermarks(strategy).uid(uid()) as DataStream<unknown>;
    }
    case "calc": {
      const own = rel.synthetic ? ctx.syntheticUid : uid; // the calc's own operators' uids
      const fused = isPlainCalc(rel)
        ? (fusedScanCalc(rel, env, uid, ctx.streams, own) ??
          fusedJoinCalc(rel, ctx, translate, generateRow, own) ??
          calcOverNativeScan(rel, ctx, own, generateRow))
        : undefined;
      return (fused as DataStream<unknown> | undefined) ?? calc(rel, translate(rel.input, ctx), own);
    }
    case "aggregate": {
      const fused = rel.window ? fusedWindowAggregate(rel, ctx, (r) => translate(r, ctx)) : undefined;
      if (fused) return fused;
      // One group per key of the join below it: the aggregate runs inside the join (aggregated-join.ts).
      const aggregated = translateAggregatedJoin(rel, ctx, translate, {
        calc: rel.input.kind === "calc" && rel.input.synthetic ? ctx.syntheticUid : uid,
        own: () => {
          uid(); // the map of rows to changes the aggregate once had
          uid(); // the aggregate's
        },
      });
      if (aggregated) return aggregated;
      const input = translate(rel.input, ctx);
      if (rel.session) {
        const { time, gapMs } = rel.session;
        const g = rel.groupKeys;
        const keyOfRow = g === 0 ? () => 0 : (r: Row) => r.slice(0, g) as Key;
        const fn = sessionAggregate(g, rel.aggs, time, gapMs);
        return (input as DataStream<Row>).keyBy(keyOfRow).process(fn).uid(uid()) as DataStream<unknown>;
      }
      if (rel.window) {
        const keyOfRow = (r: Row) => r.slice(0, rel.groupKeys) as Key;
        const fn = windowAggregate(rel.groupKeys, rel.aggs, rel.window.end, windowOf(rel.input)?.proctime === true);
        return (input as DataStream<Row>)
          .keyBy(keyOfRow)
          .process(fn)
          .uid(aggregateUid(uid(), rel.aggs, false)) as DataStream<unknown>;
      }
      const retracting = isUpdating(changelogMode(rel.input));
      // An insert-only input goes in as rows; the uid its +I wrapper once had stays taken, so that
      // the operators after it keep theirs (and their state in a savepoint).
      if (!retracting) uid();
      const g = rel.groupKeys;
      const rowOf = retracting ? (c: Change | Row) => (c as Change).row : (c: Change | Row) => c as Row;
      const keyOf = g === 0 ? () => 0 : (c: Change | Row) => rowOf(c).slice(0, g) as Key;
      return (input as DataStream<Change | Row>)
        .keyBy(keyOf)
        .process(groupAggregate(g, rel.aggs, retracting, ctx.miniBatch ?? true))
        .uid(aggregateUid(uid(), rel.aggs, retracting)) as DataStream<unknown>;
    }
    case "join":
      return translateJoin(rel, ctx, translate);
    case "rank": {
      // A TopN partitioned by the key of the join below it runs inside the join (ranked-join.ts).
      const calcUid = rel.input.kind === "calc" && rel.input.synthetic ? ctx.syntheticUid : uid;
      const ranked = translateRankedJoin(rel, ctx, translate, {
        calc: calcUid,
        own: () => {
          uid(); // the map of rows to changes the TopN once had
          uid(); // the TopN's
        },
      });
      if (ranked) return ranked;
      return translateRank(
        rel,
        translate(rel.input, ctx),
        isUpdating(changelogMode(rel.input)),
        uid,
        ctx.miniBatch ?? true,
      ) as DataStream<unknown>;
    }
    case "over":
      return translateOver(rel, translate(rel.input, ctx), isUpdating(changelogMode(rel.input)), uid);
    case "lookup-join":
      return translateLookupJoin(rel, translate(rel.input, ctx) as DataStream<Row>).uid(uid()) as DataStream<unknown>;
    case "window-tvf": {
      const { window, time } = rel;
      const input = translate(rel.input, ctx) as DataStream<Row>;
      const windowed = (row: Row): Row[] =>
        windowsOf(window, row[time] as number).map(([s, e]) => [...row, s, e, e - 1]);
      return input.flatMap(windowed).uid(uid()) as DataStream<unknown>;
    }
  }
}

function calc(rel: Calc, input: DataStream<unknown>, uid: () => string): DataStream<unknown> {
  const exprs = calcExprs(rel);
  const updating = isUpdating(changelogMode(rel.input));
  const remote = updating ? undefined : withRemoteCalls(input as DataStream<Row>, rel.input.fields.length, exprs, uid);
  if (remote) {
    const projects = remote.exprs.slice(0, rel.projects.length);
    const filter = rel.filter ? remote.exprs.at(-1) : undefined;
    return calc({ ...rel, projects, ...(filter ? { filter } : {}) }, remote.input as DataStream<unknown>, uid);
  }
  if (calcReadsClock(rel)) return proctimeCalc(rel, input, updating).uid(uid());
  if (updating) {
    if (runsNoOperator(rel)) {
      uid(); // the map this plan had: later operators keep their uids
      return input;
    }
    const test = rel.filter ? generate(rel.filter) : undefined;
    const project = generateRow(rel.projects);
    let s = input as DataStream<Change>;
    if (test) s = s.filter((c) => test(c.row) === true).uid(uid());
    return s.map((c): Change => ({ kind: c.kind, row: project(c.row) })).uid(uid()) as DataStream<unknown>;
  }
  return insertOnlyCalc(rel, input as DataStream<Row>, uid, (exprs) => generateRow(exprs)) as DataStream<unknown>;
}

type Calc = Extract<Rel, { kind: "calc" }>;

/**
 * True when calc `rel` runs no operator: over changes, it keeps every input column in place,
 * unfiltered (at most renaming them), so it changes no record.
 */
export const runsNoOperator = (rel: Calc): boolean =>
  !rel.filter &&
  rel.projects.length === rel.input.fields.length &&
  rel.projects.every((p, i) => p.kind === "input" && p.index === i) &&
  isUpdating(changelogMode(rel.input));

/**
 * An insert-only calc over `input` (that reads no clock): its filter, then what `make` generates
 * from the projections, a row for the next operator or a sink's record (one copy, not two).
 * `columns`: how a column of `input`'s records is read (rows by default).
 */
export function insertOnlyCalc<T>(
  rel: Calc,
  input: DataStream<Row>,
  uid: () => string,
  make: (exprs: readonly BoundExpr[], columns?: ColumnReader) => (row: Row) => T,
  columns?: ColumnReader,
): DataStream<T> {
  const test = rel.filter ? generate(rel.filter, columns) : undefined;
  let s = input;
  if (test) s = s.filter((r) => test(r) === true).uid(uid());
  return s.map(make(rel.projects, columns)).uid(uid());
}

/** The window table function below a window aggregate's calc, if any. */
function windowOf(rel: Rel): Extract<Rel, { kind: "window-tvf" }>["window"] | undefined {
  if (rel.kind === "window-tvf") return rel.window;
  return rel.kind === "calc" ? windowOf(rel.input) : undefined;
}
