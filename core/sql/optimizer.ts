/**
 * Rewrite rules over the logical plan, applied bottom-up until nothing changes:
 *
 * - calc merge (projection pushdown): a calc over a calc becomes one, computing only what the
 *   outer one reads; the inner filter and the outer one (rewritten) are AND-ed;
 * - filter pushdown: conjuncts of a filter over an aggregate that read only grouping keys move
 *   below the aggregate;
 * - projection pushdown into a join: its sides keep only the columns read above it (join-prune.ts);
 * - projection pushdown through a rank: its input keeps only the columns read above it and by
 *   its keys (rank-prune.ts), and through a window TVF (window-prune.ts);
 * - TopN: a filter `rn <= N` over `ROW_NUMBER() OVER (…)` becomes a rank (rank-rule.ts);
 * - constant folding in every expression; a filter that folds to TRUE goes away, and an
 *   identity calc is removed.
 */
import { call } from "./bind-expr.ts";
import { unsupported } from "./errors.ts";
import { type BoundExpr, conjuncts, fold, inputsOf, rewriteInputs } from "./expr.ts";
import { pruneJoin } from "./join-prune.ts";
import type { Rel } from "./logical.ts";
import { pruneRank } from "./rank-prune.ts";
import { checkWindows, toRank } from "./rank-rule.ts";
import { checkVersionKeys } from "./temporal-join.ts";
import { pruneWindowTvf } from "./window-prune.ts";

const POS = { line: 0, column: 0 };

/** The optimized plan. A join left without an equality between its sides is refused here. */
export function optimize(rel: Rel): Rel {
  const optimized = rewrite(rel);
  checkJoins(optimized);
  checkWindows(optimized);
  return optimized;
}

function checkJoins(rel: Rel): void {
  if (rel.kind === "join") {
    if (rel.leftKeys.length === 0) throw unsupported(rel.pos, "a join without an equality between its two sides");
    if (rel.temporal) checkVersionKeys(rel.rightKeys, rel.right, rel.temporal.table, rel.pos);
    checkJoins(rel.left);
    checkJoins(rel.right);
  } else if ("input" in rel) checkJoins(rel.input);
}

function rewrite(rel: Rel): Rel {
  switch (rel.kind) {
    case "scan":
      return rel;
    case "watermark":
      return { ...rel, input: rewrite(rel.input) };
    case "window-tvf":
    case "over":
    case "rank":
    case "lookup-join":
      return { ...rel, input: rewrite(rel.input) };
    case "join":
      return splitJoin({ ...rel, left: rewrite(rel.left), right: rewrite(rel.right) });
    case "aggregate":
      return windowAggregate({ ...rel, input: rewrite(rel.input) });
    case "calc":
      return simplifyCalc(
        pruneRank(
          toRank(
            pruneJoin(
              pushIntoJoin(
                pushThroughAggregate(pruneWindowTvf(mergeCalc({ ...rel, input: rewrite(rel.input) }), rewrite)),
              ),
              rewrite,
            ),
            andBoth,
          ),
          rewrite,
        ),
      );
  }
}

type Calc = Extract<Rel, { kind: "calc" }>;

function mergeCalc(outer: Calc): Calc {
  const inner = outer.input;
  if (inner.kind !== "calc") return outer;
  const replace = (i: number) => inner.projects[i] as BoundExpr;
  const projects = outer.projects.map((p) => rewriteInputs(p, replace));
  const outerFilter = outer.filter ? rewriteInputs(outer.filter, replace) : undefined;
  const filter = and(inner.filter, outerFilter);
  const { filter: _old, synthetic: _s, ...rest } = outer;
  // One calc's operators either way: the merged one is new to the plan only when both were.
  const synthetic = outer.synthetic && inner.synthetic;
  return { ...rest, input: inner.input, projects, ...(filter ? { filter } : {}), ...(synthetic ? { synthetic } : {}) };
}

function pushThroughAggregate(outer: Calc): Calc {
  const agg = outer.input;
  if (agg.kind !== "aggregate" || !outer.filter || agg.input.kind !== "calc") return outer;
  const keep: BoundExpr[] = [];
  const push: BoundExpr[] = [];
  for (const c of conjuncts(outer.filter)) {
    const onKeys = [...inputsOf(c)].every((i) => i < agg.groupKeys);
    (onKeys ? push : keep).push(c);
  }
  if (push.length === 0) return outer;
  const below = agg.input;
  const pushed = push.map((c) => rewriteInputs(c, (i) => below.projects[i] as BoundExpr));
  const newBelow: Calc = { ...below, filter: pushed.reduce((a, c) => and(a, c) as BoundExpr, below.filter) };
  const filter = keep.reduce<BoundExpr | undefined>((a, c) => and(a, c), undefined);
  return { ...outer, input: { ...agg, input: simplifyCalc(mergeCalc(newBelow)) }, filter };
}

type Join = Extract<Rel, { kind: "join" }>;

/** Filter pushdown into an inner join: a filter over it joins its condition (not an outer join's: it would keep padded rows). */
function pushIntoJoin(c: Calc): Calc {
  if (c.input.kind !== "join" || c.input.outer || !c.filter) return c;
  const { filter, ...rest } = c;
  return { ...rest, input: splitJoin({ ...c.input, condition: and(c.input.condition, filter) as BoundExpr }) };
}

/**
 * Splits a join's condition: a conjunct on one side's columns alone filters that side (filter
 * pushdown; of an outer join, only on the side that is padded with NULLs, since the other side
 * keeps every row); `l = r` with each side's expression on its own input becomes a key; the rest stays.
 */
function splitJoin(j: Join): Rel {
  if (!j.condition) return j;
  const n = j.left.fields.length;
  const side = (e: BoundExpr) => {
    const cols = [...inputsOf(e)];
    return cols.length === 0
      ? "none"
      : cols.every((i) => i < n)
        ? "left"
        : cols.every((i) => i >= n)
          ? "right"
          : "both";
  };
  const shift = (e: BoundExpr) =>
    rewriteInputs(e, (i) => ({
      kind: "input",
      index: i - n,
      type: (j.right.fields[i - n] as { type: BoundExpr["type"] }).type,
    }));
  const leftPreds: BoundExpr[] = [];
  const rightPreds: BoundExpr[] = [];
  const leftKeys = [...j.leftKeys];
  const rightKeys = [...j.rightKeys];
  let residual: BoundExpr | undefined;
  const pushLeft = !j.outer || j.outer === "RIGHT";
  // A temporal join's versioned side is never filtered first: that would pick an older version.
  const pushRight = (!j.outer || j.outer === "LEFT") && !j.temporal;
  for (const c of conjuncts(j.condition)) {
    const s = side(c);
    const [a, b] = c.kind === "call" && c.name === "=" ? (c.args as [BoundExpr, BoundExpr]) : [undefined, undefined];
    if (s === "left" && pushLeft) leftPreds.push(c);
    else if (s === "right" && pushRight) rightPreds.push(shift(c));
    else if (a && b && side(a) === "left" && side(b) === "right") {
      leftKeys.push(a);
      rightKeys.push(shift(b));
    } else if (a && b && side(a) === "right" && side(b) === "left") {
      leftKeys.push(b);
      rightKeys.push(shift(a));
    } else residual = and(residual, c);
  }
  const { condition: _old, ...rest } = j;
  return {
    ...rest,
    left: filtered(j.left, leftPreds),
    right: filtered(j.right, rightPreds),
    leftKeys,
    rightKeys,
    ...(residual ? { condition: residual } : {}),
  };
}

/** `rel` filtered by `preds` (optimized again, so the filter merges into a calc below). */
function filtered(rel: Rel, preds: readonly BoundExpr[]): Rel {
  if (preds.length === 0) return rel;
  const projects: BoundExpr[] = rel.fields.map((f, index) => ({ kind: "input", index, type: f.type }));
  const filter = preds.reduce<BoundExpr | undefined>((a, c) => and(a, c), undefined);
  return rewrite({ kind: "calc", input: rel, projects, fields: rel.fields, ...(filter ? { filter } : {}) });
}

/**
 * Window aggregation: an aggregate over a window TVF whose key holds `window_start` and
 * `window_end` emits each window once, at its end, instead of retracting.
 */
function windowAggregate(agg: Extract<Rel, { kind: "aggregate" }>): Rel {
  const pre = agg.input;
  if (pre.kind !== "calc" || pre.input.kind !== "window-tvf") return agg;
  const n = pre.input.input.fields.length;
  const keyOf = (column: number) =>
    pre.projects.slice(0, agg.groupKeys).findIndex((p) => p.kind === "input" && p.index === column);
  const start = keyOf(n);
  const end = keyOf(n + 1);
  return start >= 0 && end >= 0 ? { ...agg, window: { start, end } } : agg;
}

function simplifyCalc(c: Calc): Rel {
  const projects = c.projects.map(fold);
  const folded = c.filter ? fold(c.filter) : undefined;
  const filter = folded?.kind === "literal" && folded.value === true ? undefined : folded;
  const identity =
    !filter &&
    projects.length === c.input.fields.length &&
    projects.every((p, i) => p.kind === "input" && p.index === i) &&
    c.fields.every((f, i) => f.name === c.input.fields[i]?.name);
  if (identity) return c.input;
  const { filter: _old, ...rest } = c;
  return { ...rest, projects, ...(filter ? { filter } : {}) };
}

const andBoth = (a: BoundExpr | undefined, b: BoundExpr): BoundExpr => and(a, b) as BoundExpr;

function and(a: BoundExpr | undefined, b: BoundExpr | undefined): BoundExpr | undefined {
  if (!a) return b;
  if (!b) return a;
  return call("AND", [a, b], POS);
}
