/**
 * `PROCTIME()`: the processing time of the runtime's clock (the clock that fires processing-time
 * timers, and a test's manual clock), read where the row is computed. A calc that computes it runs
 * as a process function, which sets the clock its expressions read for the row.
 */
import type { DataStream } from "../api/datastream.ts";
import type { Change } from "./aggregate.ts";
import { generate, generateRow } from "./codegen.ts";
import type { BoundExpr, Row } from "./expr.ts";
import type { ScalarFn } from "./functions.ts";
import type { Rel } from "./logical.ts";
import { PROCTIME } from "./types.ts";

/** The timers of the row being computed (their clock is what `PROCTIME()` reads), else the system clock. */
let clock: { currentProcessingTime(): number } | undefined;

/** The function behind `PROCTIME()` (volatile: never folded at plan time). */
export const proctimeFunction: ScalarFn = {
  volatile: true,
  nullAware: true,
  type: () => PROCTIME,
  make: () => () => (clock === undefined ? Date.now() : clock.currentProcessingTime()),
};

/** True when `e` calls `PROCTIME()`. */
function readsClock(e: BoundExpr): boolean {
  switch (e.kind) {
    case "call":
      return e.fn === proctimeFunction || e.args.some(readsClock);
    case "case":
      return e.whens.some((w) => readsClock(w.when) || readsClock(w.result)) || readsClock(e.else);
    case "field":
    case "cast":
    case "is-null":
      return readsClock(e.expr);
    default:
      return false;
  }
}

type Calc = Extract<Rel, { kind: "calc" }>;

/** True when the calc computes `PROCTIME()`. */
export const calcReadsClock = (rel: Calc): boolean =>
  rel.projects.some(readsClock) || (rel.filter !== undefined && readsClock(rel.filter));

/** A calc that computes `PROCTIME()`, as a process function over rows (or changes, when `updating`). */
export function proctimeCalc(rel: Calc, input: DataStream<unknown>, updating: boolean): DataStream<unknown> {
  const test = rel.filter ? generate(rel.filter) : undefined;
  const project = generateRow(rel.projects);
  const apply = (row: Row): Row | undefined => (test && test(row) !== true ? undefined : project(row));
  return input.process<unknown>({
    processElement(value, ctx) {
      const before = clock;
      clock = ctx.timers;
      try {
        if (!updating) {
          const out = apply(value as Row);
          if (out) ctx.emit(out);
          return;
        }
        const change = value as Change;
        const out = apply(change.row);
        if (out) ctx.emit({ kind: change.kind, row: out } satisfies Change);
      } finally {
        clock = before;
      }
    },
  });
}
