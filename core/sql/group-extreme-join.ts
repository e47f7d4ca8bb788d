/**
 * The group extreme join: the other shape of a relation joined with its own extreme
 * (extreme-join.ts has the window one). An insert-only relation joined on its grouping keys with
 * its own group aggregate `MAX(v)` (or `MIN`), under `v >= max` (`v <= min`, or `v = …`), is the
 * rows that hold their group's extreme: Nexmark q5's "the auctions with the most bids per
 * window", where the relation is the per-auction window counts and the aggregate their maximum
 * per window.
 *
 * Flink runs a group aggregate that retracts its maximum each time it grows, and a regular join
 * of those changes that retracts joined rows in turn. This runs both in one operator keyed by
 * the grouping key: per group, the running extreme and the rows at it. A row above it retracts
 * the rows emitted at the old extreme (`-D`) and is emitted (`+I`); a row at it is emitted; a
 * row below it is dropped, since it can never reach the extreme again (the input only inserts).
 * Its changelog folds to what the join's does. The whole join condition is evaluated on each
 * pair, against the aggregate's row as the group aggregate would have made it.
 */
import type { KeyedContext, KeyedProcessFunction } from "../api/functions.ts";
import { valueState } from "../api/state.ts";
import type { Key } from "../keys.ts";
import type { Change } from "./aggregate.ts";
import { generate } from "./codegen.ts";
import { type BoundExpr, conjuncts, inputsOf, type Row } from "./expr.ts";
import { base, extremeAggregate, over, sameValue, shape } from "./extreme-join.ts";
import { hasNull } from "./join.ts";
import type { JoinCode } from "./join-code.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";

type Join = Extract<Rel, { kind: "join" }>;

/** A join that runs as the group extreme join: what the operator needs of the plan. */
export interface GroupExtreme {
  readonly fn: "MAX" | "MIN";
  /** The value the extreme is taken of, over a left row. */
  readonly value: BoundExpr;
  /** The aggregate's grouping keys (in its order) over a left row: the operator's key. */
  readonly keys: readonly BoundExpr[];
  /** The right side's columns, as the aggregate row's (a calc that renames or reorders only). */
  readonly right: readonly number[];
}

/** The group extreme join `j` runs as, if it has the shape (see the module comment). */
export function groupExtremeOf(j: Join): GroupExtreme | undefined {
  if (j.outer || j.temporal || isUpdating(changelogMode(j.left))) return undefined;
  const found = extremeAggregate(j.right);
  if (!found || found.agg.window) return undefined;
  const { agg, right, call } = found;
  const left = base(j.left);
  const fed = base(agg.input);
  if (call.arg === undefined || !left || !fed) return undefined;
  if (shape(left.input) !== shape(fed.input) || shape(left.filter) !== shape(fed.filter)) return undefined;
  const g = agg.groupKeys;
  const same = (e: BoundExpr, column: number) => shape(over(e, left.projects)) === shape(fed.projects[column]);
  const keys: (BoundExpr | undefined)[] = new Array(g).fill(undefined);
  let value: BoundExpr | undefined; // `v = extreme` as a key pair
  for (let p = 0; p < j.leftKeys.length; p++) {
    const lk = j.leftKeys[p] as BoundExpr;
    const rk = j.rightKeys[p];
    const i = rk?.kind === "input" ? right[rk.index] : undefined;
    if (i === g && value === undefined) value = lk;
    else if (i === undefined || i >= g || keys[i] !== undefined || !same(lk, i)) return undefined;
    else keys[i] = lk;
  }
  value ??= boundedValue(j, call.fn, right.indexOf(g));
  if (g === 0 || keys.includes(undefined) || !value || !same(value, call.arg)) return undefined;
  return { fn: call.fn, value, keys: keys as BoundExpr[], right };
}

/**
 * The left expression `v` of a conjunct `v >= extreme` (MAX; `v <= extreme` for MIN, either way
 * round, or `v = extreme`) of `j`'s condition, where `extreme` is right column `column`.
 */
function boundedValue(j: Join, fn: "MAX" | "MIN", column: number): BoundExpr | undefined {
  const n = j.left.fields.length;
  const isExtreme = (e: BoundExpr) => e.kind === "input" && e.index === n + column;
  const onLeft = (e: BoundExpr) => [...inputsOf(e)].every((i) => i < n);
  const atLeast = fn === "MAX" ? ">=" : "<=";
  const atMost = fn === "MAX" ? "<=" : ">=";
  for (const c of conjuncts(j.condition as BoundExpr)) {
    if (c.kind !== "call" || c.args.length !== 2) continue;
    const [a, b] = c.args as [BoundExpr, BoundExpr];
    if (column >= 0 && isExtreme(b) && onLeft(a) && (c.name === atLeast || c.name === "=")) return a;
    if (column >= 0 && isExtreme(a) && onLeft(b) && (c.name === atMost || c.name === "=")) return b;
  }
  return undefined;
}

/** One group's state: its running extreme and its rows at it, in arrival order. */
interface Top {
  readonly best: unknown;
  readonly rows: readonly Row[];
}
type State = { top: ReturnType<typeof valueState<Top>> };

/**
 * The keyed process function of the group extreme join, keyed by `top.keys` (one value, or an
 * array of them), emitting the join's changes.
 */
export function groupExtremeJoin(top: GroupExtreme, code: JoinCode): KeyedProcessFunction<Row, Key, State, Change> {
  const extremeValue = generate(top.value);
  const max = top.fn === "MAX";
  const above = (v: unknown, best: unknown) =>
    max ? (v as number) > (best as number) : (v as number) < (best as number);
  const single = top.keys.length === 1;
  /** The right side's row of group `key` whose extreme is `best`. */
  const rightRow = (key: Key, best: unknown): Row => {
    const agg: unknown[] = single ? [key, best] : [...(key as readonly Key[]), best];
    return top.right.map((i) => agg[i]);
  };
  const emit = (kind: "+I" | "-D", rows: readonly Row[], right: Row, ctx: KeyedContext<Key, State, Change>) => {
    for (const l of rows)
      if (!code.residual || code.residual(l, right) === true) ctx.emit({ kind, row: code.concat(l, right) });
  };
  const bundle = (values: readonly Row[], ctx: KeyedContext<Key, State, Change>) => {
    if (hasNull(ctx.key)) return; // a NULL key equals nothing
    const before = ctx.state.top.value();
    let best = before?.best;
    let rows: Row[] | undefined;
    let added: Row[] = [];
    for (const row of values) {
      const v = extremeValue(row);
      if (v === null || v === undefined) continue; // the aggregate skips it, and it compares to nothing
      if (best === undefined || above(v, best)) {
        best = v;
        rows = [row];
        added = rows;
      } else if (sameValue(v, best)) {
        rows ??= [...(before?.rows ?? [])];
        if (added !== rows) added.push(row);
        rows.push(row);
      }
    }
    if (!rows) return;
    if (before && !sameValue(before.best, best)) emit("-D", before.rows, rightRow(ctx.key, before.best), ctx);
    emit("+I", added, rightRow(ctx.key, best), ctx);
    ctx.state.top.update({ best, rows });
  };
  return {
    state: { top: valueState<Top>() },
    processElement: (row, ctx) => bundle([row], ctx),
    processBundle: bundle,
  };
}
