/**
 * Time bounds of a join of two insert-only inputs (what makes Flink's interval join): when its
 * condition bounds one side's event time from above by the other side's row, that row's state
 * can go once the watermark passes the bound, since every later row of the first side comes
 * after the watermark.
 *
 * An event-time column is one whose value, on every row that reaches the join, is above the
 * join's watermark at that moment (late rows aside, as for every event-time operator): a
 * WATERMARK's rowtime column, through calcs that pass it on, and the `window_end` of an
 * event-time window aggregate (emitted once the watermark reaches `window_end - 1`, before that
 * watermark is passed on). A conjunct `X.t + c <= e(Y)` (also `<`, `>=`, `>`, BETWEEN's halves,
 * and an equi-key `X.t = e(Y)`), with `X.t` an event-time column of one side and `e` reading only
 * the other side, means a row `y` of side Y joins no row of X that comes once the watermark is
 * at or past `e(y) - c`: that is `y`'s expiry. A side with several such conjuncts expires at the
 * earliest; one with none keeps its rows, as a regular join does.
 *
 * Late rows (time at or below the watermark) join the rows still stored, as in Flink's interval
 * join: a partner that expired before they came is not found.
 */
import { generate } from "./codegen.ts";
import { type BoundExpr, type Compiled, conjuncts, inputsOf, rewriteInputs } from "./expr.ts";
import { changelogMode, type Field, isUpdating, type Rel } from "./logical.ts";

type Join = Extract<Rel, { kind: "join" }>;

/** One upper bound on the other side's event time: `expr` (over this side's row) minus `shift` ms. */
interface Bound {
  readonly expr: BoundExpr;
  readonly shift: number;
}

/** Per side, the bounds that make its rows expire (over that side's own row); empty when none. */
export interface JoinBounds {
  readonly left: readonly Bound[];
  readonly right: readonly Bound[];
}

/**
 * The columns of `rel` that are event-time columns (see the module comment): every row that
 * reaches an operator above holds a value greater than that operator's watermark there.
 */
export function eventTimeColumns(rel: Rel): ReadonlySet<number> {
  switch (rel.kind) {
    case "watermark":
      return new Set([rel.time]);
    case "calc": {
      const below = eventTimeColumns(rel.input);
      const out = new Set<number>();
      rel.projects.forEach((p, i) => {
        if (p.kind === "input" && below.has(p.index)) out.add(i);
      });
      return out;
    }
    case "aggregate":
      return rel.window && !rel.session && !proctimeWindow(rel.input) ? new Set([rel.window.end]) : new Set();
    default:
      return new Set();
  }
}

/** True when the window TVF below an aggregate's calc is over processing time (it fires on the clock). */
function proctimeWindow(rel: Rel): boolean {
  if (rel.kind === "window-tvf") return rel.window.proctime === true;
  return rel.kind === "calc" ? proctimeWindow(rel.input) : true;
}

/**
 * The inequalities `lo <= hi` that `j`'s condition and equi-keys state (`<` and `>` loosened, `=`
 * both ways), and which of its columns are event-time columns (the right side's after the
 * left's); none for an outer or temporal join, or over an updating input (a retraction must
 * find its partners).
 */
export function joinInequalities(j: Join): {
  readonly pairs: readonly (readonly [lo: BoundExpr, hi: BoundExpr])[];
  readonly isTime: (column: number) => boolean;
} {
  if (j.outer || j.temporal || isUpdating(changelogMode(j.left)) || isUpdating(changelogMode(j.right)))
    return { pairs: [], isTime: () => false };
  const n = j.left.fields.length;
  const leftTimes = eventTimeColumns(j.left);
  const rightTimes = new Set([...eventTimeColumns(j.right)].map((i) => i + n));
  const pairs: [BoundExpr, BoundExpr][] = [];
  for (const c of j.condition ? conjuncts(j.condition) : []) {
    if (c.kind !== "call" || c.args.length !== 2) continue;
    const [a, b] = c.args as [BoundExpr, BoundExpr];
    if (c.name === "<=" || c.name === "<") pairs.push([a, b]);
    else if (c.name === ">=" || c.name === ">") pairs.push([b, a]);
    else if (c.name === "=") pairs.push([a, b], [b, a]);
  }
  j.leftKeys.forEach((l, i) => {
    const r = rewriteInputs(j.rightKeys[i] as BoundExpr, (k) => ({
      kind: "input",
      index: k + n,
      type: (j.right.fields[k] as Field).type,
    }));
    pairs.push([l, r], [r, l]);
  });
  return { pairs, isTime: (i) => leftTimes.has(i) || rightTimes.has(i) };
}

/** The time bounds of `j` (none where {@link joinInequalities} finds none). */
export function joinBounds(j: Join): JoinBounds {
  const n = j.left.fields.length;
  const { pairs, isTime } = joinInequalities(j);
  const bounds: { left: Bound[]; right: Bound[] } = { left: [], right: [] };
  const sideOf = (e: BoundExpr) => {
    const cols = [...inputsOf(e)];
    if (cols.length > 0 && cols.every((i) => i < n)) return "left";
    return cols.length > 0 && cols.every((i) => i >= n) ? "right" : undefined;
  };
  // `lo <= hi`: when `lo` is one side's event time plus a constant and `hi` reads only the other side, a bound for that side.
  for (const [lo, hi] of pairs) {
    const time = shiftedTime(lo, isTime);
    const other = sideOf(hi);
    if (!time || !other || time.column < n === (other === "left")) continue;
    const expr = other === "left" ? hi : onRight(hi, n, j);
    bounds[other].push({ expr, shift: time.shift });
  }
  return bounds;
}

/** `e` as `column + shift` when it is an event-time column plus or minus a literal. */
export function shiftedTime(
  e: BoundExpr,
  isTime: (i: number) => boolean,
): { column: number; shift: number } | undefined {
  if (e.kind === "input") return isTime(e.index) ? { column: e.index, shift: 0 } : undefined;
  if (e.kind !== "call" || (e.name !== "+" && e.name !== "-") || e.args.length !== 2) return undefined;
  const [a, b] = e.args as [BoundExpr, BoundExpr];
  const literal = (x: BoundExpr) => (x.kind === "literal" && typeof x.value === "number" ? x.value : undefined);
  if (a.kind === "input" && isTime(a.index) && literal(b) !== undefined)
    return { column: a.index, shift: e.name === "+" ? (literal(b) as number) : -(literal(b) as number) };
  if (e.name === "+" && b.kind === "input" && isTime(b.index) && literal(a) !== undefined)
    return { column: b.index, shift: literal(a) as number };
  return undefined;
}

/** `e`, over the join's row but reading only the right side's columns, as an expression over the right row. */
function onRight(e: BoundExpr, n: number, j: Join): BoundExpr {
  return rewriteInputs(e, (i) => ({ kind: "input", index: i - n, type: (j.right.fields[i - n] as Field).type }));
}

/**
 * A side's expiry: the watermark from which a stored row of the side joins nothing that is
 * still to come (the earliest of its bounds; -Infinity when a bound is NULL, which matches
 * nothing); undefined when the side has no bound.
 */
export function expiryOf(bounds: readonly Bound[]): Compiled | undefined {
  if (bounds.length === 0) return undefined;
  const fns = bounds.map((b) => [generate(b.expr), b.shift] as const);
  if (fns.length === 1) {
    const [f, shift] = fns[0] as (typeof fns)[number];
    return (row) => {
      const v = f(row);
      return typeof v === "number" ? v - shift : Number.NEGATIVE_INFINITY;
    };
  }
  return (row) => {
    let at = Number.POSITIVE_INFINITY;
    for (const [f, shift] of fns) {
      const v = f(row);
      if (typeof v !== "number") return Number.NEGATIVE_INFINITY;
      at = Math.min(at, v - shift);
    }
    return at;
  };
}
