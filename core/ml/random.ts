/**
 * Seeded randomness for the ML package: model code never calls `Math.random`, so a
 * fit, a restore and a replay see the same numbers. {@link recordRandom} gives record
 * `i` of a generator its own stream, so `env.fromGenerator(fn)` yields the same
 * records whatever the splits and parallelism.
 */

/** A 32-bit seeded generator (mulberry32) of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator of record `index` under `seed`: a pure function of both. */
export function recordRandom(seed: number, index: number): () => number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index >>> 0, 0xc2b2ae35);
  h ^= Math.floor(index / 4294967296);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return seededRandom(h ^ (h >>> 15));
}

/** A standard normal sample from `random` (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
