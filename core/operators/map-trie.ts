/**
 * The hashed layout of a map state's value: a hash trie (a HAMT without bitmaps) built of plain
 * arrays and objects, so it is JSON as it is and every store, savepoint and codec keeps it
 * unchanged. A node is an array `[count, slot × 32]`: `count` entries below it, and per 5 bits of
 * the key's hash a slot that is `null`, a child node or a leaf (an array `[key, value, …]` of up
 * to {@link LEAF_MAX} entries; deeper than {@link MAX_DEPTH} a leaf grows without limit). Leaves
 * are arrays, not objects: small objects with ever new keys each get a hidden class of their own
 * in V8, which made writes several times slower. A flat map value is a plain object, never an
 * array, so the two layouts never mix up.
 *
 * Writes copy the path they change, not the map: a committed value is never changed (the cache, a
 * stored segment or a snapshot may hold it), so a batch's first write to a key's map costs three
 * small copies instead of a copy of every entry. What a batch created itself it may change in
 * place: {@link Owner} tells which.
 */

import { murmur3 } from "../keys.ts";

/** A leaf: `[key, value, key, value, …]`, at least one entry (an empty slot is `null`). */
export type Leaf = unknown[];
/** A trie node: `[count, ...slots]` (a number first, where a leaf has a key). */
export type TrieNode = (number | TrieNode | Leaf | null)[];

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
/** Entries a leaf holds before it splits into a node. */
export const LEAF_MAX = 16;
/** Depth below which leaves no longer split (6 levels use 30 bits of the hash). */
export const MAX_DEPTH = 6;

/** What a write may change in place. */
export interface Owner {
  /** True when `o` was created by the current batch (so no committed value holds it). */
  mine(o: object): boolean;
  /** Records `o` as created by the current batch. */
  made<T extends object>(o: T): T;
}

/**
 * The trie's hash of a map key: murmur3 with a seed of its own, so that keys an operator already
 * grouped by murmur3's low bits (the band join's slots) still spread over a node's slots.
 */
function hashOf(k: string): number {
  return murmur3(k, 0x9747b28c);
}

/** True when a map value is in the hashed layout (a flat map is a plain object, never an array). */
export function isTrie(v: unknown): v is TrieNode {
  return Array.isArray(v);
}

/** True when slot `s` (not null) is a leaf. */
function isLeaf(s: TrieNode | Leaf): s is Leaf {
  return typeof s[0] === "string";
}

/** Where key `k` sits in `leaf` (its index), or -1. */
function find(leaf: Leaf, k: string): number {
  for (let i = 0; i < leaf.length; i += 2) if (leaf[i] === k) return i;
  return -1;
}

/** The stored value of `k` in trie `node`, or undefined. */
export function trieGet(node: TrieNode, k: string): unknown {
  const h = hashOf(k);
  let n = node;
  for (let depth = 0; ; depth++) {
    const slot = n[1 + ((h >>> (depth * BITS)) & MASK)] as TrieNode | Leaf | null;
    if (slot === null) return undefined;
    if (isLeaf(slot)) {
      const i = find(slot, k);
      return i < 0 ? undefined : slot[i + 1];
    }
    n = slot;
  }
}

/** Number of entries of a trie. */
export function trieSize(node: TrieNode): number {
  return node[0] as number;
}

/** Calls `f` with every entry of trie `node`. */
export function trieEach(node: TrieNode, f: (k: string, v: unknown) => void): void {
  for (let i = 1; i <= WIDTH; i++) {
    const slot = node[i] as TrieNode | Leaf | null;
    if (slot === null) continue;
    if (isLeaf(slot)) for (let j = 0; j < slot.length; j += 2) f(slot[j] as string, slot[j + 1]);
    else trieEach(slot, f);
  }
}

/** An empty node, made by the current batch. */
function emptyNode(own: Owner): TrieNode {
  const n: TrieNode = new Array(WIDTH + 1).fill(null);
  n[0] = 0;
  return own.made(n);
}

/** A trie of the entries of flat map `o` (all of it made by the current batch). */
export function trieOf(o: Record<string, unknown>, own: Owner): TrieNode {
  let root = emptyNode(own);
  for (const k in o) if (Object.hasOwn(o, k)) root = triePut(root, k, o[k], own);
  return root;
}

/** Leaf `leaf` split into a node at `depth`. */
function split(leaf: Leaf, depth: number, own: Owner): TrieNode {
  let n = emptyNode(own);
  for (let j = 0; j < leaf.length; j += 2) {
    const k = leaf[j] as string;
    n = putAt(n, depth, k, hashOf(k), leaf[j + 1], own);
  }
  return n;
}

/** Whether the last {@link putAt} added an entry (rather than replaced one). */
let added = false;

function putAt(node: TrieNode, depth: number, k: string, h: number, v: unknown, own: Owner): TrieNode {
  const n = own.mine(node) ? node : own.made(node.slice());
  const i = 1 + ((h >>> (depth * BITS)) & MASK);
  const slot = n[i] as TrieNode | Leaf | null;
  if (slot === null) {
    n[i] = own.made([k, v]);
    added = true;
  } else if (!isLeaf(slot)) {
    n[i] = putAt(slot, depth + 1, k, h, v, own);
  } else {
    const at = find(slot, k);
    added = at < 0;
    if (added && slot.length >= 2 * LEAF_MAX && depth + 1 < MAX_DEPTH) {
      n[i] = putAt(split(slot, depth + 1, own), depth + 1, k, h, v, own);
    } else {
      const leaf = own.mine(slot) ? slot : own.made(slot.slice());
      if (added) leaf.push(k, v);
      else leaf[at + 1] = v;
      n[i] = leaf;
    }
  }
  if (added) (n[0] as number)++;
  return n;
}

/** Trie `root` with `k` set to `v`: `root` itself when the current batch made it, else a copy of the path. */
export function triePut(root: TrieNode, k: string, v: unknown, own: Owner): TrieNode {
  added = false;
  return putAt(root, 0, k, hashOf(k), v, own);
}

/** Whether the last {@link removeAt} found its key. */
let removed = false;

function removeAt(node: TrieNode, depth: number, k: string, h: number, own: Owner): TrieNode | null {
  const i = 1 + ((h >>> (depth * BITS)) & MASK);
  const slot = node[i] as TrieNode | Leaf | null;
  let next: TrieNode | Leaf | null;
  if (slot === null) return node;
  if (!isLeaf(slot)) {
    next = removeAt(slot, depth + 1, k, h, own);
    if (!removed) return node;
  } else {
    const at = find(slot, k);
    if (at < 0) return node;
    removed = true;
    if (slot.length === 2) next = null;
    else {
      next = own.mine(slot) ? slot : own.made(slot.slice());
      next.splice(at, 2);
    }
  }
  if ((node[0] as number) === 1) return null;
  const n = own.mine(node) ? node : own.made(node.slice());
  n[i] = next;
  (n[0] as number)--;
  return n;
}

/** Trie `root` without `k` (`root` itself when it has no `k`); null when that leaves it empty. */
export function trieRemove(root: TrieNode, k: string, own: Owner): TrieNode | null {
  removed = false;
  return removeAt(root, 0, k, hashOf(k), own);
}
