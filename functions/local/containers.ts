/**
 * Lambda containers, emulated: each concurrent invocation runs in its own instance
 * of the handler (its own module-level caches), and a finished instance is reused
 * warm by the next invocation, most recently used first — as Lambda does. So a
 * partition can move between containers with different warm caches, which is what
 * riffle's conditional commits must handle.
 */

/** A pool of handler instances; `invoke` runs one invocation on an idle (or new) instance. */
export interface ContainerPool<E, C, R> {
  invoke(event: E, context: C): Promise<R>;
  /** Instances created so far (cold starts). */
  readonly coldStarts: number;
}

/** Builds a pool over `create`, which makes one fresh handler instance (a cold start). */
export function containerPool<E, C, R>(create: () => (event: E, context: C) => Promise<R>): ContainerPool<E, C, R> {
  const idle: ((event: E, context: C) => Promise<R>)[] = [];
  let cold = 0;
  return {
    get coldStarts() {
      return cold;
    },
    async invoke(event, context) {
      let instance = idle.pop();
      if (!instance) {
        instance = create();
        cold++;
      }
      try {
        return await instance(event, context);
      } finally {
        idle.push(instance);
      }
    },
  };
}
