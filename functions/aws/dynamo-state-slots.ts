/**
 * The writes of the log table's slots that make the generation fence:
 *
 * - a segment's (`DynamoStateStore.append`): its items (`chunkedItems`: the main
 *   item, then its chunks) in ONE conditional PutItem, or one TransactWriteItems
 *   when there are chunks. The condition takes a free slot or a void marker of a
 *   generation ≤ the segment's, so the log stays gapless and a zombie of an older
 *   generation cannot write where a restore voided;
 * - a truncation's (`DynamoStateStore.truncate`): void markers of the new
 *   generation over the voided slots, then over the next free one.
 */

import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import { batchWriteAll, type Item, type WriteRequest } from "./dynamo-batch.ts";
import { type CancellationReason, conditionalCall, type RawItem, transactCall } from "./dynamo-client.ts";
import type { LogEntry } from "./dynamo-state-log.ts";
import { LogKey } from "./dynamo-state-log.ts";

/** How a segment's write ended: written, or refused by the condition (`old`: the slot's item, when returned). */
export type SegmentWrite = { readonly ok: true } | { readonly ok: false; readonly old: RawItem | undefined };

/** Writes `items` of the segment `what` of generation `gen` into `table`, if its slot is free (see the module comment). */
export async function writeSegmentItems(
  doc: DynamoDBDocumentClient,
  table: string,
  what: string,
  items: readonly Item[],
  gen: number,
): Promise<SegmentWrite> {
  const put = {
    TableName: table,
    Item: items[0] as Item,
    ConditionExpression: "attribute_not_exists(pk) OR (attribute_exists(#v) AND #v <= :gen)",
    ExpressionAttributeNames: { "#v": "v" },
    ExpressionAttributeValues: { ":gen": gen },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  };
  if (items.length === 1) {
    const r = await conditionalCall(`PutItem of ${what}`, () => doc.send(new PutCommand(put)));
    return r.ok ? r : { ok: false, old: r.old };
  }
  const TransactItems = [{ Put: put }, ...items.slice(1).map((Item) => ({ Put: { TableName: table, Item } }))];
  const r = await transactCall(`TransactWriteItems of ${what} (${items.length} items)`, () =>
    doc.send(new TransactWriteCommand({ TransactItems })),
  );
  return r.ok ? r : { ok: false, old: firstCancellation(what, r.reasons) };
}

/** The old item of a cancelled append's condition; throws when the cancellation was not the condition. */
function firstCancellation(what: string, reasons: readonly CancellationReason[]): RawItem | undefined {
  const first = reasons[0];
  if (first?.Code === "ConditionalCheckFailed") return first.Item;
  const codes = reasons.map((r) => r.Code ?? "?").join(", ");
  throw new RiffleError("dynamo-transaction-cancelled", `TransactWriteItems of ${what} was cancelled: ${codes}`, {
    cause: reasons,
    retryable: true,
  });
}

/** The writes that void `entries` (the slots past the cut) of log partition `pk` for `generation`, and the highest slot. */
export function voidWrites(
  pk: string,
  entries: readonly LogEntry[],
  cut: number,
  generation: number,
): { writes: WriteRequest[]; top: number } {
  const writes: WriteRequest[] = [];
  let top = cut;
  for (const e of entries) {
    top = Math.max(top, e.n);
    const v = Math.max(generation, e.kind === "void" ? e.v : 0);
    writes.push({ put: { pk, sk: LogKey.segment(e.n), n: e.n, v } });
    if (e.kind === "live") for (let i = 1; i < e.chunks; i++) writes.push({ delete: { pk, sk: LogKey.chunk(e.n, i) } });
  }
  return { writes, top };
}

/**
 * Fences the next free slot of log partition `pk` after `top` for `generation`
 * (`where`: the partition, as messages name it); a slot a zombie took meanwhile is
 * voided too.
 */
export async function fenceNext(
  doc: DynamoDBDocumentClient,
  table: string,
  pk: string,
  top: number,
  generation: number,
  where: string,
): Promise<void> {
  for (let n = top + 1; ; n++) {
    const marker = { pk, sk: LogKey.segment(n), n, v: generation };
    const r = await conditionalCall(`PutItem of the fence marker ${n} of ${where}`, () =>
      doc.send(
        new PutCommand({
          TableName: table,
          Item: marker,
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      ),
    );
    if (r.ok || Number(r.old?.v?.N ?? 0) >= generation) break;
    const chunks = Number(r.old?.k?.N ?? 1);
    const stray: WriteRequest[] = [{ put: { ...marker, v: Math.max(generation, Number(r.old?.v?.N ?? 0)) } }];
    for (let i = 1; i < chunks; i++) stray.push({ delete: { pk, sk: LogKey.chunk(n, i) } });
    await batchWriteAll(doc, table, stray);
  }
}
