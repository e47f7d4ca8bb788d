/**
 * How the local event source mapping settles a batch, as Lambda does: it deletes the
 * records that did not fail, and with a retry delay shortens the failed ones'
 * invisibility so they return sooner than the queue's visibility timeout.
 */

import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { describeCause } from "../../core/errors.ts";

/** What settling needs of the mapping: its queue, its name and log, and a counter of SQS errors. */
export interface Settler {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly name: string;
  readonly log: (line: string) => void;
  readonly sqsError: () => void;
}

/** Deletes the records that did not fail; with `retryDelayMs`, shortens the failed ones' invisibility. */
export async function settleBatch(
  s: Settler,
  records: readonly SQSRecord[],
  failed: ReadonlySet<string>,
  retryDelayMs: number | undefined,
): Promise<void> {
  const done = records.filter((r) => !failed.has(r.messageId));
  for (let i = 0; i < done.length; i += 10) {
    const Entries = done.slice(i, i + 10).map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle }));
    try {
      const out = await s.client.send(new DeleteMessageBatchCommand({ QueueUrl: s.queueUrl, Entries }));
      for (const f of out.Failed ?? []) {
        s.sqsError();
        s.log(`${s.name}: delete of entry ${f.Id} failed: ${f.Code} ${f.Message ?? ""} (it will be redelivered)`);
      }
    } catch (cause) {
      s.sqsError();
      s.log(
        `${s.name}: delete of ${Entries.length} messages failed (they will be redelivered): ${describeCause(cause)}`,
      );
    }
  }
  if (retryDelayMs === undefined) return;
  const retry = records.filter((r) => failed.has(r.messageId));
  if (retry.length > 0) await changeVisibility(s, retry, Math.ceil(retryDelayMs / 1000), "retry");
}

/** Sets the visibility timeout of `records` to `seconds` (0 releases them); `why` names the cause in a failure line. */
export async function changeVisibility(
  s: Settler,
  records: readonly SQSRecord[],
  seconds: number,
  why: string,
): Promise<void> {
  for (let i = 0; i < records.length; i += 10) {
    const chunk = records.slice(i, i + 10);
    const Entries = chunk.map((r, j) => ({
      Id: String(j),
      ReceiptHandle: r.receiptHandle,
      VisibilityTimeout: seconds,
    }));
    try {
      const input = { QueueUrl: s.queueUrl, Entries };
      const out = await s.client.send(new ChangeMessageVisibilityBatchCommand(input));
      for (const f of out.Failed ?? []) {
        s.sqsError();
        s.log(`${s.name}: ${why}: visibility ${seconds}s of entry ${f.Id} failed: ${f.Code} ${f.Message ?? ""}`);
      }
    } catch (cause) {
      s.sqsError();
      s.log(`${s.name}: ${why}: visibility ${seconds}s of ${chunk.length} messages failed: ${describeCause(cause)}`);
    }
  }
}
