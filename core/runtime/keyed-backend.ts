/**
 * Keyed state of one task partition: a cache of committed values plus the
 * uncommitted writes of the current batch (the overlay). Reads see the overlay
 * first. On commit the overlay becomes the segment's state changes and is merged
 * into the cache; on abort it is dropped. Marks allow rolling back one record's
 * writes (used when isolating a poison record).
 */

import { InternalError } from "../errors.ts";
import type { StateChange, StateRef } from "../ports/state-store.ts";

/** An overlay entry is the state change itself, so committing allocates nothing more. */
type Written = { s: string; k: string; g: number; v?: unknown; d?: true; n?: true };

type Journal = [s: string, k: string, prev: Written | undefined][];

/** The current key, set by the keyed operator before calling user code. */
export interface CurrentKey {
  key: unknown;
  enc: string;
  group: number;
}

/** Keyed state cache and batch overlay of one partition. */
export class KeyedBackend {
  /** Committed values: state id → encoded key → value. */
  private readonly cache = new Map<string, Map<string, unknown>>();
  /** This batch's writes. */
  private overlay = new Map<string, Map<string, Written>>();
  private journal: Journal | undefined;
  /** Commits so far: what a state handle made since the count last changed belongs to this batch's writes. */
  private commits = 0;
  /** The key user code currently runs for. */
  readonly current: CurrentKey = { key: undefined, enc: "", group: -1 };
  /**
   * True when the cache holds every committed value (the partition started empty
   * in this process), so a miss means "unset" without asking the store.
   */
  complete: boolean;

  constructor(complete: boolean) {
    this.complete = complete;
  }

  /** The value of state `s` for the current key. */
  get(s: string): unknown {
    return this.getFor(s, this.current.enc);
  }

  /** The value of state `s` for encoded key `k`. */
  getFor(s: string, k: string): unknown {
    const w = this.overlay.get(s)?.get(k);
    if (w !== undefined) return w.v;
    return this.cache.get(s)?.get(k);
  }

  /**
   * The current key's value of state `s` if this batch wrote it and may change it in
   * place (not while journaling for a rollback); else `undefined`. Lets map and list
   * state grow without copying the whole value on every write of a batch.
   */
  owned(s: string): unknown {
    if (this.journal) return undefined;
    return this.overlay.get(s)?.get(this.current.enc)?.v;
  }

  /** Which batch runs: changes at every commit, so a handle can tell its own batch's objects from committed ones. */
  get batch(): number {
    return this.commits;
  }

  /** False while journaling for a rollback: then no write may change what an earlier write stored. */
  get inPlace(): boolean {
    return this.journal === undefined;
  }

  /** Writes state `s` for the current key; `undefined` deletes. */
  set(s: string, v: unknown): void {
    this.setFor(s, this.current.enc, this.current.group, v);
  }

  /** Writes state `s` for encoded key `k` in key group `g`. */
  setFor(s: string, k: string, g: number, v: unknown): void {
    let m = this.overlay.get(s);
    if (!m) {
      m = new Map();
      this.overlay.set(s, m);
    }
    const prev = m.get(k);
    if (this.journal) this.journal.push([s, k, prev]);
    else if (prev !== undefined) {
      // Not journaling: rewrite this batch's entry in place.
      prev.v = v;
      if (v === undefined) prev.d = true;
      else delete prev.d;
      return;
    }
    // `n`: the key is known to have had no committed value (a fold may skip its deletion).
    const committed = this.cache.get(s);
    const fresh = committed?.has(k) ? committed.get(k) === undefined : this.complete;
    const w: Written = v === undefined ? { s, k, g, d: true } : { s, k, g, v };
    if (fresh) w.n = true;
    m.set(k, w);
  }

  /** True when the cache has an entry (committed or known-unset) for `s`/`k`. */
  has(s: string, k: string): boolean {
    return this.complete || (this.cache.get(s)?.has(k) ?? false) || (this.overlay.get(s)?.has(k) ?? false);
  }

  /** Loads committed values read from the store into the cache (`undefined` = unset). */
  load(refs: readonly StateRef[], values: readonly unknown[]): void {
    refs.forEach((r, i) => {
      let m = this.cache.get(r.s);
      if (!m) {
        m = new Map();
        this.cache.set(r.s, m);
      }
      m.set(r.k, values[i]);
    });
  }

  /** Starts journaling writes so they can be rolled back to a mark. */
  startJournal(): void {
    this.journal = [];
  }

  /** A rollback point. */
  mark(): number {
    return this.journal?.length ?? 0;
  }

  /** Undoes every write after `mark`. */
  rollback(mark: number): void {
    const j = this.journal;
    if (!j) throw new InternalError("rollback without a journal");
    while (j.length > mark) {
      const [s, k, prev] = j.pop() as Journal[number];
      const m = this.overlay.get(s) as Map<string, Written>;
      if (prev === undefined) m.delete(k);
      else m.set(k, prev);
    }
  }

  /** The batch's writes as segment state changes. */
  changes(): StateChange[] {
    const out: StateChange[] = [];
    for (const m of this.overlay.values()) for (const w of m.values()) out.push(w);
    return out;
  }

  /** Merges the batch's writes into the cache (after a successful commit). */
  commit(): void {
    for (const [s, m] of this.overlay) {
      let c = this.cache.get(s);
      if (!c) {
        c = new Map();
        this.cache.set(s, c);
      }
      for (const [k, w] of m) c.set(k, w.v);
    }
    this.overlay = new Map();
    this.journal = undefined;
    this.commits++;
  }
}
