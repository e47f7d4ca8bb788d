/**
 * DynamoDB changes as riffle's changelog: a scanned item and an `INSERT` are `+I`,
 * a `MODIFY` is `-U` (its old image) and `+U` (its new one), a `REMOVE` is `-D`
 * (its old image). Every change carries the item's primary key, so an upsert sink
 * needs no key columns and `keyBy(changeKey)` routes a key's changes to one
 * partition.
 */
import type { ChangeRecord, RowKind } from "../shared/changelog.ts";
import { keyString, type WireItem } from "./wire.ts";

/** One change of one item; `row` and `key` are in DynamoDB's wire form (see `wire.ts`). */
export interface DynamoChange extends ChangeRecord {
  readonly kind: RowKind;
  readonly row: WireItem;
  /** The item's primary key (partition key and sort key, if any). */
  readonly key: WireItem;
}

/** One stream record, as the reader needs it. */
export interface StreamRecordLite {
  readonly eventName: "INSERT" | "MODIFY" | "REMOVE";
  readonly sequenceNumber: string;
  readonly keys: WireItem;
  readonly newImage?: WireItem;
  readonly oldImage?: WireItem;
}

/** The changelog records of one stream record. */
export function changesOfRecord(r: StreamRecordLite): DynamoChange[] {
  const key = r.keys;
  if (r.eventName === "INSERT") return [{ kind: "+I", row: r.newImage ?? key, key }];
  if (r.eventName === "REMOVE") return [{ kind: "-D", row: r.oldImage ?? key, key }];
  const after: DynamoChange = { kind: "+U", row: r.newImage ?? key, key };
  return r.oldImage ? [{ kind: "-U", row: r.oldImage, key }, after] : [after];
}

/**
 * The change's primary key as a string: equal for equal keys. Key a stream of
 * changes by it before a parallel sink.
 *
 * @example
 * ```ts
 * env.fromSource(dynamodbCdc({ table: "orders" })).keyBy(changeKey)
 * ```
 */
export function changeKey(change: DynamoChange): string {
  return keyString(change.key);
}
