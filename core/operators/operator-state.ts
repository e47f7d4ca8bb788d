/** Operator (non-keyed) list state over a partition's committed state; see `ProcessContext.getListState`. */

import { type ListState, operatorListKey } from "../api/state.ts";
import type { TaskServices } from "./operator.ts";

/** `getListState(name)` of operator `uid`: handles over the partition state, made once per name. */
export function operatorListStates(uid: string, services: TaskServices): (name: string) => ListState<unknown> {
  const handles = new Map<string, ListState<unknown>>();
  return (name) => {
    let h = handles.get(name);
    if (!h) {
      const key = operatorListKey(uid, name);
      const get = () => (services.operatorState.get(key) as unknown[] | undefined) ?? [];
      h = {
        get,
        add: (v) => services.operatorState.set(key, [...get(), v]),
        update: (vs) => services.operatorState.set(key, [...vs]),
        clear: () => services.operatorState.set(key, []),
      };
      handles.set(name, h);
    }
    return h;
  };
}
