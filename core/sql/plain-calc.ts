/** Which calcs run as plain code: the rule shared by the fusions of a calc into a scan or a join. */
import type { BoundExpr } from "./expr.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";
import { calcReadsClock } from "./proctime.ts";
import { remoteCalls } from "./remote-udf.ts";

type Calc = Extract<Rel, { kind: "calc" }>;

/** A calc's projections, then its filter. */
export const calcExprs = (rel: Calc): BoundExpr[] => (rel.filter ? [...rel.projects, rel.filter] : [...rel.projects]);

/** True when `rel` is a calc that runs as plain code (`insertOnlyCalc`): insert-only, reading no clock, calling no remote function. */
export function isPlainCalc(rel: Rel): rel is Calc {
  return (
    rel.kind === "calc" &&
    !isUpdating(changelogMode(rel.input)) &&
    !calcReadsClock(rel) &&
    remoteCalls(calcExprs(rel)).length === 0
  );
}
