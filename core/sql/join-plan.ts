/**
 * How a join node runs: an inner join of insert-only inputs as the append join (rows in and out;
 * an interval join when its condition bounds a side's event time, join-bounds.ts), an event-time
 * temporal join (temporal-join.ts), and any other (outer, or over an updating input) as the
 * regular join of changes (join.ts). Also its EXPLAIN line.
 */
import type { DataStream } from "../api/datastream.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import { bandJoin, bandKeys, copiesOf, encodedJoinKey } from "./band-join.ts";
import { generate } from "./codegen.ts";
import { type BoundExpr, type Row, showExpr } from "./expr.ts";
import { describeExtreme, extremeOf } from "./extreme-join.ts";
import { groupExtremeOf } from "./group-extreme-join.ts";
import { regularJoin } from "./join.ts";
import { type Band, bandOf, describeBand } from "./join-band.ts";
import { joinBounds } from "./join-bounds.ts";
import { type FusedCalc, fusedJoinCode, type JoinCode, joinCode, joinKey } from "./join-code.ts";
import {
  BAND_LAYOUT,
  distinct,
  isAppendJoin,
  JOIN_LAYOUT,
  type JoinContext,
  joinUid,
  perKeyJoin,
  REGULAR_LAYOUT,
  withReuse,
} from "./join-context.ts";
import { translateExtremeJoin, translateGroupExtreme, translateWindowJoin } from "./join-fused.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";
import { temporalJoin } from "./temporal-join.ts";
import { uniqueOn } from "./unique-keys.ts";
import { describeWindowJoin, windowJoinOf } from "./window-join.ts";

type Join = Extract<Rel, { kind: "join" }>;

export type { JoinContext };

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
  const windows = windowJoinOf(rel);
  if (windows) return translateWindowJoin(rel, windows, code, ctx, input);
  const extreme = extremeOf(rel);
  if (extreme) return translateExtremeJoin(rel, extreme, code, ctx, input);
  const band = bandOf(rel);
  if (band) return translateBandJoin(rel, band, code, ctx, input);
  return perKeyJoin(rel, code, ctx, input);
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

/** The EXPLAIN line of join `rel` (without its changelog mode). */
export function describeJoin(rel: Join): string {
  const l = rel.left.fields.map((f) => f.name);
  const r = rel.right.fields.map((f) => f.name);
  const keys = rel.leftKeys
    .map((k, i) => `${showExpr(k, l)} = ${showExpr(rel.rightKeys[i] as BoundExpr, r)}`)
    .join(", ");
  const where = rel.condition ? `, where=[${showExpr(rel.condition, [...l, ...r])}]` : "";
  const type = `type=[${rel.outer ? `${rel.outer[0]}${rel.outer.slice(1).toLowerCase()}OuterJoin` : "InnerJoin"}]`;
  const windows = windowJoinOf(rel);
  if (windows) return describeWindowJoin(windows, keys, where);
  const extreme = extremeOf(rel);
  if (extreme) return describeExtreme(rel, extreme, keys, where);
  const top = groupExtremeOf(rel);
  if (top) {
    const of = `${top.fn}(${showExpr(top.value, l)}) per ${top.keys.map((k) => showExpr(k, l)).join(", ")}`;
    return `GroupExtremeJoin(${type}, keys=[${keys}]${where}, extreme=[${of}]) → keyBy + keyed process, computing its right input (the group aggregate) itself`;
  }
  if (rel.temporal)
    return `TemporalJoin(${type}, keys=[${keys}]${where}) → connect + keyBy + keyed co-process with event-time timers`;
  const append = isAppendJoin(rel);
  const bounds = append ? joinBounds(rel) : { left: [], right: [] };
  // Flink's notation: whether a side's rows are unique on the join key (unique-keys.ts).
  const spec = (unique: boolean) => (unique ? "JoinKeyContainsUniqueKey" : "NoUniqueKey");
  const specs = append
    ? `, leftInputSpec=[${spec(uniqueOn(rel.left, rel.leftKeys))}], rightInputSpec=[${spec(uniqueOn(rel.right, rel.rightKeys))}]`
    : "";
  if (bounds.left.length === 0 && bounds.right.length === 0)
    return `Join(${type}, keys=[${keys}]${where}${specs}) → connect + keyBy + keyed co-process`;
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
  return `IntervalJoin(${type}, keys=[${keys}]${where}${expiry}${band ? "" : specs}) → connect + keyBy + keyed co-process with event-time timers`;
}
