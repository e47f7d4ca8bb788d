/**
 * DynamoDB capacity for {@link RequestAccounting}: reads the `ConsumedCapacity` that
 * DynamoDB returns and estimates capacity from item sizes with AWS's published
 * rules, for when it returns none (a failed conditional write, an emulator that
 * leaves it out) or reports less than those rules give for what was sent and read.
 *
 * Item size (AWS): attribute name bytes + value bytes; a string is its UTF-8 length,
 * a number about 1 byte per 2 significant digits + 1, binary its length, a boolean or
 * null 1, a list or map 3 + 1 per element plus the elements.
 * Writes: 1 WCU per KB (rounded up) per item, transactional ×2. Reads: 1 RCU per
 * 4 KB (rounded up), eventually consistent ×0.5, transactional ×2; a Query or Scan
 * rounds the sum of the items it returns.
 */

/** Read and write capacity units. */
export interface Capacity {
  readonly read: number;
  readonly write: number;
}

/** DynamoDB operations that accept `ReturnConsumedCapacity`. */
export const CAPACITY_OPERATIONS: ReadonlySet<string> = new Set([
  "GetItem",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "Query",
  "Scan",
  "BatchGetItem",
  "BatchWriteItem",
  "TransactGetItems",
  "TransactWriteItems",
]);

const READ_OPERATIONS = new Set(["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const utf8 = (s: string) => Buffer.byteLength(s, "utf8");
const entries = (v: unknown): [string, unknown][] => (isObj(v) ? Object.entries(v) : []);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Sums a `ConsumedCapacity` (one object or an array of them). Uses
 * `ReadCapacityUnits`/`WriteCapacityUnits` where given, else `CapacityUnits`
 * counted as reads or writes by the kind of operation. `undefined` if absent.
 */
export function reportedCapacity(operation: string, consumed: unknown): Capacity | undefined {
  const items = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
  if (items.length === 0) return undefined;
  let read = 0;
  let write = 0;
  for (const c of items) {
    if (!isObj(c)) continue;
    const r = c.ReadCapacityUnits;
    const w = c.WriteCapacityUnits;
    if (typeof r === "number" || typeof w === "number") {
      read += typeof r === "number" ? r : 0;
      write += typeof w === "number" ? w : 0;
    } else if (typeof c.CapacityUnits === "number") {
      if (READ_OPERATIONS.has(operation)) read += c.CapacityUnits;
      else write += c.CapacityUnits;
    }
  }
  return { read, write };
}

function numberSize(text: string): number {
  const significant = text
    .replace(/[eE].*$/, "")
    .replace(/[-+.]/g, "")
    .replace(/^0+|0+$/g, "").length;
  return Math.ceil(Math.max(1, significant) / 2) + 1;
}

/** Size of a marshalled AttributeValue (`{S: "x"}`, `{M: {...}}`, ...). */
function attributeValueSize(value: unknown): number {
  const [kind, v] = entries(value)[0] ?? ["NULL", true];
  switch (kind) {
    case "S":
      return utf8(String(v));
    case "N":
      return numberSize(String(v));
    case "B":
      return binarySize(v);
    case "SS":
      return list(v).reduce<number>((n, s) => n + utf8(String(s)), 0);
    case "NS":
      return list(v).reduce<number>((n, s) => n + numberSize(String(s)), 0);
    case "BS":
      return list(v).reduce<number>((n, b) => n + binarySize(b), 0);
    case "L":
      return 3 + list(v).reduce<number>((n, e) => n + 1 + attributeValueSize(e), 0);
    case "M":
      return 3 + entries(v).reduce((n, [k, e]) => n + 1 + utf8(k) + attributeValueSize(e), 0);
    default:
      return 1; // BOOL, NULL
  }
}

function binarySize(v: unknown): number {
  if (v instanceof Uint8Array) return v.byteLength;
  return typeof v === "string" ? Math.floor((v.length * 3) / 4) : 0;
}

/** Size of a native (document client) value. */
function nativeSize(value: unknown): number {
  if (typeof value === "string") return utf8(value);
  if (typeof value === "number" || typeof value === "bigint") return numberSize(String(value));
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce<number>((n, e) => n + nativeSize(e), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((n, e) => n + 1 + nativeSize(e), 0);
  if (isObj(value)) {
    const v = value as { value?: unknown };
    if (Object.keys(value).length === 1 && typeof v.value === "string") return numberSize(v.value); // NumberValue
    return 3 + Object.entries(value).reduce((n, [k, e]) => n + 1 + utf8(k) + nativeSize(e), 0);
  }
  return 1;
}

/** Size in bytes of an item (or key), marshalled or native. */
export function itemSize(item: unknown, native = false): number {
  return entries(item).reduce((n, [k, v]) => n + utf8(k) + (native ? nativeSize(v) : attributeValueSize(v)), 0);
}

const wcu = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const rcu = (bytes: number, consistent: boolean) => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

/** `Key` plus every expression value: a lower bound of an updated item's size. */
const updateSize = (u: Obj) => itemSize(u.Key) + itemSize(u.ExpressionAttributeValues);

/**
 * Capacity that AWS's rules give for a request (marshalled `input`) and its output
 * (`native` when a document client unmarshalled it). For writes whose final item
 * size is unknown (UpdateItem, DeleteItem) it counts what the request carries, so it
 * is a lower bound. `output` is undefined for a failed request: then only writes are
 * estimated (a failed conditional write is still billed).
 */
export function estimateCapacity(operation: string, input: unknown, output: unknown, native: boolean): Capacity {
  const i = isObj(input) ? input : {};
  const o = isObj(output) ? output : undefined;
  const strong = i.ConsistentRead === true;
  const none = { read: 0, write: 0 };
  switch (operation) {
    case "PutItem":
      return { read: 0, write: wcu(itemSize(i.Item)) };
    case "UpdateItem":
      return { read: 0, write: wcu(updateSize(i)) };
    case "DeleteItem":
      return { read: 0, write: wcu(itemSize(i.Key)) };
    case "BatchWriteItem": {
      const size = (r: unknown) =>
        entries(r).reduce(
          (n, [, reqs]) =>
            n +
            list(reqs).reduce<number>((m, q) => {
              const req = isObj(q) ? q : {};
              const put = isObj(req.PutRequest) ? req.PutRequest.Item : undefined;
              const del = isObj(req.DeleteRequest) ? req.DeleteRequest.Key : undefined;
              return m + wcu(itemSize(put ?? del));
            }, 0),
          0,
        );
      return { read: 0, write: Math.max(0, size(i.RequestItems) - size(o?.UnprocessedItems)) };
    }
    case "TransactWriteItems": {
      let read = 0;
      let write = 0;
      for (const t of list(i.TransactItems)) {
        const item = isObj(t) ? t : {};
        if (isObj(item.Put)) write += 2 * wcu(itemSize(item.Put.Item));
        else if (isObj(item.Update)) write += 2 * wcu(updateSize(item.Update));
        else if (isObj(item.Delete)) write += 2 * wcu(itemSize(item.Delete.Key));
        else if (isObj(item.ConditionCheck)) read += 2 * rcu(itemSize(item.ConditionCheck.Key), true);
      }
      return { read, write };
    }
    case "GetItem":
      return o ? { read: rcu(itemSize(o.Item, native), strong), write: 0 } : none;
    case "Query":
    case "Scan": {
      if (!o) return none;
      const bytes = list(o.Items).reduce<number>((n, it) => n + itemSize(it, native), 0);
      return { read: rcu(bytes, strong), write: 0 };
    }
    case "BatchGetItem": {
      if (!o) return none;
      let read = 0;
      for (const [table, request] of entries(i.RequestItems)) {
        const consistent = isObj(request) && request.ConsistentRead === true;
        const found = list(isObj(o.Responses) ? o.Responses[table] : undefined);
        const unprocessed = isObj(o.UnprocessedKeys) ? o.UnprocessedKeys[table] : undefined;
        const keys = list(isObj(request) ? request.Keys : undefined).length;
        const left = list(isObj(unprocessed) ? unprocessed.Keys : undefined).length;
        read += found.reduce<number>((n, it) => n + rcu(itemSize(it, native), consistent), 0);
        read += Math.max(0, keys - left - found.length) * rcu(0, consistent); // missing items
      }
      return { read, write: 0 };
    }
    case "TransactGetItems": {
      if (!o) return none;
      const responses = list(o.Responses);
      const read = list(i.TransactItems).reduce<number>((n, _, k) => {
        const r = responses[k];
        return n + 2 * rcu(itemSize(isObj(r) ? r.Item : undefined, native), true);
      }, 0);
      return { read, write: 0 };
    }
    default:
      return none;
  }
}
