/** Bounded concurrency, for work that fans out over partitions or items. */

/**
 * Maps `items` through `fn`, at most `limit` calls in flight; resolves with the
 * results in input order (rejects with the first failure).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
