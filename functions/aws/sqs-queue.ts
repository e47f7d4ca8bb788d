/**
 * The {@link Queue} port over Amazon SQS FIFO queues (AWS SDK v3): one FIFO queue per
 * task, one message group per partition, one message per envelope (JSON body).
 */

import { createHash, randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  type MessageSystemAttributeName,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Envelope, OutboxEntry } from "../../core/envelope.ts";
import { ProtocolError, RiffleError } from "../../core/errors.ts";
import type { Queue, ReceivedMessage } from "../../core/ports/queue.ts";
import { awsClientConfig, type RequestTimeouts, SQS_TIMEOUTS } from "./client-config.ts";

/** SQS's limit on one message and on the sum of one batch's messages, in bytes. */
export const SQS_MAX_BYTES = 1_048_576;
const MAX_BATCH = 10;
const MAX_VISIBILITY_S = 43_200;
const SEND_ATTEMPTS = 4;
/** Failures of stale receipts: ignored, as the in-memory queue does (a redelivery is deduplicated). */
const STALE_RECEIPT = new Set(["ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidParameterValue"]);
const SYSTEM_ATTRIBUTES: MessageSystemAttributeName[] = ["ApproximateReceiveCount", "MessageGroupId"];

/** Options of {@link SqsQueue}. */
export interface SqsQueueOptions {
  /** The queue URL of a task's FIFO queue. */
  readonly urls: (task: string) => string;
}

/** Options of {@link ensureQueues}. */
export interface EnsureQueuesOptions {
  /** Visibility timeout of the created queues, in seconds (default 30). */
  readonly visibilityTimeoutSeconds?: number;
}

/**
 * Builds an SQS client for region `AWS_REGION` (default us-east-1). The endpoint is
 * `endpoint` or `AWS_ENDPOINT_URL`; with a custom endpoint and no `AWS_ACCESS_KEY_ID`,
 * dummy credentials are used (local emulators do not check them). A request unanswered
 * after `timeouts` fails and is retried (see {@link awsClientConfig}).
 */
export function sqsClient(endpoint?: string, timeouts: RequestTimeouts = SQS_TIMEOUTS): SQSClient {
  return new SQSClient(awsClientConfig(endpoint, timeouts));
}

/**
 * Creates (idempotently) one FIFO queue `<name>.fifo` per name, with explicit
 * deduplication ids (no content-based deduplication). Returns the URLs by name.
 */
export async function ensureQueues(
  client: SQSClient,
  names: readonly string[],
  options: EnsureQueuesOptions = {},
): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const name of names) {
    const QueueName = `${name}.fifo`;
    if (!/^[A-Za-z0-9_-]+\.fifo$/.test(QueueName) || QueueName.length > 80) {
      throw new RiffleError("queue-name", `invalid SQS FIFO queue name '${QueueName}' (A-Z a-z 0-9 - _, ≤ 80 chars)`);
    }
    const VisibilityTimeout = String(options.visibilityTimeoutSeconds ?? 30);
    const Attributes = { FifoQueue: "true", ContentBasedDeduplication: "false", VisibilityTimeout };
    const create = new CreateQueueCommand({ QueueName, Attributes });
    const out = await call(`create queue ${QueueName}`, () => client.send(create));
    if (!out.QueueUrl) throw new RiffleError("queue-create", `CreateQueue of ${QueueName} returned no URL`);
    urls[name] = out.QueueUrl;
  }
  return urls;
}

/** The SQS FIFO implementation of the {@link Queue} port. The DLQ is the queue's RedrivePolicy. */
export class SqsQueue implements Queue {
  private readonly client: SQSClient;
  private readonly urls: (task: string) => string;
  constructor(client: SQSClient, options: SqsQueueOptions) {
    this.client = client;
    this.urls = options.urls;
  }

  /** Sends in order per task queue, in batches of ≤ 10 entries and ≤ 1 MiB; never drops an envelope. */
  async send(entries: readonly OutboxEntry[]): Promise<void> {
    const batches = new Map<string, { entries: SendMessageBatchRequestEntry[]; bytes: number }[]>();
    for (const { to, envelope } of entries) {
      const body = encodeEnvelope(envelope);
      const size = Buffer.byteLength(body, "utf8");
      if (size > SQS_MAX_BYTES) {
        const what = `envelope to ${to.task}[${to.partition}] from channel '${envelope.from}' seq ${envelope.seq}`;
        throw new RiffleError(
          "queue-message-too-large",
          `${what} is ${size} bytes, over SQS's limit of ${SQS_MAX_BYTES}`,
        );
      }
      const list = batches.get(to.task) ?? [];
      batches.set(to.task, list);
      let last = list.at(-1);
      if (!last || last.entries.length === MAX_BATCH || last.bytes + size > SQS_MAX_BYTES) {
        last = { entries: [], bytes: 0 };
        list.push(last);
      }
      last.bytes += size;
      const [Id, MessageGroupId] = [String(last.entries.length), String(to.partition)];
      last.entries.push({
        Id,
        MessageBody: body,
        MessageGroupId,
        MessageDeduplicationId: dedupId(to.partition, envelope),
      });
    }
    await Promise.all(
      [...batches].map(async ([task, list]) => {
        const url = this.urls(task);
        for (const batch of list) await this.sendBatch(task, url, batch.entries);
      }),
    );
  }

  /** Sends one batch; entries that fail (not by the sender's fault) are retried in order. */
  private async sendBatch(task: string, url: string, batch: SendMessageBatchRequestEntry[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      const out = await call(`send to ${task}`, () =>
        this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending })),
      );
      const failed = out.Failed ?? [];
      if (failed.length === 0) return;
      const ids = new Set(failed.map((f) => f.Id));
      const fatal = failed.find((f) => f.SenderFault) ?? (attempt >= SEND_ATTEMPTS ? failed[0] : undefined);
      if (fatal) {
        const group = pending.find((e) => e.Id === fatal.Id)?.MessageGroupId;
        const msg = `send to ${task}[${group}]: ${failed.length} entries failed after ${attempt} attempt(s)`;
        const options = { cause: failed, retryable: !fatal.SenderFault };
        throw new RiffleError("queue-send-failed", `${msg}: ${fatal.Code}: ${fatal.Message ?? ""}`, options);
      }
      pending = pending.filter((e) => ids.has(e.Id));
      await new Promise((r) => setTimeout(r, 25 * attempt));
    }
  }

  /** One ReceiveMessage (no long polling) of up to min(max, 10) messages. */
  async receive(task: string, max: number): Promise<ReceivedMessage[]> {
    if (max < 1) return [];
    const QueueUrl = this.urls(task);
    const MaxNumberOfMessages = Math.min(Math.floor(max), MAX_BATCH);
    const input = { QueueUrl, MaxNumberOfMessages, MessageSystemAttributeNames: SYSTEM_ATTRIBUTES, WaitTimeSeconds: 0 };
    const out = await call(`receive from ${task}`, () => this.client.send(new ReceiveMessageCommand(input)));
    return (out.Messages ?? []).map((m) => {
      const group = Number(m.Attributes?.MessageGroupId);
      if (!m.ReceiptHandle || !Number.isInteger(group)) {
        throw new ProtocolError(`message ${m.MessageId} of ${task} has no receipt handle or numeric group`);
      }
      const receiveCount = Number(m.Attributes?.ApproximateReceiveCount ?? 1);
      return { receipt: m.ReceiptHandle, group, body: decodeEnvelope(m.Body ?? "", task), receiveCount };
    });
  }

  /** Deletes the messages; stale receipts are ignored (those messages are redelivered and deduplicated). */
  async ack(task: string, receipts: readonly string[]): Promise<void> {
    for (let i = 0; i < receipts.length; i += MAX_BATCH) {
      const Entries = receipts.slice(i, i + MAX_BATCH).map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle }));
      const out = await call(`ack on ${task}`, () =>
        this.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.urls(task), Entries })),
      );
      checkSettled(`ack on ${task}`, out.Failed);
    }
  }

  /**
   * Makes the messages visible again after `delayMs` (rounded up to seconds, at most
   * 12 h). SQS keeps no per-message error: `error` is not recorded.
   */
  async nack(task: string, receipts: readonly string[], delayMs: number, _error: string): Promise<void> {
    const VisibilityTimeout = Math.min(MAX_VISIBILITY_S, Math.max(0, Math.ceil(delayMs / 1000)));
    for (let i = 0; i < receipts.length; i += MAX_BATCH) {
      const chunk = receipts.slice(i, i + MAX_BATCH);
      const Entries = chunk.map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle, VisibilityTimeout }));
      const out = await call(`nack on ${task}`, () =>
        this.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.urls(task), Entries })),
      );
      checkSettled(`nack on ${task}`, out.Failed);
    }
  }
}

/** Runs one SDK call, wrapping its failure in a retryable {@link RiffleError}. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    const name = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new RiffleError("queue-call-failed", `SQS ${what} failed: ${name}`, { cause, retryable: true });
  }
}

/** Throws on failed ack/nack entries, except stale receipts. */
function checkSettled(what: string, failed: readonly { Code?: string }[] | undefined): void {
  const real = (failed ?? []).filter((f) => !STALE_RECEIPT.has(f.Code ?? ""));
  const msg = `SQS ${what}: ${real.length} entries failed (${real[0]?.Code})`;
  if (real.length > 0) throw new RiffleError("queue-settle-failed", msg, { cause: real, retryable: true });
}

/**
 * Deduplication id of an envelope sent to `partition`. The destination partition is
 * part of it: SQS deduplicates per queue, and one channel id (e.g. `$ctl`, or an
 * upstream partition) sends the same seqs to several partitions of one task.
 * Unsequenced envelopes (seq ≤ 0: ticks, starts) get a unique id, except windowed
 * starts: one id per partition, generation and window (`core/control/wake-window.ts`).
 */
export function dedupId(partition: number, envelope: Envelope): string {
  const s = envelope.signal;
  const windowed = s?.kind === "start" && s.until !== undefined;
  if (!(envelope.seq > 0) && !windowed) return `u-${randomUUID()}`;
  const raw = `${partition}-${envelope.gen}-${envelope.from}-${windowed ? `w${s.until}` : envelope.seq}`;
  // Percent-encode what SQS rejects (and '%' itself), so distinct ids stay distinct.
  const id = raw.replace(/[^A-Za-z0-9!"#$&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/gu, (c) =>
    [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
  );
  if (id.length <= 128) return id;
  return `h-${createHash("sha256").update(raw).digest("hex")}`;
}

/**
 * JSON body of an envelope. JSON writes NaN (a missing event time) as null. UTF-16
 * surrogates and U+FFFE/U+FFFF are written as `\uXXXX` escapes: SQS (or its emulator)
 * rejects them raw, and JSON.parse restores them.
 */
export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelope).replace(/[\ud800-\udfff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Parses a message body into an envelope; null times become NaN again, a null watermark (from ±∞) becomes -∞. */
export function decodeEnvelope(body: string, task: string): Envelope {
  let e: (Envelope & { times?: (number | null)[] }) | undefined;
  try {
    e = JSON.parse(body);
  } catch (cause) {
    throw new ProtocolError(`malformed message body on ${task}: ${body.slice(0, 200)}`, { cause });
  }
  if (typeof e?.from !== "string" || !Array.isArray(e.records)) throw new ProtocolError(`not an envelope on ${task}`);
  const times = e.times?.map((t) => (typeof t === "number" ? t : Number.NaN));
  const badWatermark = e.signal?.kind === "watermark" && typeof e.signal.t !== "number";
  const signal = badWatermark ? { kind: "watermark" as const, t: Number.NEGATIVE_INFINITY } : e.signal;
  return { ...e, ...(times ? { times } : {}), ...(signal ? { signal } : {}) };
}
