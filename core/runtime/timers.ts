/**
 * Timers of a keyed operator. The truth lives in keyed state (state id
 * `<uid>/$timers`, value `{ e: number[], p: number[] }` per key), so timers are
 * committed and restored like any state. A min-heap per time domain indexes them
 * for firing; entries removed from state are skipped lazily.
 *
 * An operator whose state implies its event-time timers ({@link Implied}: a key holding one
 * state has a timer at a time computed from the key and that state's value) keeps those in the
 * heap only: nothing is written when one is registered or fires. One fires while its key still
 * holds the state and the state still implies that time, and a restore sets them again from the
 * keys that hold it ({@link Timers.restoreImplied}). Its other event-time timers, if it may have
 * any ({@link Implied.storesOthers}), are stored as usual.
 */

import { InternalError } from "../errors.ts";
import type { KeyedBackend } from "./keyed-backend.ts";

/**
 * Timer domain: event time, processing time, or `c`, the operator's own
 * processing-time cleanup timers (state TTL), which never reach user code.
 */
export type TimeDomain = "e" | "p" | "c";

interface TimerEntry {
  readonly t: number;
  readonly enc: string;
  readonly group: number;
  readonly key: unknown;
}

/** The timers stored for one key. */
export interface KeyTimers {
  readonly e?: readonly number[];
  readonly p?: readonly number[];
  readonly c?: readonly number[];
}

class MinHeap {
  private readonly entries: TimerEntry[] = [];
  get size(): number {
    return this.entries.length;
  }
  peek(): TimerEntry | undefined {
    return this.entries[0];
  }
  push(x: TimerEntry): void {
    const a = this.entries;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as TimerEntry).t <= x.t) break;
      a[i] = a[p] as TimerEntry;
      i = p;
    }
    a[i] = x;
  }
  pop(): TimerEntry | undefined {
    const a = this.entries;
    const top = a[0];
    const last = a.pop();
    const n = a.length;
    if (n > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (a[r] as TimerEntry).t < (a[l] as TimerEntry).t ? r : l;
        if ((a[c] as TimerEntry).t >= last.t) break;
        a[i] = a[c] as TimerEntry;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** Event-time timers a state implies: a key holding state `stateId` has one, at `at(key, value)`. */
export interface Implied {
  readonly stateId: string;
  /** The time of the timer of `key`, whose state `stateId` holds `value` (as stored). */
  readonly at: (key: unknown, value: unknown) => number;
  /** Whether the operator may register event-time timers at other times, which are then stored; if not, one is refused. */
  readonly storesOthers: boolean;
}

/** Registers, deletes and fires the timers of one keyed operator in one partition. */
export class Timers {
  private readonly heaps = { e: new MinHeap(), p: new MinHeap(), c: new MinHeap() };
  private readonly backend: KeyedBackend;
  /** State id under which timers are stored. */
  readonly stateId: string;
  /** The event-time timers the operator's state implies, if it says so. */
  readonly implied: Implied | undefined;

  constructor(backend: KeyedBackend, uid: string, implied?: Implied) {
    this.backend = backend;
    this.stateId = `${uid}/$timers`;
    this.implied = implied;
  }

  /** Adds a timer for the backend's current key. */
  register(domain: TimeDomain, t: number): void {
    const implied = domain === "e" ? this.implied : undefined;
    if (implied) {
      const { key, enc, group } = this.backend.current;
      const at = implied.at(key, this.backend.get(implied.stateId));
      if (t === at) {
        this.heaps.e.push({ t, enc, group, key });
        return;
      }
      if (!implied.storesOthers)
        throw new InternalError(`an implied event-time timer at ${t}, not at its key's time ${at}`);
    }
    const cur = this.backend.get(this.stateId) as KeyTimers | undefined;
    const list = cur?.[domain];
    if (list?.includes(t)) return;
    this.backend.set(this.stateId, withList(cur, domain, list ? [...list, t] : [t]));
    const { key, enc, group } = this.backend.current;
    this.heaps[domain].push({ t, enc, group, key });
  }

  /** Removes a timer of the current key. */
  delete(domain: TimeDomain, t: number): void {
    if (domain === "e" && this.implied && !this.implied.storesOthers)
      throw new InternalError("an implied event-time timer cannot be deleted");
    const cur = this.backend.get(this.stateId) as KeyTimers | undefined;
    const list = cur?.[domain];
    if (!list?.includes(t)) return;
    this.backend.set(this.stateId, withList(cur, domain, without(list, t)));
  }

  /** Rebuilds the heaps from stored timers (after a cold load). */
  restore(entries: readonly [enc: string, group: number, key: unknown, timers: KeyTimers][]): void {
    for (const [enc, group, key, timers] of entries) {
      for (const t of timers.e ?? []) this.heaps.e.push({ t, enc, group, key });
      for (const t of timers.p ?? []) this.heaps.p.push({ t, enc, group, key });
      for (const t of timers.c ?? []) this.heaps.c.push({ t, enc, group, key });
    }
  }

  /** Sets the implied timers of the keys holding the implied state, with its value (after a cold load). */
  restoreImplied(keys: readonly [enc: string, group: number, key: unknown, value: unknown][]): void {
    const implied = this.implied;
    if (!implied) throw new InternalError("implied timers restored for an operator without them");
    for (const [enc, group, key, value] of keys) this.heaps.e.push({ t: implied.at(key, value), enc, group, key });
  }

  /** Time of the earliest timer of `domain` (it may have been deleted since), if any. */
  next(domain: TimeDomain): number | undefined {
    return this.heaps[domain].peek()?.t;
  }

  /** Time of the earliest processing-time timer, the user's or a cleanup timer, if any. */
  nextProcessing(): number | undefined {
    const p = this.next("p");
    const c = this.next("c");
    return p === undefined ? c : c === undefined ? p : Math.min(p, c);
  }

  /** True when some timer of `domain` is due at `limit`. */
  due(domain: TimeDomain, limit: number): boolean {
    const top = this.heaps[domain].peek();
    return top !== undefined && top.t <= limit;
  }

  /**
   * Fires every timer of `domain` at or before `limit`, in time order: removes it from
   * state, makes its key current, and calls `fire(t)`.
   */
  fire(domain: TimeDomain, limit: number, fire: (t: number) => void): void {
    const heap = this.heaps[domain];
    const cur = this.backend.current;
    for (let top = heap.peek(); top !== undefined && top.t <= limit; top = heap.peek()) {
      heap.pop();
      const stored = this.backend.getFor(this.stateId, top.enc) as KeyTimers | undefined;
      const list = stored?.[domain];
      if (list?.includes(top.t))
        this.backend.setFor(this.stateId, top.enc, top.group, withList(stored, domain, without(list, top.t)));
      // An implied timer is due while its key holds the state and the state implies that time (a
      // stored one, from a checkpoint taken before the operator implied its timers, fires as stored).
      else if (!(domain === "e" && this.implies(top))) continue; // deleted, or already fired
      cur.key = top.key;
      cur.enc = top.enc;
      cur.group = top.group;
      fire(top.t);
    }
  }

  /** True when `timer`'s key holds the implied state, and its value implies the timer's time. */
  private implies(timer: TimerEntry): boolean {
    const implied = this.implied;
    if (!implied) return false;
    const value = this.backend.getFor(implied.stateId, timer.enc);
    return value !== undefined && implied.at(timer.key, value) === timer.t;
  }
}

/** `list` without `t`; `undefined` when nothing is left (one timer per key and domain is the common case). */
function without(list: readonly number[], t: number): readonly number[] | undefined {
  if (list.length === 1) return list[0] === t ? undefined : list;
  const out = list.filter((x) => x !== t);
  return out.length ? out : undefined;
}

/**
 * The stored timers of a key: `t` with `domain`'s list replaced by `list` (an empty or
 * absent list left out), or `undefined` when no list is left. Always one shape.
 */
function withList(
  t: KeyTimers | undefined,
  domain: TimeDomain,
  list: readonly number[] | undefined,
): KeyTimers | undefined {
  const e = domain === "e" ? list : t?.e;
  const p = domain === "p" ? list : t?.p;
  const c = domain === "c" ? list : t?.c;
  if (!e?.length && !p?.length && !c?.length) return undefined;
  const out: { e?: readonly number[]; p?: readonly number[]; c?: readonly number[] } = {};
  if (e?.length) out.e = e;
  if (p?.length) out.p = p;
  if (c?.length) out.c = c;
  return out;
}
