import { describe, expect, it } from "vitest";
import { areaUnderRoc } from "../../../core/ml/metrics.ts";
import { seededRandom } from "../../../core/ml/random.ts";

/** AUC by definition: over every (positive, negative) pair, 1 if the positive scores higher, ½ on a tie. */
function pairwise(scores: number[], labels: (0 | 1)[]): number {
  let sum = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((n, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      sum += p > n ? 1 : p === n ? 0.5 : 0;
    });
  });
  return sum / pairs;
}

describe("areaUnderRoc", () => {
  it("equals the pairwise definition, ties included", () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const labels = Array.from({ length: 300 }, () => (random() < 0.4 ? 1 : 0) as 0 | 1);
      // Coarse scores (many ties), loosely related to the label.
      const scores = labels.map((l) => Math.round((random() + 0.3 * l) * 10) / 10);
      expect(areaUnderRoc(scores, labels)).toBeCloseTo(pairwise(scores, labels), 12);
    }
  });

  it("is 1 for a perfect ranking, 0 for a reversed one, ½ when every score ties", () => {
    expect(areaUnderRoc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(areaUnderRoc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(areaUnderRoc([0.5, 0.5, 0.5], [0, 1, 0])).toBe(0.5);
  });

  it("refuses lengths that differ and a single class", () => {
    expect(() => areaUnderRoc([0.1], [0, 1])).toThrow(/1 scores for 2 labels/);
    expect(() => areaUnderRoc([0.1, 0.2], [1, 1])).toThrow(/both a positive and a negative/);
  });
});
