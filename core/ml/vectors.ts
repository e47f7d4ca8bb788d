/** The little linear algebra the learners share. */

import type { Vector } from "./stage.ts";

/** The dot product of two vectors of the same length. */
export function dot(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** The squared Euclidean distance between two vectors of the same length. */
export function squaredDistance(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    s += d * d;
  }
  return s;
}

/** The index of the centre nearest to `x` (the first, on a tie). */
export function nearest(centres: readonly Vector[], x: Vector): number {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let j = 0; j < centres.length; j++) {
    const d = squaredDistance(centres[j] as Vector, x);
    if (d < bestD) {
      best = j;
      bestD = d;
    }
  }
  return best;
}

/** The logistic function. */
export function sigmoid(t: number): number {
  return 1 / (1 + Math.exp(-t));
}
