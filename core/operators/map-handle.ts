/**
 * The raw map state handle over a {@link KeyedBackend}: each key's map is one stored value, flat
 * (a plain object) or, for a hashed map past {@link FLAT_MAX} entries, a hash trie (map-trie.ts).
 * Either layout reads the other's values; a write turns a trie into a flat map for a plain map
 * state, and a flat map past {@link FLAT_MAX} entries into a trie for a hashed one.
 */

import type { MapState } from "../api/state.ts";
import type { KeyedBackend } from "../runtime/keyed-backend.ts";
import {
  isTrie,
  type Owner,
  type TrieNode,
  trieEach,
  trieGet,
  trieOf,
  triePut,
  trieRemove,
  trieSize,
} from "./map-trie.ts";

/** How stored values go in and out: state-handles.ts `StateValues` (not imported: it imports this module). */
interface Values {
  readonly write: (v: unknown) => unknown;
  readonly read: ((v: unknown) => unknown) | undefined;
}

/** A flat map value. */
type Leaf = Record<string, unknown>;

/** A hashed map stays flat up to this many entries. */
export const FLAT_MAX = 32;

/** An array index as a property key: V8 keeps such keys as elements, which a spread copies fastest. */
const INDEX = /^(?:0|[1-9]\d{0,8})$/;

/**
 * A copy of map object `o` with entry `skip` left out. Keys that are array indexes (a join's
 * sequence numbers) are elements, which a spread copies fastest; other keys past a few hundred
 * make a dictionary, which a `for…in` copies about twice as fast as a spread. The first key
 * tells which (`for…in` gives index keys first).
 */
function copyMap(o: Leaf, skip?: string): Leaf {
  let first: string | undefined;
  for (const k in o) {
    first = k;
    break;
  }
  if (first !== undefined && INDEX.test(first)) {
    if (skip === undefined) return { ...o };
    const { [skip]: _, ...rest } = o;
    return rest;
  }
  const out: Leaf = {};
  for (const k in o) if (k !== skip && Object.hasOwn(o, k)) out[k] = o[k];
  return out;
}

/** True when `o` has an own entry other than `k` (stops at the first, unlike `Object.keys(o).length`). */
function hasOtherThan(o: Leaf, k: string): boolean {
  for (const e in o) if (e !== k && Object.hasOwn(o, e)) return true;
  return false;
}

/** True when `o` has more than `max` entries (counts no further). */
function larger(o: Leaf, max: number): boolean {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k) && ++n > max) return true;
  return false;
}

/** A flat copy of trie `t`. */
function flatOf(t: TrieNode): Leaf {
  const out: Leaf = {};
  trieEach(t, (k, v) => {
    out[k] = v;
  });
  return out;
}

/**
 * The entries of a map value, each value through `read`. Of a flat map by `Object.keys`: a map of
 * more than a few dozen keys is a dictionary, whose `Object.entries` is about 3× slower.
 */
function entriesOf(v: Leaf | TrieNode, read: (v: unknown) => unknown): [string, unknown][] {
  if (isTrie(v)) {
    const out: [string, unknown][] = [];
    trieEach(v, (k, x) => {
      out.push([k, read(x)]);
    });
    return out;
  }
  const keys = Object.keys(v);
  const out = new Array<[string, unknown]>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    out[i] = [k, read(v[k])];
  }
  return out;
}

/**
 * What a trie write may change in place: the key's root when this batch wrote it (the backend
 * says so: `owned`), and whatever this handle made during the current batch (the backend's
 * `batch` count tells when one ended), never while the backend journals for a rollback.
 */
function trieOwner(b: KeyedBackend): Owner & { root: unknown } {
  let made = new WeakSet<object>();
  let batch = b.batch;
  const owner = {
    root: undefined as unknown,
    mine: (o: object) => b.inPlace && (o === owner.root || (batch === b.batch && made.has(o))),
    made: <T extends object>(o: T): T => {
      if (b.batch !== batch) {
        made = new WeakSet();
        batch = b.batch;
      }
      made.add(o);
      return o;
    },
  };
  return owner;
}

/** The raw handle of map state `id`: hashed (a trie past {@link FLAT_MAX} entries) or flat. */
export function rawMap(id: string, b: KeyedBackend, io: Values, hashed: boolean): MapState<unknown> {
  const { write, read } = io;
  const value = () => b.get(id) as Leaf | TrieNode | undefined;
  const out = read ?? ((v: unknown) => v);
  const owner = trieOwner(b);
  /**
   * Writes trie `t`, what a write made of trie `before`: nothing when it is `before` itself (the
   * owned root changed in place, or a removal that found nothing); `null`: the map is empty.
   */
  const setTrie = (t: TrieNode | null, before: TrieNode) => {
    if (t !== before) b.set(id, t ?? undefined);
  };
  /** The current value; for a plain map a trie (written by a hashed one) as a flat copy. */
  const writable = (): Leaf | TrieNode | undefined => {
    const o = value();
    return o !== undefined && !hashed && isTrie(o) ? flatOf(o) : o;
  };
  return {
    get: (k: string) => {
      const o = value();
      if (o === undefined) return undefined;
      if (isTrie(o)) {
        const v = trieGet(o, k);
        return v === undefined ? undefined : out(v);
      }
      return Object.hasOwn(o, k) ? out(o[k]) : undefined;
    },
    has: (k: string) => {
      const o = value();
      if (o === undefined) return false;
      return isTrie(o) ? trieGet(o, k) !== undefined : Object.hasOwn(o, k);
    },
    // A flat map never leaves this handle, so after a batch's first write (a copy of the
    // committed map, which the cache and a stored segment may still hold) later writes of the
    // batch may change that copy in place.
    put: (k: string, raw: unknown) => {
      const v = write(raw);
      const o = writable();
      const own = b.owned(id);
      if (o !== undefined && isTrie(o)) {
        owner.root = own;
        setTrie(triePut(o, k, v, owner), o);
        return;
      }
      const fresh = own === undefined;
      const flat = fresh ? copyMap(o ?? {}) : (own as Leaf);
      const grew = hashed && !Object.hasOwn(flat, k);
      flat[k] = v;
      if (grew && larger(flat, FLAT_MAX)) {
        owner.root = undefined;
        b.set(id, trieOf(flat, owner));
      } else if (fresh) b.set(id, flat);
    },
    remove: (k: string) => {
      const o = writable();
      if (o === undefined) return;
      if (isTrie(o)) {
        owner.root = b.owned(id);
        setTrie(trieRemove(o, k, owner), o);
        return;
      }
      if (!Object.hasOwn(o, k)) return;
      const own = b.owned(id) as Leaf | undefined;
      if (own && hasOtherThan(own, k)) {
        delete own[k];
        return;
      }
      b.set(id, hasOtherThan(o, k) ? copyMap(o, k) : undefined);
    },
    entries: () => {
      const o = value();
      return o === undefined ? [] : entriesOf(o, out);
    },
    size: () => {
      const o = value();
      if (o === undefined) return 0;
      return isTrie(o) ? trieSize(o) : Object.keys(o).length;
    },
    clear: () => b.set(id, undefined),
  };
}
