/**
 * The legacy group windows `GROUP BY …, TUMBLE(time, size)` and `HOP(time, slide, size)` with
 * `TUMBLE_START/END/ROWTIME(…)` and `HOP_START/END/ROWTIME(…)`: the same plan as the window table
 * function (`TABLE(TUMBLE(TABLE t, DESCRIPTOR(time), size))` grouped by `window_start` and
 * `window_end`), so that the one window aggregate runs both. (`SESSION(…)` is session-window.ts.)
 */
import type { Expr } from "./ast.ts";
import { type BindContext, binary, bindExpr, type ScopeColumn } from "./bind-expr.ts";
import { invalid, unsupported } from "./errors.ts";
import { type BoundExpr, fold } from "./expr.ts";
import { changelogMode, isUpdating, type Rel, type WindowSpec } from "./logical.ts";
import { INTERVAL, TIMESTAMP } from "./types.ts";

const ARGS = { TUMBLE: ["size"], HOP: ["slide", "size"] } as const;

/** A TUMBLE or HOP item of a GROUP BY, planned as a window table function over the input. */
export interface GroupWindow {
  readonly fn: "TUMBLE" | "HOP";
  /** The arguments as written (positions left out), which `…_START`/`…_END` must repeat. */
  readonly args: string;
  /** The window table function over the input: its columns, then window_start, window_end, window_time. */
  readonly rel: Rel;
  /** The input's columns, then the window's (named so that no query can name them). */
  readonly columns: readonly ScopeColumn[];
  /** The GROUP BY with the window replaced by its start and end columns (the start at `index`). */
  readonly groupBy: readonly Expr[];
  readonly index: number;
}

const argsKey = (args: readonly Expr[]) => JSON.stringify(args, (k, v) => (k === "pos" ? undefined : v));
const START = "$window_start";
const END = "$window_end";
const POS = { line: 0, column: 0 };

/** The TUMBLE/HOP group window of a GROUP BY over `input`, if it has one. */
export function groupWindowOf(
  groupBy: readonly Expr[],
  input: { readonly rel: Rel; readonly columns: readonly ScopeColumn[] },
): GroupWindow | undefined {
  const isWindow = (g: Expr) => g.kind === "call" && (g.name === "TUMBLE" || g.name === "HOP");
  const index = groupBy.findIndex(isWindow);
  const g = groupBy[index];
  if (g?.kind !== "call") return undefined;
  const fn = g.name as GroupWindow["fn"];
  if (groupBy.some((o, i) => i !== index && (isWindow(o) || (o.kind === "call" && o.name === "SESSION"))))
    throw invalid(g.pos, "GROUP BY has more than one group window");
  const names = ARGS[fn];
  if (g.args.length !== names.length + 1)
    throw invalid(g.pos, `${fn} takes a time attribute and ${names.map((n) => `an INTERVAL ${n}`).join(", ")}`);
  const ctx: BindContext = { columns: input.columns, clause: `${fn}(…)` };
  const time = bindExpr(g.args[0] as Expr, ctx);
  if (time.kind !== "input" || time.type.kind !== "TIMESTAMP")
    throw invalid(g.pos, `the first argument of ${fn} must be a TIMESTAMP(3) column (a time attribute)`);
  if (isUpdating(changelogMode(input.rel))) throw unsupported(g.pos, `a ${fn} window over an updating table`);
  const ms = g.args.slice(1).map((a) => {
    const v = fold(bindExpr(a, ctx));
    if (v.kind !== "literal" || v.type.kind !== "INTERVAL" || !((v.value as number) > 0))
      throw invalid(a.pos, `${fn} needs a positive INTERVAL here`);
    return v.value as number;
  });
  const sizeMs = ms[ms.length - 1] as number;
  const stepMs = ms[0] as number;
  if (sizeMs % stepMs !== 0) throw invalid(g.pos, `the size of ${fn} must be a multiple of its slide`);
  const proctime = time.type.proctime === true;
  const window: WindowSpec = { fn, sizeMs, stepMs, offsetMs: 0, ...(proctime ? { proctime } : {}) };
  const edges = [START, END, "$window_time"].map((name) => ({ name, type: TIMESTAMP }));
  const rel: Rel = {
    kind: "window-tvf",
    input: input.rel,
    window,
    time: time.index,
    fields: [...input.rel.fields, ...edges],
  };
  const column = (name: string): Expr => ({ kind: "column", path: [name], pos: g.pos });
  return {
    fn,
    args: argsKey(g.args),
    rel,
    columns: [...input.columns, ...edges],
    groupBy: [...groupBy.slice(0, index), column(START), column(END), ...groupBy.slice(index + 1)],
    index,
  };
}

/**
 * What `TUMBLE_START(…)`, `HOP_END(…)`, `TUMBLE_ROWTIME(…)` … read, if `e` is one of them: the
 * window's start or end (a GROUP BY column), or its rowtime (the end − 1 ms).
 */
export function groupWindowEdge(e: Expr, w: GroupWindow | undefined): "start" | "end" | "rowtime" | undefined {
  if (!w || e.kind !== "call") return undefined;
  const m = /^(TUMBLE|HOP)_(START|END|ROWTIME)$/.exec(e.name);
  if (!m) return undefined;
  if (m[1] !== w.fn || argsKey(e.args) !== w.args)
    throw invalid(e.pos, `${e.name} must repeat the arguments of the ${m[1]}(…) in GROUP BY`);
  return (m[2] as string).toLowerCase() as "start" | "end" | "rowtime";
}

/** A window's start or end column as `edge` reads it: itself, or for the rowtime the end − 1 ms. */
export function windowEdge(edge: "start" | "end" | "rowtime", column: BoundExpr): BoundExpr {
  return edge === "rowtime" ? binary("-", column, { kind: "literal", value: 1, type: INTERVAL }, POS) : column;
}
