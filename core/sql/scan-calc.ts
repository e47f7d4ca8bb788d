/**
 * A calc straight over a table's scan, run inside the source's reader: Flink pushes projections,
 * filters and computed columns into a scan that supports it; here the calc's generated filter and
 * projection read the connector's own records (`nativeScanOf`), so a record becomes the calc's
 * row in one step, with no row array of the table's columns and no operator in between.
 *
 * Invariants:
 * - Only an insert-only calc that reads no clock and calls no remote function is fused (the
 *   caller checks `isPlainCalc`): what the reader returns is what the calc's operators would have
 *   emitted, in the same order, with the same event times (a chunk's `times` are filtered with it).
 * - The uids the calc's filter and map would have had are still drawn, so every later operator
 *   keeps its uid and a savepoint taken before still restores (the calc holds no state; the
 *   source keeps its uid, so its positions restore too).
 */
import type { DataStream } from "../api/datastream.ts";
import type { StreamExecutionEnvironment } from "../api/environment.ts";
import type { Source, SourceChunk, SplitReader } from "../api/source.ts";
import { WatermarkStrategy } from "../api/watermarks.ts";
import { generate, generateRow } from "./codegen.ts";
import { type NativeScan, nativeScanOf } from "./connectors.ts";
import { type BoundExpr, conjuncts, fold, type Row, rewriteInputs } from "./expr.ts";
import type { Rel } from "./logical.ts";
import { isPlainCalc } from "./plain-calc.ts";
import { isInteger } from "./types.ts";

type Calc = Extract<Rel, { kind: "calc" }>;
type Watermark = Extract<Rel, { kind: "watermark" }>;

/**
 * The stream of `rel` (a plain calc) read from its scan's source with the calc fused in, or
 * undefined when its input is not a scan whose connector gives its own records.
 */
export function fusedScanCalc(
  rel: Calc,
  env: StreamExecutionEnvironment,
  uid: () => string,
  streams?: ReadonlyMap<string, unknown>,
  calcUid: () => string = uid,
): DataStream<Row> | undefined {
  const scan = rel.input;
  if (scan.kind !== "scan" || streams?.has(scan.table.name)) return undefined;
  const native = nativeScanOf(scan.table);
  if (!native) return undefined;
  const test = rel.filter ? generate<unknown>(rel.filter, native.column) : undefined;
  const project = generateRow<unknown>(rel.projects, native.column);
  const stream = env.fromSource(calcSource(native.source, test, project)).uid(uid());
  if (rel.filter) calcUid();
  calcUid();
  return stream;
}

/** `source` with each chunk's records kept by `test` (when given) and mapped by `project`. */
function calcSource(
  source: Source<unknown>,
  test: ((record: unknown) => unknown) | undefined,
  project: (record: unknown) => Row,
): Source<Row> {
  const apply = (chunk: SourceChunk<unknown>): SourceChunk<Row> => {
    const { records, times } = chunk;
    if (!test) return { ...chunk, records: records.map(project) };
    const kept: Row[] = [];
    const keptTimes: number[] | undefined = times ? [] : undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (test(r) !== true) continue;
      kept.push(project(r));
      keptTimes?.push(times?.[i] as number);
    }
    return keptTimes ? { ...chunk, records: kept, times: keptTimes } : { ...chunk, records: kept };
  };
  return {
    ...source,
    reader: (split, position): SplitReader<Row> => {
      const inner = source.reader(split, position);
      const reader: SplitReader<Row> = {
        read(max) {
          const chunk = inner.read(max);
          return chunk instanceof Promise ? chunk.then(apply) : apply(chunk);
        },
      };
      if (inner.close) reader.close = () => inner.close?.();
      if (inner.snapshotState) reader.snapshotState = (id, p) => inner.snapshotState?.(id, p);
      if (inner.notifyCheckpointComplete)
        reader.notifyCheckpointComplete = (id) => inner.notifyCheckpointComplete?.(id);
      return reader;
    },
  };
}

/**
 * Watermarks over a calc that its scan's reader would run (the Nexmark tables' computed
 * `dateTime` over `datagen`): the watermarks' stream carries the connector's own records instead,
 * and each plain calc above (the Nexmark views, `WHERE event_type = 1`) reads their columns
 * through the calc below, so that no row of the table's columns is made per record. The
 * watermark operator sees every record, as before, and takes its event time from the computed
 * column. A consumer that needs the table's rows gets them from a map after the watermarks.
 */
export interface NativeWatermarks {
  readonly watermark: Watermark;
  /** The calc below the watermarks (projections only), and the scan's source. */
  readonly below: Calc;
  readonly native: NativeScan;
}

/** Watermarks `rel` as {@link NativeWatermarks}, when its input is a filterless plain calc over a native scan. */
export function nativeWatermarksOf(rel: Rel, streams?: ReadonlyMap<string, unknown>): NativeWatermarks | undefined {
  if (rel.kind !== "watermark") return undefined;
  const below = rel.input;
  if (below.kind !== "calc" || below.filter || !isPlainCalc(below)) return undefined;
  const scan = below.input;
  if (scan.kind !== "scan" || streams?.has(scan.table.name)) return undefined;
  const native = nativeScanOf(scan.table);
  return native ? { watermark: rel, below, native } : undefined;
}

/**
 * Plain calc `rel` over {@link NativeWatermarks} `w`, its columns read through the calc below
 * them. Its projections run only for records its filter passes, so an integer column the filter
 * equates with a literal is that literal there, folded: `CASE WHEN event_type = 0 THEN
 * person.dateTime … END` under `WHERE event_type = 2` reads `bid.dateTime` alone.
 */
export function throughNative(rel: Calc, w: NativeWatermarks): Calc {
  const through = (e: BoundExpr) => rewriteInputs(e, (i) => w.below.projects[i] as BoundExpr);
  if (!rel.filter) return { ...rel, projects: rel.projects.map(through) };
  const filter = through(rel.filter);
  const known = new Map<number, BoundExpr>();
  for (const c of conjuncts(filter)) {
    const [a, b] = c.kind === "call" && c.name === "=" ? (c.args as [BoundExpr, BoundExpr]) : [];
    const [column, literal] = a?.kind === "input" ? [a, b] : [b, a];
    if (column?.kind === "input" && literal?.kind === "literal" && literal.value !== null && isInteger(column.type))
      known.set(column.index, literal);
  }
  const given = (e: BoundExpr) =>
    fold(
      rewriteInputs(
        e,
        (i) => known.get(i) ?? { kind: "input", index: i, type: w.below.input.fields[i]?.type as BoundExpr["type"] },
      ),
    );
  return { ...rel, projects: rel.projects.map((p) => (known.size > 0 ? given(through(p)) : through(p))), filter };
}

/**
 * The watermarked stream of the connector's records of {@link NativeWatermarks} `w`, drawing the
 * uids the scan, the calc below and the watermarks had (`calcUid` for the calc's, returned: the
 * map to the table's rows takes it).
 */
export function nativeWatermarks(
  w: NativeWatermarks,
  env: StreamExecutionEnvironment,
  uid: () => string,
  calcUid: () => string,
): { stream: DataStream<unknown>; belowUid: string } {
  const source = env.fromSource(w.native.source).uid(uid());
  const belowUid = calcUid();
  const time = generate<unknown>(w.below.projects[w.watermark.time] as BoundExpr, w.native.column);
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<unknown>(w.watermark.delayMs).withTimestampAssigner(
    (r) => time(r) as number,
  );
  return { stream: source.assignTimestampsAndWatermarks(strategy).uid(uid()), belowUid };
}
