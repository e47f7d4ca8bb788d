/**
 * Rewrite rules over the logical plan, applied bottom-up until nothing changes:
 *
 * - calc merge (projection pushdown): a calc over a calc becomes one, computing only what the
 *   outer one reads; the inner filter and the outer one (rewritten) are AND-ed;
 * - filter pushdown: conjuncts of a filter over an aggregate that read only grouping keys move
 *   below the aggregate;
 * - constant folding in every expression; a filter that folds to TRUE goes away, and an
 *   identity calc is removed.
 */
import { call } from "./bind-expr.ts";
import { type BoundExpr, fold, inputsOf, rewriteInputs } from "./expr.ts";
import type { Rel } from "./logical.ts";

const POS = { line: 0, column: 0 };

/** The optimized plan. */
export function optimize(rel: Rel): Rel {
  switch (rel.kind) {
    case "scan":
      return rel;
    case "watermark":
      return { ...rel, input: optimize(rel.input) };
    case "window-tvf":
      return { ...rel, input: optimize(rel.input) };
    case "aggregate":
      return windowAggregate({ ...rel, input: optimize(rel.input) });
    case "calc":
      return simplifyCalc(pushThroughAggregate(mergeCalc({ ...rel, input: optimize(rel.input) })));
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
  const { filter: _old, ...rest } = outer;
  return { ...rest, input: inner.input, projects, ...(filter ? { filter } : {}) };
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

function conjuncts(e: BoundExpr): BoundExpr[] {
  return e.kind === "call" && e.name === "AND" ? e.args.flatMap(conjuncts) : [e];
}

function and(a: BoundExpr | undefined, b: BoundExpr | undefined): BoundExpr | undefined {
  if (!a) return b;
  if (!b) return a;
  return call("AND", [a, b], POS);
}
