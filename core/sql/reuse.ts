/**
 * Sub-plan reuse, as Flink's: under a join, a sub-plan equal to one already built for the join
 * is not built again (a join of two views of one table reads the table once). A plan may have
 * more than one form (the rows of watermarks over a native scan, or the connector's records
 * under them: scan-calc.ts), each built once.
 */
import type { DataStream } from "../api/datastream.ts";
import type { StreamExecutionEnvironment } from "../api/environment.ts";
import { type ColumnReader, rowColumns } from "./codegen.ts";
import { type BoundExpr, type Row, rewriteInputs } from "./expr.ts";
import type { Rel } from "./logical.ts";
import { isPlainCalc } from "./plain-calc.ts";
import { type NativeWatermarks, nativeWatermarks, nativeWatermarksOf, throughNative } from "./scan-calc.ts";

/** What reuse needs of a translation context. */
export interface ReuseContext {
  readonly env: StreamExecutionEnvironment;
  readonly uid: () => string;
  /** The uids of calcs the optimizer made (`TranslateContext.syntheticUid`); `uid` without. */
  readonly syntheticUid?: () => string;
  readonly miniBatch?: boolean;
  /** The streams behind `datastream` tables (see `TranslateContext`). */
  readonly streams?: ReadonlyMap<string, unknown>;
  /** The streams built for the join being built, by {@link planKey} and form; none outside a join. */
  readonly reuse?: Map<string, DataStream<unknown>>;
}

/** Ids of the functions in plans (a UDF's implementation), for {@link planKey}. */
const fnIds = new WeakMap<object, number>();
let nextFnId = 0;

/** A plan's structure as text: equal for sub-plans that build the same stream. */
function planKey(rel: Rel, ctx: ReuseContext): string {
  const text = JSON.stringify(rel, (_k, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v !== "function") return v;
    let id = fnIds.get(v);
    if (id === undefined) {
      id = nextFnId++;
      fnIds.set(v, id);
    }
    return `fn#${id}`;
  });
  return `${ctx.miniBatch ?? true}:${text}`;
}

/** The stream `make` builds for `rel` (`form`: which of its forms, "" for its rows), built once per join. */
export function reused(
  rel: Rel,
  form: string,
  ctx: ReuseContext,
  make: () => DataStream<unknown>,
): DataStream<unknown> {
  const memo = ctx.reuse;
  if (!memo) return make();
  const key = `${form}${planKey(rel, ctx)}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const stream = make();
  memo.set(key, stream);
  return stream;
}

/** The uid each native stream drew for the calc below its watermarks. */
const belowUids = new WeakMap<DataStream<unknown>, string>();

/** The connector's records under {@link NativeWatermarks} `w`, built once per join, with the uid of the calc below. */
export function nativeRecords(w: NativeWatermarks, ctx: ReuseContext): { stream: DataStream<Row>; belowUid: string } {
  const calcUid = w.below.synthetic ? (ctx.syntheticUid ?? ctx.uid) : ctx.uid;
  const stream = reused(w.watermark, "native:", ctx, () => {
    const built = nativeWatermarks(w, ctx.env, ctx.uid, calcUid);
    belowUids.set(built.stream, built.belowUid);
    return built.stream;
  });
  return { stream: stream as DataStream<Row>, belowUid: belowUids.get(stream) as string };
}

/**
 * How an operator reads the rows of plan `rel`: from `stream`, each expression over `rel`'s
 * columns through `read`, generated with `column`, for the records that pass `filter` (if any).
 */
export interface RowsOf {
  readonly stream: DataStream<unknown>;
  readonly read: (e: BoundExpr) => BoundExpr;
  readonly column: ColumnReader;
  readonly filter?: BoundExpr;
}

/**
 * The rows of `rel` for an operator that evaluates expressions over them anyway (a fused window
 * aggregate's projection): a plain calc over watermarks of a native scan (a Nexmark view) is not
 * run as operators of its own but read through, from the connector's records (scan-calc.ts); its
 * uids are still drawn, once per join. Any other plan is built by `input`, its rows read as they are.
 */
export function rowsOf(rel: Rel, ctx: ReuseContext, input: (r: Rel) => DataStream<unknown>): RowsOf {
  const w = isPlainCalc(rel) ? nativeWatermarksOf(rel.input, ctx.streams) : undefined;
  if (rel.kind !== "calc" || !w) return { stream: input(rel), read: (e) => e, column: rowColumns };
  const through = throughNative(rel, w);
  const stream = reused(rel, "read-through:", ctx, () => {
    const records = nativeRecords(w, ctx).stream as DataStream<unknown>;
    const own = rel.synthetic ? (ctx.syntheticUid ?? ctx.uid) : ctx.uid;
    if (rel.filter) own(); // the calc's filter and map, run by the operator that reads its rows
    own();
    return records;
  });
  const read = (e: BoundExpr) => rewriteInputs(e, (i) => through.projects[i] as BoundExpr);
  return { stream, read, column: w.native.column, ...(through.filter ? { filter: through.filter } : {}) };
}
