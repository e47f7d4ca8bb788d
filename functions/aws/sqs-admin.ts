/**
 * Local queue set-up with dead-letter queues, and the two DLQ operations an operator
 * needs: look at what is there, and move it back. The DLQ itself is SQS's: a
 * RedrivePolicy on the source queue moves a message to `<name>-dlq.fifo` on the
 * receive after its `maxReceiveCount`-th.
 */

import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { RiffleError } from "../../core/errors.ts";
import type { QueueDeadLetter } from "../../core/ports/queue.ts";
import { ensureQueues } from "./sqs-queue.ts";

/** One FIFO queue and its dead-letter queue. */
export interface QueueWithDlq {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

/** Options of {@link ensureQueuesWithDlq}. */
export interface EnsureQueuesWithDlqOptions {
  /** Visibility timeout of both queues, in seconds (default 30). */
  readonly visibilityTimeoutSeconds?: number;
  /** Receipts after which SQS moves a message to the DLQ (1–1000). */
  readonly maxReceiveCount: number;
}

/** A message found in a DLQ by {@link listDeadLetters}. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly groupId?: string;
  readonly sequenceNumber?: string;
  /** Receipts so far, counting the source queue's and this listing's own. */
  readonly receiveCount: number;
  /** When the message was first sent, in epoch ms. */
  readonly sentTimestamp: number;
}

/** What {@link listDeadLetters} saw. */
export interface DeadLetterListing {
  readonly messages: readonly DeadLetter[];
  /** ApproximateNumberOfMessages (visible) of the DLQ before the listing. */
  readonly approximateTotal: number;
}

const DLQ_RETENTION_S = "1209600"; // 14 days, SQS's maximum
const HOLD_S = 30;

/**
 * Creates (idempotently) `<name>.fifo` and `<name>-dlq.fifo` per name, and sets the
 * source queue's RedrivePolicy to the DLQ with `maxReceiveCount`. The DLQ keeps
 * messages for 14 days.
 */
export async function ensureQueuesWithDlq(
  client: SQSClient,
  names: readonly string[],
  options: EnsureQueuesWithDlqOptions,
): Promise<Record<string, QueueWithDlq>> {
  const { maxReceiveCount } = options;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new RiffleError("queue-config", `maxReceiveCount must be an integer in [1, 1000], got ${maxReceiveCount}`);
  }
  const visibility = { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30 };
  const dlqUrls = await ensureQueues(
    client,
    names.map((n) => `${n}-dlq`),
    visibility,
  );
  const urls = await ensureQueues(client, names, visibility);
  const out: Record<string, QueueWithDlq> = {};
  for (const name of names) {
    const [url, dlqUrl] = [urls[name], dlqUrls[`${name}-dlq`]];
    if (!url || !dlqUrl) throw new RiffleError("queue-create", `ensureQueues returned no URL for ${name} or its DLQ`);
    const [arn, dlqArn] = [await queueArn(client, url), await queueArn(client, dlqUrl)];
    await call(`set the retention of ${dlqUrl}`, () =>
      client.send(
        new SetQueueAttributesCommand({ QueueUrl: dlqUrl, Attributes: { MessageRetentionPeriod: DLQ_RETENTION_S } }),
      ),
    );
    const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(maxReceiveCount) });
    await call(`set the RedrivePolicy of ${url}`, () =>
      client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy } })),
    );
    out[name] = { url, arn, dlqUrl, dlqArn };
  }
  return out;
}

/**
 * Lists a DLQ without consuming it. SQS cannot peek: every message is received (held
 * `holdSeconds`, default 30, so one listing sees each at most once) and then made
 * visible again with ChangeMessageVisibility 0. Consequences: each listing adds one to
 * a message's receive count; on a FIFO queue only the messages a receive can reach are
 * seen, i.e. the head of each group (fauxqs: one per group; AWS: up to 10 per group):
 * `messages.length < approximateTotal` says the listing is partial. Do not list while
 * something else consumes the DLQ.
 */
export async function listDeadLetters(
  client: SQSClient,
  dlqUrl: string,
  options: { holdSeconds?: number; limit?: number } = {},
): Promise<DeadLetterListing> {
  const attrs = await call(`read the attributes of ${dlqUrl}`, () =>
    client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["ApproximateNumberOfMessages"] })),
  );
  const approximateTotal = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
  const limit = options.limit ?? 1000;
  const received: Message[] = [];
  try {
    while (received.length < limit) {
      const batch = await receive(client, dlqUrl, Math.min(10, limit - received.length), options.holdSeconds ?? HOLD_S);
      if (batch.length === 0) break;
      received.push(...batch);
    }
  } finally {
    for (let i = 0; i < received.length; i += 10) {
      const Entries = received
        .slice(i, i + 10)
        .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
      await call(`release listed messages of ${dlqUrl}`, () =>
        client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries })),
      );
    }
  }
  const messages = received.map((m) => ({
    messageId: m.MessageId ?? "",
    body: m.Body ?? "",
    ...(m.Attributes?.MessageGroupId ? { groupId: m.Attributes.MessageGroupId } : {}),
    ...(m.Attributes?.SequenceNumber ? { sequenceNumber: m.Attributes.SequenceNumber } : {}),
    receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
    sentTimestamp: Number(m.Attributes?.SentTimestamp ?? 0),
  }));
  return { messages, approximateTotal };
}

/**
 * Moves every message of a DLQ back to `targetUrl` (a FIFO queue): same body, message
 * attributes and MessageGroupId, a fresh MessageDeduplicationId (the source queue
 * would drop the original one as a duplicate within its 5-minute window). Each receive
 * is sent before it is deleted, so per-group order holds and a crash duplicates rather
 * than loses; riffle's own dedup by (gen, channel, seq) absorbs the duplicate.
 * Returns the number of messages moved.
 * @throws RiffleError when a message has no MessageGroupId or a send fails (the failed
 *   messages are made visible in the DLQ again).
 */
export async function redrive(client: SQSClient, dlqUrl: string, targetUrl: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const batch = await receive(client, dlqUrl, 10, HOLD_S);
    if (batch.length === 0) return moved;
    const entries = batch.map((m, i) => {
      const group = m.Attributes?.MessageGroupId;
      if (!group) {
        throw new RiffleError(
          "redrive",
          `DLQ message ${m.MessageId} of ${dlqUrl} has no MessageGroupId to redrive with`,
        );
      }
      return {
        Id: String(i),
        MessageBody: m.Body ?? "",
        MessageGroupId: group,
        MessageDeduplicationId: `redrive-${randomUUID()}`,
        ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
      };
    });
    const out = await call(`redrive ${batch.length} messages to ${targetUrl}`, () =>
      client.send(new SendMessageBatchCommand({ QueueUrl: targetUrl, Entries: entries })),
    );
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    const sent = batch.filter((_, i) => !failed.has(String(i)));
    const unsent = batch.filter((_, i) => failed.has(String(i)));
    if (sent.length > 0) {
      const Entries = sent.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle }));
      await call(`delete redriven messages from ${dlqUrl}`, () =>
        client.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries })),
      );
      moved += sent.length;
    }
    if (unsent.length > 0) {
      const Entries = unsent.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
      await call(`release unsent messages of ${dlqUrl}`, () =>
        client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries })),
      );
      const first = out.Failed?.[0];
      throw new RiffleError(
        "redrive",
        `redrive to ${targetUrl}: ${unsent.length} of ${batch.length} sends failed (${first?.Code}: ${first?.Message ?? ""}); ${moved} moved so far`,
        { cause: out.Failed, retryable: !first?.SenderFault },
      );
    }
  }
}

async function receive(client: SQSClient, url: string, max: number, holdSeconds: number): Promise<Message[]> {
  const input = {
    QueueUrl: url,
    MaxNumberOfMessages: max,
    VisibilityTimeout: holdSeconds,
    WaitTimeSeconds: 0,
    MessageSystemAttributeNames: ["All" as const],
    MessageAttributeNames: ["All"],
  };
  const out = await call(`receive from ${url}`, () => client.send(new ReceiveMessageCommand(input)));
  return out.Messages ?? [];
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const out = await call(`read the ARN of ${url}`, () =>
    client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new RiffleError("queue-create", `GetQueueAttributes of ${url} returned no QueueArn`);
  return arn;
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    const name = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new RiffleError("queue-call-failed", `SQS: could not ${what}: ${name}`, { cause, retryable: true });
  }
}

/** Messages waiting or in flight in a queue (ApproximateNumberOfMessages + NotVisible). */
export async function approximateBacklog(client: SQSClient, url: string): Promise<number> {
  const b = await approximateBacklogOf(client, url);
  return b.visible + b.inFlight;
}

/** A queue's waiting (ApproximateNumberOfMessages) and in-flight (…NotVisible) messages. */
export async function approximateBacklogOf(
  client: SQSClient,
  url: string,
): Promise<{ visible: number; inFlight: number }> {
  const out = await call(`read the attributes of ${url}`, () =>
    client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    ),
  );
  const a = out.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** The envelopes in every task's dead-letter queue (`dlqs`: task id → DLQ URL), as the job control reports them. */
export async function queueDeadLetters(
  client: SQSClient,
  dlqs: Readonly<Record<string, string>>,
): Promise<QueueDeadLetter[]> {
  const out: QueueDeadLetter[] = [];
  for (const [task, url] of Object.entries(dlqs)) {
    const listing = await listDeadLetters(client, url);
    for (const m of listing.messages) {
      out.push({
        task,
        group: Number(m.groupId),
        body: JSON.parse(m.body),
        receiveCount: m.receiveCount,
        error: "moved to the DLQ after maxReceiveCount receives",
      });
    }
  }
  return out;
}
