/**
 * Projection pushdown through a window table function (as Flink's
 * ProjectWindowTableFunctionTransposeRule): under a calc over TUMBLE/HOP/CUMULATE, the function's
 * input keeps only the columns that the calc reads and the time column, so the rows it copies per
 * window are narrower and the calc below it (the view's filter) builds only those: q5 and q7 keep
 * a bid's price (and auction) and time of its seven columns. Only over a calc, which the
 * projection merges into: the window function holds no state, so no operator or uid changes.
 */
import type { Field, Rel } from "./logical.ts";
import { columnsRead, overPruned, positions, projected } from "./prune.ts";

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
  const keep = columnsRead(c, n, [t.time]);
  if (keep.length === n) return c;
  const tvf: Rel = {
    ...t,
    input: optimize(projected(t.input, keep)),
    time: positions(keep).get(t.time) as number,
    fields: [...keep.map((i) => t.fields[i] as Field), ...t.fields.slice(n)], // the window's columns after them
  };
  return overPruned(c, tvf, keep, n);
}
