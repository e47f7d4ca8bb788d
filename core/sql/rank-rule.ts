/**
 * The optimizer's TopN rule, as Flink's FlinkLogicalRankRule: a filter bounding a
 * `ROW_NUMBER() OVER (…)` column from above (`rn <= N`, `rn < N`, `rn = 1`) over the `over` node
 * becomes a `rank` node keeping the first N rows per partition. The row number stays in the
 * output only when something above reads it (checked again when a calc above merges in). Over
 * an insert-only input partitioned by a window's `window_end`, the rank is a window TopN. Also the checks of window functions left after
 * the rules ran: a ROW_NUMBER without such a filter.
 */
import { unsupported } from "./errors.ts";
import { type BoundExpr, conjuncts, inputsOf } from "./expr.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";

type Calc = Extract<Rel, { kind: "calc" }>;

/** The upper bound on column `rn` that conjunct `c` sets, if it sets one. */
function upperBound(c: BoundExpr, rn: number): number | undefined {
  if (c.kind !== "call" || c.args.length !== 2) return undefined;
  const [a, b] = c.args as [BoundExpr, BoundExpr];
  const flip: Record<string, string> = { "<=": ">=", "<": ">", "=": "=", ">=": "<=", ">": "<" };
  const isRn = (e: BoundExpr) => e.kind === "input" && e.index === rn;
  const literal = (e: BoundExpr) =>
    e.kind === "literal" && Number.isInteger(e.value) ? (e.value as number) : undefined;
  let op = c.name;
  let v = isRn(a) ? literal(b) : undefined;
  if (v === undefined && isRn(b)) {
    v = literal(a);
    op = flip[op] ?? "";
  }
  if (v === undefined) return undefined;
  if (op === "<=" || op === "=") return v;
  if (op === "<") return v - 1;
  return undefined;
}

/** The input columns a calc reads. */
function reads(c: Pick<Calc, "projects" | "filter">): Set<number> {
  const columns = new Set<number>();
  for (const p of c.projects) inputsOf(p, columns);
  if (c.filter) inputsOf(c.filter, columns);
  return columns;
}

/** `c` with its `over` input made a `rank` when its filter bounds the row number; otherwise `c`. */
export function toRank(c: Calc, and: (a: BoundExpr | undefined, b: BoundExpr) => BoundExpr): Calc {
  const over = c.input;
  if (over.kind === "rank" && over.rowNumber && !reads(c).has(over.input.fields.length))
    return { ...c, input: { ...over, rowNumber: false, fields: over.input.fields } };
  if (over.kind !== "over" || over.calls.length !== 1 || over.calls[0]?.fn !== "ROW_NUMBER" || !c.filter) return c;
  const rn = over.input.fields.length;
  let limit: number | undefined;
  let residual: BoundExpr | undefined;
  for (const x of conjuncts(c.filter)) {
    const bound = upperBound(x, rn);
    if (bound !== undefined) limit = Math.min(limit ?? bound, bound);
    // `rn = 1` and `rn <= N` say all there is; `rn = 3` also says rn >= 3.
    if (bound === undefined || (x.kind === "call" && x.name === "=" && bound !== 1)) residual = and(residual, x);
  }
  if (limit === undefined) return c;
  if (limit < 1) limit = 0;
  const rowNumber = reads({ projects: c.projects, ...(residual ? { filter: residual } : {}) }).has(rn);
  const windowEnd = isUpdating(changelogMode(over.input))
    ? undefined
    : over.window.partitionKeys.find((k) => isWindowEnd(over.input, k));
  const rank: Rel = {
    kind: "rank",
    input: over.input,
    partitionKeys: over.window.partitionKeys,
    orderBy: over.window.orderBy,
    limit,
    rowNumber,
    fields: rowNumber ? over.fields : over.input.fields,
    ...(windowEnd === undefined ? {} : { windowEnd }),
  };
  const { filter: _old, ...rest } = c;
  return { ...rest, input: rank, ...(residual ? { filter: residual } : {}) };
}

/** Whether column `column` of `rel` is a window's `window_end` (of a window TVF or a window aggregate's key). */
function isWindowEnd(rel: Rel, column: number): boolean {
  switch (rel.kind) {
    case "window-tvf":
      return column === rel.input.fields.length + 1;
    case "aggregate":
      return rel.window?.end === column;
    case "watermark":
      return isWindowEnd(rel.input, column);
    case "calc": {
      const p = rel.projects[column];
      return p?.kind === "input" && isWindowEnd(rel.input, p.index);
    }
    default:
      return false;
  }
}

/** Refuses the window functions no operator runs. */
export function checkWindows(rel: Rel): void {
  if (rel.kind === "over") {
    if (rel.calls.some((c) => c.fn === "ROW_NUMBER"))
      throw unsupported(
        rel.pos,
        "ROW_NUMBER() OVER (…) without a filter 'rn <= N' or 'rn = 1' on it in the query around it (TopN)",
      );
  }
  if (rel.kind === "join") {
    checkWindows(rel.left);
    checkWindows(rel.right);
  } else if ("input" in rel) checkWindows(rel.input);
}
