/** The windows of the window table functions TUMBLE, HOP and CUMULATE (epoch ms). */
import type { WindowSpec } from "./logical.ts";

/** `[start, end)` of every window of `spec` that holds time `t`, in increasing start order. */
export function windowsOf(spec: WindowSpec, t: number): [number, number][] {
  const { sizeMs: size, stepMs: step, offsetMs: offset } = spec;
  const floorTo = (x: number, unit: number) => x - ((((x - offset) % unit) + unit) % unit);
  if (spec.fn === "TUMBLE") {
    const start = floorTo(t, size);
    return [[start, start + size]];
  }
  if (spec.fn === "HOP") {
    const out: [number, number][] = [];
    for (let start = floorTo(t, step); start > t - size; start -= step) out.unshift([start, start + size]);
    return out;
  }
  const start = floorTo(t, size);
  const out: [number, number][] = [];
  for (let end = floorTo(t, step) + step; end <= start + size; end += step) out.push([start, end]);
  return out;
}
