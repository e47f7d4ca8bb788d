/**
 * Pure helpers of the local event source mapping ({@link ./esm.ts}): the queue's
 * identity (ARN, region), SQS messages turned into Lambda `SQSRecord`s, the Lambda
 * `Context`, and the reading of a handler's `SQSBatchResponse` as AWS reads it.
 */

import { createHash, randomUUID } from "node:crypto";
import type { Message } from "@aws-sdk/client-sqs";
import type { Context, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import { describeCause, ProtocolError } from "../../core/errors.ts";

/** Where a queue lives, as the records of an event name it. */
export interface QueueIdentity {
  /** `eventSourceARN` of the records. */
  readonly arn: string;
  /** `awsRegion` of the records. */
  readonly region: string;
  /** The account id (12 digits). */
  readonly account: string;
  /** The queue name (with `.fifo`). */
  readonly name: string;
}

/**
 * The identity of the queue at `queueUrl`. An explicit `queueArn` wins; otherwise the
 * ARN is derived from the URL (`…sqs.<region>.…/<account>/<name>`), with region
 * `AWS_REGION` (default us-east-1) and account 000000000000 where the URL lacks them.
 */
export function queueIdentity(queueUrl: string, queueArn?: string): QueueIdentity {
  if (queueArn) {
    const parts = queueArn.split(":");
    const [region, account, name] = [parts[3], parts[4], parts[5]];
    if (parts.length !== 6 || parts[2] !== "sqs" || !region || !account || !name) {
      throw new ProtocolError(`queueArn '${queueArn}' is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)`);
    }
    return { arn: queueArn, region, account, name };
  }
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch (cause) {
    throw new ProtocolError(`queueUrl '${queueUrl}' is not a URL`, { cause });
  }
  const segments = url.pathname.split("/").filter(Boolean);
  const name = segments.at(-1);
  if (!name) throw new ProtocolError(`queueUrl '${queueUrl}' names no queue (expected …/<account>/<name>)`);
  const account = segments.length >= 2 && /^\d{12}$/.test(segments[0] ?? "") ? (segments[0] ?? "") : "000000000000";
  const region = /^sqs\.([a-z0-9-]+)\./.exec(url.hostname)?.[1] ?? process.env.AWS_REGION ?? "us-east-1";
  return { arn: `arn:aws:sqs:${region}:${account}:${name}`, region, account, name };
}

/** The system attributes the mapping asks SQS for (those a Lambda SQS record carries). */
export const RECORD_ATTRIBUTES = [
  "ApproximateReceiveCount",
  "SentTimestamp",
  "SenderId",
  "ApproximateFirstReceiveTimestamp",
  "SequenceNumber",
  "MessageGroupId",
  "MessageDeduplicationId",
] as const;
const REQUIRED: readonly (keyof SQSRecordAttributes)[] = [
  "ApproximateReceiveCount",
  "SentTimestamp",
  "SenderId",
  "ApproximateFirstReceiveTimestamp",
];

/**
 * The Lambda record of one received message, shaped as Lambda delivers it (message
 * attributes in Lambda's lower-camel form, binary values in base64).
 * @throws ProtocolError when the message lacks an id, a receipt handle or a required attribute.
 */
export function toSqsRecord(message: Message, queue: QueueIdentity): SQSRecord {
  const { MessageId: messageId, ReceiptHandle: receiptHandle } = message;
  if (!messageId || !receiptHandle) {
    throw new ProtocolError(`a message received from ${queue.name} has no MessageId or ReceiptHandle`);
  }
  const got = message.Attributes ?? {};
  const missing = REQUIRED.filter((a) => got[a] === undefined);
  if (missing.length > 0) {
    throw new ProtocolError(`message ${messageId} of ${queue.name} lacks system attribute(s) ${missing.join(", ")}`);
  }
  const attributes = {} as SQSRecordAttributes;
  for (const name of RECORD_ATTRIBUTES) {
    const value = got[name];
    if (value !== undefined) attributes[name] = value;
  }
  const body = message.Body ?? "";
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: v.DataType ?? "String",
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString("base64") } : {}),
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString("base64")),
    };
  }
  return {
    messageId,
    receiptHandle,
    body,
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? createHash("md5").update(body, "utf8").digest("hex"),
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queue.arn,
    awsRegion: queue.region,
  };
}

/** How one invocation's result settles its records. */
export interface BatchOutcome {
  /** Message ids to leave on the queue (retried); every other record is deleted. */
  readonly failed: ReadonlySet<string>;
  /**
   * Ids failed only by the FIFO rule: a later record of a group in which the handler
   * reported an earlier failure, though the handler did not list it.
   */
  readonly implied: readonly string[];
  /** Why the response fails the whole batch (malformed, or an unknown/empty itemIdentifier). */
  readonly invalid?: string;
}

/**
 * Reads a handler's response as Lambda does with `ReportBatchItemFailures`:
 * - `undefined`/`null`, no or null `batchItemFailures`, or an empty list: all succeeded;
 * - a non-object, a non-array `batchItemFailures`, an entry whose `itemIdentifier` is
 *   missing, empty or not a message id of this batch: the whole batch failed;
 * - otherwise the listed records failed, and (FIFO) so did every later record of the
 *   same message group in the batch, so that a group is never consumed past a failure.
 *   AWS's documentation asks the function to list those itself; this mapping enforces it
 *   and reports the ones it added in `implied`.
 */
export function evaluateResponse(records: readonly SQSRecord[], response: unknown): BatchOutcome {
  const all = (invalid: string): BatchOutcome => ({
    failed: new Set(records.map((r) => r.messageId)),
    implied: [],
    invalid,
  });
  if (response === undefined || response === null) return { failed: new Set(), implied: [] };
  if (typeof response !== "object" || Array.isArray(response)) {
    return all(`the handler resolved with ${describe(response)}, not an SQSBatchResponse object`);
  }
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { failed: new Set(), implied: [] };
  if (!Array.isArray(failures)) return all(`batchItemFailures is ${describe(failures)}, not an array`);
  const ids = new Set(records.map((r) => r.messageId));
  const listed = new Set<string>();
  for (const [i, entry] of failures.entries()) {
    const id: unknown = (entry as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== "string" || id === "") {
      return all(`batchItemFailures[${i}] has no non-empty string itemIdentifier (got ${describe(entry)})`);
    }
    if (!ids.has(id)) {
      return all(
        `batchItemFailures[${i}].itemIdentifier '${id}' is not the messageId of any of the ${ids.size} records`,
      );
    }
    listed.add(id);
  }
  const failed = new Set(listed);
  const implied: string[] = [];
  const failedGroups = new Set<string>();
  for (const r of records) {
    const group = r.attributes.MessageGroupId;
    if (group === undefined) continue;
    if (failedGroups.has(group) && !failed.has(r.messageId)) {
      failed.add(r.messageId);
      implied.push(r.messageId);
    }
    if (failed.has(r.messageId)) failedGroups.add(group);
  }
  return { failed, implied };
}

function describe(value: unknown): string {
  const text = Array.isArray(value) ? `an array ${describeCause(value)}` : `${typeof value} ${describeCause(value)}`;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * A Lambda `Context` for one invocation. `getRemainingTimeInMillis` counts down from
 * `timeoutMs`; the timeout is reported, not enforced. The deprecated callbacks throw.
 */
export function lambdaContext(functionName: string, queue: QueueIdentity, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const awsRequestId = randomUUID();
  const unsupported = (what: string) => () => {
    throw new ProtocolError(`context.${what}() is not supported by the local event source mapping: resolve a promise`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${queue.region}:${queue.account}:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replaceAll("-", "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported("done"),
    fail: unsupported("fail"),
    succeed: unsupported("succeed"),
  };
}
