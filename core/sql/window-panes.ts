/**
 * Panes (Flink's slices) of the window table functions: the windows of a TUMBLE, HOP or CUMULATE
 * are unions of panes one step long (a HOP's slide, a CUMULATE's step, a TUMBLE's size), so a row
 * is added to its one pane, not to every window that holds it, and a window's accumulators are
 * its panes' merged when it fires (windows.ts lists the windows of a time).
 */
import type { WindowSpec } from "./logical.ts";

/** Where panes and windows of one window function lie (epoch ms). */
export interface Panes {
  /** The length of a pane; window ends lie on its grid. */
  readonly step: number;
  /** The start of the pane that holds time `t`. */
  readonly of: (t: number) => number;
  /** The end of the last window that holds pane `p` (the first is `p + step`). */
  readonly lastEnd: (p: number) => number;
  /** The start of the window that ends at `e`: it holds the panes in `[startOf(e), e)`. */
  readonly startOf: (e: number) => number;
}

/** The panes of `spec` (whose size is a multiple of its step, as the binder checks). */
export function panesOf(spec: WindowSpec): Panes {
  const { sizeMs: size, stepMs: step, offsetMs: offset } = spec;
  const floorTo = (x: number, unit: number) => x - ((((x - offset) % unit) + unit) % unit);
  const cumulate = spec.fn === "CUMULATE";
  return {
    step,
    of: (t) => floorTo(t, step),
    lastEnd: cumulate ? (p) => floorTo(p, size) + size : (p) => p + size,
    startOf: cumulate ? (e) => floorTo(e - 1, size) : (e) => e - size,
  };
}
