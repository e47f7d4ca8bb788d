/**
 * Seeded synthetic data with a known answer, for examples, tests and benchmarks. Each
 * is a pure function of the record index (for `env.fromGenerator`, whose records do
 * not depend on splits or parallelism).
 */

import { gaussian, recordRandom } from "./random.ts";

/** A labelled row: a feature vector and its class. */
export interface LabelledRow {
  readonly features: number[];
  readonly label: 0 | 1;
}

/**
 * Rows on either side of a known plane: features are standard normal; the label is 1
 * when `coefficients·x + intercept + noise·ε > 0` (ε standard normal).
 */
export function separableRows(options: {
  readonly seed: number;
  readonly coefficients: readonly number[];
  readonly intercept: number;
  readonly noise?: number;
}): (index: number) => LabelledRow {
  return (index) => {
    const random = recordRandom(options.seed, index);
    const features = options.coefficients.map(() => gaussian(random));
    let margin = options.intercept + (options.noise ?? 0) * gaussian(random);
    features.forEach((x, i) => {
      margin += x * (options.coefficients[i] as number);
    });
    return { features, label: margin > 0 ? 1 : 0 };
  };
}

/** A point and the planted cluster it was drawn from. */
export interface ClusteredRow {
  readonly features: number[];
  readonly cluster: number;
}

/** Points around planted centres: a centre at random, plus `spread` × a standard normal per axis. */
export function blobRows(options: {
  readonly seed: number;
  readonly centres: readonly (readonly number[])[];
  readonly spread: number;
}): (index: number) => ClusteredRow {
  return (index) => {
    const random = recordRandom(options.seed, index);
    const cluster = Math.floor(random() * options.centres.length);
    const centre = options.centres[cluster] as readonly number[];
    return { features: centre.map((c) => c + options.spread * gaussian(random)), cluster };
  };
}
