/** Bounded concurrency, for work that fans out over partitions or items. */

/**
 * At most `limit` tasks running at once, across every caller that shares it; the
 * others wait and start in the order they were handed over (first in, first out),
 * so work handed over earlier (a slice's requests) goes before later work (the
 * next slice's, started ahead).
 */
export class Limiter {
  private readonly limit: number;
  private readonly onSpare: (() => void) | undefined;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** `onSpare` runs whenever a task ends and no other waits for its place. */
  constructor(limit: number, onSpare?: () => void) {
    this.limit = limit;
    this.onSpare = onSpare;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`a limit must be a positive integer, got ${limit}`);
  }

  /** Runs `fn` once a place is free; settles as it does. */
  async run<R>(fn: () => Promise<R>): Promise<R> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // hands its place straight over
      else {
        this.running--;
        this.onSpare?.();
      }
    }
  }
}

/**
 * Maps `items` through `fn`, at most `limit` calls in flight, started in input order;
 * resolves with the results in input order (rejects with the first failure).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const limiter = new Limiter(limit);
  return Promise.all(items.map((t) => limiter.run(() => fn(t))));
}
