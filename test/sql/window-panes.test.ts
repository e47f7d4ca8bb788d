/**
 * Panes (core/sql/window-panes.ts) against the windows of a time (core/sql/windows.ts): the windows
 * that hold a time are exactly those ending on the pane grid from its pane's first end to its last,
 * each holding the panes from its start up to its end.
 */
import { describe, expect, it } from "vitest";
import type { WindowSpec } from "../../core/sql/logical.ts";
import { panesOf } from "../../core/sql/window-panes.ts";
import { windowsOf } from "../../core/sql/windows.ts";

const SPECS: WindowSpec[] = [
  { fn: "TUMBLE", sizeMs: 10_000, stepMs: 10_000, offsetMs: 0 },
  { fn: "TUMBLE", sizeMs: 10_000, stepMs: 10_000, offsetMs: 3_000 },
  { fn: "HOP", sizeMs: 10_000, stepMs: 2_000, offsetMs: 0 },
  { fn: "HOP", sizeMs: 6_000, stepMs: 3_000, offsetMs: -1_000 },
  { fn: "CUMULATE", sizeMs: 8_000, stepMs: 2_000, offsetMs: 0 },
  { fn: "CUMULATE", sizeMs: 9_000, stepMs: 3_000, offsetMs: 1_000 },
];

/** The windows of `t` as panes see them. */
function viaPanes(spec: WindowSpec, t: number): [number, number][] {
  const panes = panesOf(spec);
  const p = panes.of(t);
  expect(p <= t && t < p + panes.step).toBe(true);
  const out: [number, number][] = [];
  for (let e = p + panes.step; e <= panes.lastEnd(p); e += panes.step) {
    expect(panes.startOf(e) <= p).toBe(true);
    out.push([panes.startOf(e), e]);
  }
  return out;
}

describe("window panes", () => {
  for (const spec of SPECS)
    it(`${spec.fn} of ${spec.sizeMs} ms by ${spec.stepMs} ms, offset ${spec.offsetMs} ms: the same windows as windowsOf`, () => {
      for (const t of [-25_001, -1, 0, 1, 1_999, 2_000, 2_001, 9_999, 10_000, 12_345, 99_999, 1_700_000_000_123]) {
        const sorted = (ws: [number, number][]) => [...ws].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(sorted(viaPanes(spec, t)), `t = ${t}`).toEqual(sorted(windowsOf(spec, t)));
      }
    });
});
