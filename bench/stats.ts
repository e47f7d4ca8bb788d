/** Small statistics helpers of the benchmark. */

/** The `q` quantile of `xs` (nearest rank, 0 when empty), to three decimals. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0).toFixed(3));
}
