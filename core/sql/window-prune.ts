/**
 * Projection pushdown through a window table function (as Flink's
 * ProjectWindowTableFunctionTransposeRule): under a calc over TUMBLE/HOP/CUMULATE, the function's
 * input keeps only the columns that the calc reads and the time column, so the rows it copies per
 * window are narrower and the calc below it (the view's filter) builds only those: q5 and q7 keep
 * a bid's price (and auction) and time of its seven columns. Only over a calc, which the
 * projection merges into: the window function holds no state, so no operator or uid changes.
 */
import { inputsOf } from "./expr.ts";
import { positions, projected, reindex } from "./join-prune.ts";
import type { Field, Rel } from "./logical.ts";

type Calc = Extract<Rel, { kind: "calc" }>;

/**
 * `c` over a window TVF whose input is projected to the columns read above it and its time
 * column; `c` itself when every column is read. `optimize` optimizes the new calc below it.
 */
export function pruneWindowTvf(c: Calc, optimize: (rel: Rel) => Rel): Calc {
  const t = c.input;
  // Only into a calc below (a view's filter), which the projection merges into: a new operator
  // would move the uids of the stateful operators above it (their savepoints' state).
  if (t.kind !== "window-tvf" || t.input.kind !== "calc") return c;
  const n = t.input.fields.length;
  const used = new Set<number>([t.time]);
  for (const p of c.projects) for (const i of inputsOf(p)) if (i < n) used.add(i);
  if (c.filter) for (const i of inputsOf(c.filter)) if (i < n) used.add(i);
  if (used.size === n) return c;
  const keep = [...used].sort((a, b) => a - b);
  const at = positions(keep);
  const input = optimize(projected(t.input, keep));
  const tvf: Rel = {
    ...t,
    input,
    time: at.get(t.time) as number,
    fields: [...keep.map((i) => t.fields[i] as Field), ...t.fields.slice(n)],
  };
  // The window's columns follow the kept ones.
  const outAt = new Map(at);
  for (let i = n; i < t.fields.length; i++) outAt.set(i, keep.length + (i - n));
  const { filter, ...rest } = c;
  return {
    ...rest,
    input: tvf,
    projects: c.projects.map((p) => reindex(p, outAt, t.fields)),
    ...(filter ? { filter: reindex(filter, outAt, t.fields) } : {}),
  };
}
