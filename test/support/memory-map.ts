/** Keyed state in memory, for driving a keyed function (a join's sides) by hand. */
import type { MapState, ValueState } from "../../core/api/state.ts";

/** A value state in memory. */
export function memoryValue<V>(): ValueState<V> {
  let v: V | undefined;
  return {
    value: () => v,
    update: (x) => {
      v = x;
    },
    clear: () => {
      v = undefined;
    },
  };
}

/** A map state in memory. */
export function memoryMap<V>(): MapState<V> {
  const m = new Map<string, V>();
  return {
    get: (k) => m.get(k),
    put: (k, v) => void m.set(k, v),
    remove: (k) => void m.delete(k),
    has: (k) => m.has(k),
    entries: () => [...m.entries()],
    size: () => m.size,
    clear: () => m.clear(),
  };
}
