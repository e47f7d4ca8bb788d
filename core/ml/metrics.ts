/** Evaluation of a binary classifier. */

import { MLUsageError } from "./errors.ts";

/**
 * The area under the ROC curve of `scores` for binary `labels` (1 positive, 0
 * negative): the probability that a random positive scores above a random negative,
 * ties counting one half (the Mann–Whitney statistic, from average ranks).
 */
export function areaUnderRoc(scores: readonly number[], labels: readonly (0 | 1)[]): number {
  if (scores.length !== labels.length) {
    throw new MLUsageError(`areaUnderRoc: ${scores.length} scores for ${labels.length} labels`);
  }
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (
      j < order.length &&
      (order[j] as readonly [number, number])[0] === (order[i] as readonly [number, number])[0]
    )
      j++;
    const rank = (i + 1 + j) / 2; // the average of ranks i+1 … j
    for (let t = i; t < j; t++) {
      if (labels[(order[t] as readonly [number, number])[1]] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) throw new MLUsageError("areaUnderRoc: needs both a positive and a negative");
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
