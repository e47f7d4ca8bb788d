/**
 * What keyed state may hold, checked when a value is written, and the `rich`
 * codec. State is stored as JSON (SQLite, DynamoDB, savepoints), so a value that a
 * JSON round trip would change (a `Map` becomes `{}`, a `BigInt` throws, `NaN`
 * becomes `null`) is refused at the write, before it can be committed, with a
 * {@link StateValueError}. The `rich` codec also accepts `Date`, `Map`, `Set` and
 * `bigint` (nested anywhere) and gives them back after a restore: it stores them
 * as tagged JSON objects `{"$riffle": "Map", "v": …}` and decodes them on read.
 */

import type { StateCodec } from "../api/state.ts";
import { StateValueError } from "../errors.ts";

/** The key that marks a tagged value of the rich codec. */
const TAG = "$riffle";
/** Depth from which the walk tracks the objects it is inside, to find cycles. */
const TRACK_DEPTH = 64;

/**
 * Why `value` would not survive being stored under `codec`: the type of its first
 * part that would not (`"a Map"`, `"a bigint"`, `"NaN"`, `"undefined in an array"`),
 * or `undefined` when it survives. Plain values cost one fast walk.
 */
export function unstorable(value: unknown, codec: StateCodec): string | undefined {
  return walk(value, codec === "rich", 0, undefined);
}

function walk(v: unknown, rich: boolean, depth: number, inside: Set<object> | undefined): string | undefined {
  switch (typeof v) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(v) ? undefined : String(v);
    case "bigint":
      return rich ? undefined : "a bigint";
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
  }
  if (v === null) return undefined;
  const o = v as object;
  let track = inside;
  if (depth >= TRACK_DEPTH) {
    track ??= new Set();
    if (track.has(o)) return "a cyclic value";
    track.add(o);
  }
  const why = walkObject(o, rich, depth + 1, track);
  track?.delete(o);
  return why;
}

/** True for a string, a boolean, a finite number or `null`: what a row is mostly made of (no call to {@link walk}). */
function plain(e: unknown): boolean {
  return e === null || typeof e === "string" || typeof e === "boolean" || (typeof e === "number" && Number.isFinite(e));
}

function walkObject(o: object, rich: boolean, depth: number, inside: Set<object> | undefined): string | undefined {
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const e: unknown = o[i];
      if (e === undefined) return "undefined in an array";
      if (plain(e)) continue;
      const why = walk(e, rich, depth, inside);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === null) {
    for (const k in o) {
      const e: unknown = (o as Record<string, unknown>)[k];
      if (e === undefined || plain(e)) continue; // an absent property reads the same
      const why = walk(e, rich, depth, inside);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (rich && o instanceof Date) return Number.isNaN(o.getTime()) ? "an invalid Date" : undefined;
  if (rich && o instanceof Map) {
    for (const [k, e] of o) {
      const why = walk(k, rich, depth, inside) ?? walk(e, rich, depth, inside);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (rich && o instanceof Set) {
    for (const e of o) {
      const why = walk(e, rich, depth, inside);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  const name = (proto as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  if (!name || name === "Object") return "an object with a custom prototype";
  return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
}

/**
 * Refuses `value` for state `state` of operator `operator` unless it survives
 * `codec` (see {@link unstorable}).
 *
 * @throws StateValueError naming the operator, the state and the value's type.
 */
export function checkStateValue(operator: string, state: string, value: unknown, codec: StateCodec): void {
  if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) return; // the common case
  const why = unstorable(value, codec);
  if (why === undefined) return;
  const hint =
    codec === "rich"
      ? "the rich codec holds JSON, Date, Map, Set and bigint"
      : /Map|Set|Date|bigint/.test(why)
        ? "convert it to plain JSON, or declare the state with { codec: 'rich' } (or env.setStateCodec('rich'))"
        : "state holds JSON values; convert it to plain JSON";
  throw new StateValueError(operator, state, why, hint);
}

/** Encodes a checked value for the rich codec: plain JSON, with the other types tagged. */
export function encodeRich(v: unknown): unknown {
  if (typeof v === "bigint") return { [TAG]: "BigInt", v: v.toString() };
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(encodeRich);
  if (v instanceof Date) return { [TAG]: "Date", v: v.getTime() };
  if (v instanceof Map) return { [TAG]: "Map", v: [...v].map(([k, e]) => [encodeRich(k), encodeRich(e)]) };
  if (v instanceof Set) return { [TAG]: "Set", v: [...v].map(encodeRich) };
  const out: Record<string, unknown> = {};
  for (const k in v) {
    const e: unknown = (v as Record<string, unknown>)[k];
    if (e !== undefined) out[k] = encodeRich(e);
  }
  // A plain object that happens to have the tag key is wrapped, so decoding gives it back as it was.
  return Object.hasOwn(out, TAG) ? { [TAG]: "Object", v: out } : out;
}

/** Decodes what {@link encodeRich} stored. Every read gets a fresh value. */
export function decodeRich(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(decodeRich);
  const o = v as Record<string, unknown>;
  const tag = o[TAG];
  if (typeof tag === "string") {
    switch (tag) {
      case "BigInt":
        return BigInt(o.v as string);
      case "Date":
        return new Date(o.v as number);
      case "Map":
        return new Map((o.v as [unknown, unknown][]).map(([k, e]) => [decodeRich(k), decodeRich(e)]));
      case "Set":
        return new Set((o.v as unknown[]).map(decodeRich));
      case "Object":
        return decodePlain(o.v as Record<string, unknown>);
    }
  }
  return decodePlain(o);
}

function decodePlain(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) out[k] = decodeRich(o[k]);
  return out;
}
