/**
 * Sub-plan reuse, as Flink's: under a join, a sub-plan equal to one already built for the join
 * is not built again (a join of two views of one table reads the table once). A plan may have
 * more than one form (the rows of watermarks over a native scan, or the connector's records
 * under them: scan-calc.ts), each built once.
 */
import type { DataStream } from "../api/datastream.ts";
import type { StreamExecutionEnvironment } from "../api/environment.ts";
import type { Row } from "./expr.ts";
import type { Rel } from "./logical.ts";
import { type NativeWatermarks, nativeWatermarks } from "./scan-calc.ts";

/** What reuse needs of a translation context. */
export interface ReuseContext {
  readonly env: StreamExecutionEnvironment;
  readonly uid: () => string;
  /** The uids of calcs the optimizer made (`TranslateContext.syntheticUid`); `uid` without. */
  readonly syntheticUid?: () => string;
  readonly miniBatch?: boolean;
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
