/**
 * The last key a keyed operator encoded, so that a run of records of one key (a window's rows
 * fired together, a join's rows of one window) encodes and hashes it once. A key matches when
 * it is the same scalar, or an array of the same scalars (compared with `===` part by part, so a
 * NaN never matches and is encoded, and refused, again; -0 and 0 encode alike). A key with a
 * nested array is never remembered. The parts are copied into one reused array, so a selector
 * that hands back one array changed in place is still compared by value.
 */
import { ProtocolError } from "../errors.ts";
import { encodeKey, type Key, keyGroupOf } from "../keys.ts";

/** The last encoded key of an operator and its encoding and key group. */
export class LastKey {
  /** The remembered key's encoding ("" before any). */
  enc = "";
  /** The remembered key's key group. */
  group = -1;
  /** 0: nothing remembered; 1: a scalar; 2: an array of scalars in `parts`. */
  private kind: 0 | 1 | 2 = 0;
  private scalar: unknown;
  private readonly parts: unknown[] = [];

  /**
   * Makes `enc` and `group` those of `key`: the remembered ones when it matches, else encoded and
   * hashed (a key encodeKey refuses throws its error), checked against the partition's key groups
   * `owned` (a ProtocolError when outside them), and remembered.
   */
  resolve(key: Key, maxParallelism: number, owned: { readonly start: number; readonly end: number }): void {
    if (this.matches(key)) return;
    const enc = encodeKey(key);
    const group = keyGroupOf(enc, maxParallelism);
    if (group < owned.start || group > owned.end)
      throw new ProtocolError(
        `key ${enc} (key group ${group}) reached a partition owning key groups ${owned.start}-${owned.end}`,
      );
    this.remember(key, enc, group);
  }

  /** True when `key` equals the remembered key (so its encoding and group are `enc` and `group`). */
  matches(key: Key): boolean {
    if (this.kind === 1) return key === this.scalar; // NaN !== NaN: never remembered as equal
    if (this.kind !== 2 || !Array.isArray(key)) return false;
    const parts = this.parts;
    if (key.length !== parts.length) return false;
    for (let i = 0; i < parts.length; i++) if (key[i] !== parts[i]) return false;
    return true;
  }

  /** Remembers `key` with its encoding and key group. */
  remember(key: Key, enc: string, group: number): void {
    this.enc = enc;
    this.group = group;
    if (!Array.isArray(key)) {
      this.kind = typeof key === "object" && key !== null ? 0 : 1;
      this.scalar = key;
      return;
    }
    const parts = this.parts;
    parts.length = key.length;
    for (let i = 0; i < key.length; i++) {
      const k = key[i];
      if (typeof k === "object" && k !== null) {
        this.kind = 0;
        return;
      }
      parts[i] = k;
    }
    this.kind = 2;
  }
}
