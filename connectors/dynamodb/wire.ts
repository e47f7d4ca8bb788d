/**
 * Items as JSON: DynamoDB's own wire form (`{ "id": { "N": "7" } }`), with binary
 * values as base64 strings as on the wire. The AWS SDK gives binary as
 * `Uint8Array`, which is not JSON; riffle's records and positions must be. Numbers
 * stay strings, so nothing is rounded. `unmarshall` from `@aws-sdk/util-dynamodb`
 * reads an item of {@link fromWire} as plain values.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** One attribute value in wire form. */
export type WireValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly SS: string[] }
  | { readonly NS: string[] }
  | { readonly BS: string[] }
  | { readonly M: WireItem }
  | { readonly L: WireValue[] }
  | { readonly NULL: boolean }
  | { readonly BOOL: boolean };

/** An item (or a key) in wire form: JSON. */
export type WireItem = { readonly [attribute: string]: WireValue };

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

function valueToWire(v: AttributeValue): WireValue {
  if (v.B !== undefined) return { B: b64(v.B) };
  if (v.BS !== undefined) return { BS: v.BS.map(b64) };
  if (v.M !== undefined) return { M: toWire(v.M) };
  if (v.L !== undefined) return { L: v.L.map(valueToWire) };
  for (const [k, x] of Object.entries(v)) if (x !== undefined && k !== "$unknown") return { [k]: x } as WireValue;
  throw new TypeError(`an attribute value with no type: ${JSON.stringify(v)}`);
}

function valueFromWire(v: WireValue): AttributeValue {
  if ("B" in v) return { B: bytes(v.B) };
  if ("BS" in v) return { BS: v.BS.map(bytes) };
  if ("M" in v) return { M: fromWire(v.M) };
  if ("L" in v) return { L: v.L.map(valueFromWire) };
  return v as AttributeValue;
}

/** An SDK item in wire form. */
export function toWire(item: Record<string, AttributeValue>): WireItem {
  const out: Record<string, WireValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = valueToWire(v);
  return out;
}

/** A wire-form item for the SDK. */
export function fromWire(item: WireItem): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = valueFromWire(v);
  return out;
}

/** The key attributes `names` of `item`. */
export function pick(item: WireItem, names: readonly string[]): WireItem {
  const out: Record<string, WireValue> = {};
  for (const n of names) {
    const v = item[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** A key as one string, equal for equal keys whatever the attributes' order. */
export function keyString(key: WireItem): string {
  return JSON.stringify(
    Object.keys(key)
      .sort()
      .map((k) => [k, key[k]]),
  );
}
