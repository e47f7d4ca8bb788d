/**
 * Broadcast state over a partition's committed operator state: each map is one
 * value under `bcast:<uid>/<name>` (entries by encoded key), written with the batch
 * like source positions and operator list state, so it is exactly-once across
 * crashes and restores. Every partition holds its own, identical copy. Keys and
 * values are checked when put, and stored with the state codec, as keyed state values are.
 */

import type { BroadcastState, MapStateDescriptor, ReadOnlyBroadcastState } from "../api/broadcast.ts";
import type { StateCodec } from "../api/state.ts";
import { JobDefinitionError } from "../errors.ts";
import { encodeKey, type Key } from "../keys.ts";
import type { TaskServices } from "./operator.ts";
import { stateValues } from "./state-handles.ts";

/** The partition-state key prefix of broadcast state (savepoints copy these to every new partition). */
export const BROADCAST_STATE_PREFIX = "bcast:";

/** The partition-state key of broadcast state `name` of operator `uid`. */
export function broadcastStateKey(uid: string, name: string): string {
  return `${BROADCAST_STATE_PREFIX}${uid}/${name}`;
}

type Entries = Readonly<Record<string, readonly [Key, unknown]>>;

/** Reads broadcast state of operator `uid`: `(descriptor, writable)` → a handle, made once per name. */
export type BroadcastStates = <K extends Key, V>(
  descriptor: MapStateDescriptor<K, V>,
  writable: boolean,
) => BroadcastState<K, V> | ReadOnlyBroadcastState<K, V>;

/**
 * Broadcast state handles of operator `uid` over its partition's state. Only the
 * descriptors `declared` (those given to `broadcast(…)`) may be read or written.
 */
export function broadcastStates(
  uid: string,
  services: TaskServices,
  declared: readonly MapStateDescriptor<Key, unknown>[],
  codec: StateCodec,
): BroadcastStates {
  const codecs = new Map(declared.map((d) => [d.name, d.codec ?? codec]));
  const handles = new Map<string, BroadcastState<Key, unknown>>();
  const readOnly = new Map<string, ReadOnlyBroadcastState<Key, unknown>>();
  const make = (name: string): BroadcastState<Key, unknown> => {
    const key = broadcastStateKey(uid, name);
    const io = stateValues(uid, name, codecs.get(name) ?? "json");
    const read = io.read ?? ((v: unknown) => v);
    const all = () => (services.operatorState.get(key) as Entries | undefined) ?? {};
    return {
      get: (k) => {
        const e = all()[encodeKey(k)];
        return e === undefined ? undefined : read(e[1]);
      },
      contains: (k) => encodeKey(k) in all(),
      entries: () => Object.values(all()).map(([k, v]) => [read(k) as Key, read(v)]),
      put: (k, v) => services.operatorState.set(key, { ...all(), [encodeKey(k)]: [io.write(k) as Key, io.write(v)] }),
      remove: (k) => {
        const { [encodeKey(k)]: _, ...rest } = all();
        services.operatorState.set(key, rest);
      },
      clear: () => services.operatorState.set(key, {}),
    };
  };
  return ((descriptor: MapStateDescriptor<Key, unknown>, writable: boolean) => {
    const name = descriptor.name;
    if (!codecs.has(name)) {
      throw new JobDefinitionError(
        `operator '${uid}' reads broadcast state '${name}', which its broadcast(…) does not declare`,
      );
    }
    let h = handles.get(name);
    if (!h) {
      h = make(name);
      handles.set(name, h);
    }
    if (writable) return h;
    let r = readOnly.get(name);
    if (!r) {
      const { get, contains, entries } = h;
      r = { get, contains, entries };
      readOnly.set(name, r);
    }
    return r;
  }) as BroadcastStates;
}
