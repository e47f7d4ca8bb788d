/**
 * The keyed state handles a keyed operator hands its function: value, list and
 * map state over the partition's {@link KeyedBackend}, reducing and aggregating
 * state over a value, and the TTL layer that wraps each stored value (map entry,
 * list element) as `{ v, t }` with `t` the processing time of its last write (or
 * read) and hides, then removes, what expired.
 */

import type {
  AggregatingState,
  ListState,
  MapState,
  StateCodec,
  StateDescriptor,
  StateKind,
  ValueState,
} from "../api/state.ts";
import type { StateTtlConfig } from "../api/state-ttl.ts";
import type { AggregateFunction } from "../api/windows.ts";
import type { KeyedBackend } from "../runtime/keyed-backend.ts";
import { checkStateValue, decodeRich, encodeRich } from "../runtime/state-values.ts";
import { rawMap } from "./map-handle.ts";

/** A handle, and for a TTL state the cleanup its operator runs when a cleanup timer fires. */
export interface BuiltHandle {
  readonly handle: unknown;
  /** Removes the current key's expired values (and schedules the next cleanup of the rest). */
  readonly cleanup?: () => void;
}

/** What the TTL layer needs of its operator. */
export interface TtlServices {
  /** Processing time of the current batch. */
  readonly now: () => number;
  /** Sets a cleanup timer for the current key at `time` (deduplicated). */
  readonly schedule: (time: number) => void;
}

/**
 * How one state's stored values go in and out: checked (and, for the rich codec,
 * encoded) on write, decoded on read. It applies to what is stored, so a TTL stamp
 * or a fold's accumulator is checked with the value inside it.
 */
export interface StateValues {
  readonly write: (v: unknown) => unknown;
  readonly read: ((v: unknown) => unknown) | undefined;
}

/** The {@link StateValues} of state `name` of operator `uid` under `codec`. */
export function stateValues(uid: string, name: string, codec: StateCodec): StateValues {
  const rich = codec === "rich";
  return {
    write: (v) => {
      checkStateValue(uid, name, v, codec);
      return rich ? encodeRich(v) : v;
    },
    read: rich ? decodeRich : undefined,
  };
}

/** Builds the handle of state `id` declared by `d`, storing values through `io`. */
export function stateHandle(
  d: StateDescriptor<unknown>,
  id: string,
  b: KeyedBackend,
  ts: TtlServices,
  io: StateValues,
): BuiltHandle {
  const base: Exclude<StateKind, "reducing" | "aggregating"> =
    d.kind === "reducing" || d.kind === "aggregating" ? "value" : d.kind;
  const raw = rawHandle(base, id, b, io, d.hashed === true);
  const ttl = d.ttl ? withTtl(base, raw, d.ttl, ts) : undefined;
  const handle = ttl?.handle ?? raw;
  if (d.kind === "reducing" || d.kind === "aggregating") {
    const fold = d.fold as AggregateFunction<unknown, unknown, unknown>;
    return { handle: folding(handle as ValueState<{ a: unknown }>, fold), ...(ttl ? { cleanup: ttl.cleanup } : {}) };
  }
  return ttl ?? { handle };
}

/** Reducing/aggregating state over a value state holding `{ a: accumulator }` (an accumulator may be `undefined`). */
function folding(cell: ValueState<{ a: unknown }>, fold: AggregateFunction<unknown, unknown, unknown>) {
  return {
    get: () => {
      const cur = cell.value();
      return cur === undefined ? undefined : fold.getResult(cur.a);
    },
    add: (v: unknown) => {
      const cur = cell.value();
      cell.update({ a: fold.add(v, cur === undefined ? fold.createAccumulator() : cur.a) });
    },
    clear: () => cell.clear(),
  } satisfies AggregatingState<unknown, unknown>;
}

function rawHandle(
  kind: "value" | "list" | "map",
  id: string,
  b: KeyedBackend,
  io: StateValues,
  hashed: boolean,
): unknown {
  const { write, read } = io;
  switch (kind) {
    case "value":
      return {
        value: read ? () => read(b.get(id)) : () => b.get(id),
        update: (v: unknown) => {
          if (v === undefined) throw new TypeError(`state '${id}': update(undefined) is not allowed; use clear()`);
          b.set(id, write(v));
        },
        clear: () => b.set(id, undefined),
      } satisfies ValueState<unknown>;
    case "list": {
      const list = () => (b.get(id) as unknown[] | undefined) ?? [];
      return {
        get: read ? () => list().map(read) : list,
        // Copy on write: get() hands out the list itself, so it is never changed in place.
        add: (v: unknown) => b.set(id, [...list(), write(v)]),
        update: (vs: readonly unknown[]) => b.set(id, vs.length ? vs.map(write) : undefined),
        clear: () => b.set(id, undefined),
      } satisfies ListState<unknown>;
    }
    case "map":
      return rawMap(id, b, io, hashed);
  }
}

/** A stored value with the time its TTL started. */
interface Stamped {
  readonly v: unknown;
  readonly t: number;
}

/** The TTL layer over a raw handle of stamped values. */
function withTtl(kind: "value" | "list" | "map", raw: unknown, ttl: StateTtlConfig, ts: TtlServices): BuiltHandle {
  const { now } = ts;
  // Cleanup timers fall on multiples of the TTL, so a key keeps at most two per state however often it is written.
  const schedule = (expiry: number) => ts.schedule(Math.ceil(expiry / ttl.ttlMs) * ttl.ttlMs);
  const stamp = (v: unknown): Stamped => {
    const t = now();
    schedule(t + ttl.ttlMs);
    return { v, t };
  };
  const expired = (s: Stamped) => now() - s.t >= ttl.ttlMs;
  const visible = (s: Stamped) => ttl.visibility === "ReturnExpiredIfNotCleanedUp" || !expired(s);
  const touch = ttl.updateType === "OnReadAndWrite";
  const until = (ss: readonly Stamped[]) => {
    if (ss.length) schedule(Math.min(...ss.map((s) => s.t)) + ttl.ttlMs);
  };
  switch (kind) {
    case "value": {
      const r = raw as ValueState<Stamped>;
      const cleanup = () => {
        const s = r.value();
        if (s && expired(s)) r.clear();
        return until(s && !expired(s) ? [s] : []);
      };
      const handle: ValueState<unknown> = {
        value: () => {
          const s = r.value();
          if (s === undefined) return undefined;
          if (!visible(s)) return void r.clear();
          if (touch) r.update(stamp(s.v));
          return s.v;
        },
        update: (v) => r.update(stamp(v)),
        clear: () => r.clear(),
      };
      return { handle, cleanup };
    }
    case "list": {
      const r = raw as ListState<Stamped>;
      const live = () => {
        const all = r.get();
        const kept = all.filter((s) => !expired(s));
        if (kept.length !== all.length) r.update(kept);
        return kept;
      };
      const handle: ListState<unknown> = {
        get: () => {
          const all = ttl.visibility === "NeverReturnExpired" ? live() : r.get();
          if (touch && all.length) r.update(all.map((s) => stamp(s.v)));
          return all.map((s) => s.v);
        },
        add: (v) => r.add(stamp(v)),
        update: (vs) => r.update(vs.map(stamp)),
        clear: () => r.clear(),
      };
      return { handle, cleanup: () => until(live()) };
    }
    case "map": {
      const r = raw as MapState<Stamped>;
      const read = (k: string): Stamped | undefined => {
        const s = r.get(k);
        if (s === undefined) return undefined;
        if (!visible(s)) return void r.remove(k);
        if (touch) r.put(k, stamp(s.v));
        return s;
      };
      const live = () => {
        const all = r.entries();
        for (const [k, s] of all) if (expired(s)) r.remove(k);
        return all.filter(([, s]) => !expired(s));
      };
      const handle: MapState<unknown> = {
        get: (k) => read(k)?.v,
        has: (k) => read(k) !== undefined,
        put: (k, v) => r.put(k, stamp(v)),
        remove: (k) => r.remove(k),
        entries: () => (ttl.visibility === "NeverReturnExpired" ? live() : r.entries()).map(([k, s]) => [k, s.v]),
        size: () => (ttl.visibility === "NeverReturnExpired" ? live() : r.entries()).length,
        clear: () => r.clear(),
      };
      return { handle, cleanup: () => until(live().map(([, s]) => s)) };
    }
  }
}
