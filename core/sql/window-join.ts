/**
 * The window join of distinct window aggregates: a physical choice for one shape of inner join,
 * as the band join (join-band.ts) is for another. Two window aggregates that only group (no
 * aggregate call: each emits a window's distinct groups), joined on their windows and keys, as
 * Nexmark q8's "people who registered and opened an auction in the same period":
 *
 * ```sql
 * SELECT P.id, P.name, P.starttime FROM (
 *   SELECT id, name, window_start AS starttime, window_end AS endtime
 *   FROM TABLE(TUMBLE(TABLE person, …)) GROUP BY id, name, window_start, window_end) P
 * JOIN (
 *   SELECT seller, window_start AS starttime, window_end AS endtime
 *   FROM TABLE(TUMBLE(TABLE auction, …)) GROUP BY seller, window_start, window_end) A
 * ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
 * ```
 *
 * Unfused, each aggregate is a keyed operator that emits its groups when the watermark passes
 * the window's end, and an interval join keyed by the join key keeps them. Fused, one operator
 * keyed by the join key (which holds the window) keeps each side's distinct groups of the
 * window, and joins a group with the other side's as soon as it first arrives
 * (window-join-fn.ts): an inner join of insert-only groups outputs each matching pair once,
 * whenever it forms, so the rows are the unfused plan's, sooner. A row whose window has passed
 * the watermark is late and dropped, as the window aggregate drops it, and the key's groups are
 * dropped when the watermark passes the window's end.
 *
 * It applies when each side is a window aggregate without calls over TUMBLE or HOP in event
 * time that the plan would fuse with its table function (window-aggregate.ts), under at most a
 * calc that renames or reorders its columns; both windows are the same; the join's keys equate
 * a window column of one side with the same window column of the other (so a pair is of one
 * window); and the two sides are not one sub-plan.
 */
import type { ProcessFunction } from "../api/functions.ts";
import { type ColumnReader, generate, generateRow, rowColumns } from "./codegen.ts";
import { type BoundExpr, type Row, rewriteInputs } from "./expr.ts";
import { base, shape } from "./extreme-join.ts";
import type { Field, Rel } from "./logical.ts";
import { isPlainCalc } from "./plain-calc.ts";
import { type NativeWatermarks, throughNative } from "./scan-calc.ts";
import { fusableWindow } from "./window-aggregate.ts";
import { windowsOf } from "./windows.ts";

type Join = Extract<Rel, { kind: "join" }>;
type Calc = Extract<Rel, { kind: "calc" }>;
type Tvf = Extract<Rel, { kind: "window-tvf" }>;

/** One side of a window join: its window table function, and its rows over the table function's. */
export interface WindowSide {
  readonly tvf: Tvf;
  /** A plain calc below the table function (not over a scan, which runs it in its reader), run in the side's rows. */
  readonly below?: Calc;
  /** The calc between the table function and the aggregate (its filter reads no window column). */
  readonly pre: Calc;
  /** The side's row (a group of the aggregate, renamed) over a windowed row: the table function's input columns, then window start, end and time. */
  readonly columns: readonly BoundExpr[];
}

/** A join that runs as the window join: what the operator needs of the plan. */
export interface WindowJoin {
  readonly left: WindowSide;
  readonly right: WindowSide;
  /**
   * The join keys the operator is keyed by (their positions in the join's): all but those that
   * equate a window column already equated by another (with one window, equal starts are equal ends).
   */
  readonly keys: readonly number[];
  /** The position in {@link keys} of a window column, and what to add to it for the window's end. */
  readonly windowAt: number;
  readonly toEnd: number;
}

type Role = "start" | "end" | undefined;

/** Side `rel` as a distinct window aggregate (see the module comment), with the window role of each of its columns. */
function sideOf(rel: Rel): { side: WindowSide; roles: readonly Role[] } | undefined {
  const rename = rel.kind === "calc" ? rel : undefined;
  const agg = rename ? rename.input : rel;
  if (agg.kind !== "aggregate" || !agg.window || agg.session || agg.aggs.length !== 0) return undefined;
  if (rename && (rename.filter || !rename.projects.every((p) => p.kind === "input"))) return undefined;
  const parts = fusableWindow(agg);
  if (!parts || !base(parts.pre)) return undefined;
  const { tvf, pre, start, end } = parts;
  if (tvf.window.proctime || (tvf.window.fn !== "TUMBLE" && tvf.window.fn !== "HOP")) return undefined;
  const cols = rename ? rename.projects.map((p) => (p as { index: number }).index) : agg.fields.map((_f, i) => i);
  const below = isPlainCalc(tvf.input) && tvf.input.input.kind !== "scan" ? tvf.input : undefined;
  return {
    side: {
      tvf,
      ...(below ? { below } : {}),
      pre,
      columns: cols.map((c) => pre.projects[c] as BoundExpr),
    },
    roles: cols.map((c): Role => (c === start ? "start" : c === end ? "end" : undefined)),
  };
}

/** The window join `j` runs as, if it has the shape (see the module comment). */
export function windowJoinOf(j: Join): WindowJoin | undefined {
  if (j.outer || j.temporal) return undefined;
  const left = sideOf(j.left);
  const right = sideOf(j.right);
  if (!left || !right || shape(j.left) === shape(j.right)) return undefined;
  const window = left.side.tvf.window;
  if (shape(window) !== shape(right.side.tvf.window)) return undefined;
  const roleOf = (k: BoundExpr | undefined, roles: readonly Role[]) =>
    k?.kind === "input" ? roles[k.index] : undefined;
  const windowed = j.leftKeys.map((k, i) => {
    const role = roleOf(k, left.roles);
    return role !== undefined && role === roleOf(j.rightKeys[i], right.roles);
  });
  const first = windowed.indexOf(true);
  if (first < 0) return undefined;
  const keys = j.leftKeys.map((_k, i) => i).filter((i) => i === first || !windowed[i]);
  const toEnd = roleOf(j.leftKeys[first], left.roles) === "start" ? window.sizeMs : 0;
  return { left: left.side, right: right.side, keys, windowAt: keys.indexOf(first), toEnd };
}

/** The plan side `s`'s rows are made from: the input of its calc below the table function, or of the table function. */
export const sideInput = (s: WindowSide): Rel => (s.below ?? s.tvf).input;

/**
 * The process function that makes rows of {@link sideInput} the rows side `s` feeds the join:
 * per window of a row, the side's row, if the calcs' filters pass (the aggregate's distinct
 * groups are kept by the join's operator). One generated function each for the filters, the
 * time and the side's row: the calc below the table function (if any), the table function and
 * the calc above it, the window's columns read from the window, not a row made for them.
 */
export function sideRows(s: WindowSide, native?: NativeWatermarks): ProcessFunction<Row, Row> {
  const { tvf } = s;
  const n = tvf.input.fields.length;
  // Over the connector's records, the calc below the table function is read through the calc
  // below the watermarks (scan-calc.ts), and without one the table function's input is that calc's.
  const below = s.below && native ? throughNative(s.below, native) : s.below;
  const through = below?.projects ?? native?.below.projects;
  const records = native ? native.below.input.fields.length : (below?.input.fields.length ?? n);
  const column = native ? native.native.column : rowColumns;
  // An expression over a windowed row (the table function's input, then window start, end and
  // time) as one over the side's input record, then the window's columns.
  const lift = (e: BoundExpr): BoundExpr =>
    through
      ? rewriteInputs(e, (i) =>
          i < n
            ? (through[i] as BoundExpr)
            : { kind: "input", index: records + i - n, type: (tvf.fields[i] as Field).type },
        )
      : e;
  const windowed: ColumnReader = Object.assign(
    (i: number) => (i < records ? column(i) : i === records ? "start" : i === records + 1 ? "end" : "(end - 1)"),
    { params: "row, start, end" },
  );
  type Windowed = (row: Row, start: number, end: number) => unknown;
  const pass = below?.filter ? generate(below.filter, column) : undefined;
  const test = s.pre.filter ? (generate(lift(s.pre.filter), windowed) as unknown as Windowed) : undefined;
  const time = generate(lift({ kind: "input", index: tvf.time, type: (tvf.fields[tvf.time] as Field).type }), column);
  const make = generateRow(s.columns.map(lift), windowed) as unknown as (row: Row, start: number, end: number) => Row;
  const { window } = tvf;
  const tumbling = window.fn === "TUMBLE";
  return {
    processElement(row, ctx) {
      if (pass && pass(row) !== true) return;
      const t = time(row) as number;
      if (tumbling) {
        const start = t - ((((t - window.offsetMs) % window.sizeMs) + window.sizeMs) % window.sizeMs);
        const end = start + window.sizeMs;
        if (!test || test(row, start, end) === true) ctx.emit(make(row, start, end));
        return;
      }
      for (const [start, end] of windowsOf(window, t))
        if (!test || test(row, start, end) === true) ctx.emit(make(row, start, end));
    },
  };
}

/** The EXPLAIN line of window join `wj` (`keys` and `where` as the other joins show them). */
export function describeWindowJoin(wj: WindowJoin, keys: string, where: string): string {
  const { tvf } = wj.left;
  const w = tvf.window;
  const window = `${w.fn}(${tvf.input.fields[tvf.time]?.name}, ${w.fn === "HOP" ? `${w.stepMs} ms, ` : ""}${w.sizeMs} ms)`;
  return `WindowJoin(type=[InnerJoin], keys=[${keys}]${where}, window=[${window}], inputs=[each side's distinct groups per window]) → connect + keyBy + keyed co-process with event-time timers, computing both inputs (window aggregates without calls) itself`;
}
