/**
 * How the local SQS event source mapping settles a batch, on batches that only AWS
 * produces (several records of one message group; fauxqs returns one per group):
 * the pure reading of a handler's response, and the mapping driven by a scripted
 * SQS client. The mapping against fauxqs is tested in test/integration/esm.test.ts.
 */

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { startEventSourceMapping } from "../../functions/local/esm.ts";
import { evaluateResponse } from "../../functions/local/esm-records.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("batch results (AWS batches may hold several records of one group)", () => {
  const rec = (id: string, group: string) =>
    ({ messageId: id, receiptHandle: `rh-${id}`, attributes: { MessageGroupId: group } }) as unknown as SQSRecord;
  const batch = [rec("a1", "a"), rec("a2", "a"), rec("b1", "b"), rec("a3", "a"), rec("b2", "b")];

  it("reads success, partial failure with the FIFO rule, and invalid responses as AWS does", () => {
    for (const ok of [undefined, null, {}, { batchItemFailures: [] }, { batchItemFailures: null }]) {
      expect(evaluateResponse(batch, ok)).toEqual({ failed: new Set(), implied: [] });
    }
    expect(evaluateResponse(batch, { batchItemFailures: [{ itemIdentifier: "a2" }] })).toEqual({
      failed: new Set(["a2", "a3"]),
      implied: ["a3"],
    });
    const bad = [
      "ok",
      [],
      { batchItemFailures: "a1" },
      { batchItemFailures: [{ itemIdentifier: "" }] },
      { batchItemFailures: [{ ItemIdentifier: "a1" }] },
      { batchItemFailures: [{ itemIdentifier: "zz" }] },
    ];
    for (const response of bad) {
      const out = evaluateResponse(batch, response);
      expect(out.failed.size, JSON.stringify(response)).toBe(5);
      expect(out.invalid).toBeTypeOf("string");
    }
  });

  it("the mapping deletes a1, b1, b2 and retries a2 and the later a3 when the handler lists only a2", async () => {
    const messages: Message[] = batch.map((r) => ({
      MessageId: r.messageId,
      ReceiptHandle: r.receiptHandle,
      Body: r.messageId,
      Attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1",
        SenderId: "x",
        ApproximateFirstReceiveTimestamp: "1",
        MessageGroupId: r.attributes.MessageGroupId ?? "",
      },
    }));
    const [deleted, retried]: [string[], string[]] = [[], []];
    let receives = 0;
    const client = {
      send: async (command: unknown) => {
        if (command instanceof ReceiveMessageCommand) {
          if (receives++ === 0) return { Messages: messages };
          await sleep(20);
          return {};
        }
        if (command instanceof DeleteMessageBatchCommand) {
          deleted.push(...(command.input.Entries ?? []).map((e) => e.ReceiptHandle ?? ""));
          return { Successful: [], Failed: [] };
        }
        if (command instanceof ChangeMessageVisibilityBatchCommand) {
          retried.push(...(command.input.Entries ?? []).map((e) => `${e.ReceiptHandle}@${e.VisibilityTimeout}`));
          return { Successful: [], Failed: [] };
        }
        throw new Error(`unexpected command ${String(command)}`);
      },
    } as unknown as SQSClient;
    const logs: string[] = [];
    let calls = 0;
    const esm = startEventSourceMapping({
      client,
      queueUrl: "http://sqs.eu-west-1.localhost:1/000000000000/scripted.fifo",
      retryDelayMs: 0,
      waitTimeSeconds: 0,
      log: (line) => logs.push(line),
      handler: async (event) => {
        calls++;
        expect(event.Records.map((r) => r.messageId)).toEqual(["a1", "a2", "b1", "a3", "b2"]);
        expect(event.Records[0]?.eventSourceARN).toBe("arn:aws:sqs:eu-west-1:000000000000:scripted.fifo");
        return { batchItemFailures: [{ itemIdentifier: "a2" }] };
      },
    });
    for (let i = 0; i < 500 && esm.stats().invocations === 0; i++) await sleep(10);
    await esm.stop();
    expect(calls).toBe(1);
    expect(deleted).toEqual(["rh-a1", "rh-b1", "rh-b2"]);
    expect(retried).toEqual(["rh-a2@0", "rh-a3@0"]);
    expect(logs.some((l) => l.includes("1 by the FIFO rule: a3"))).toBe(true);
  });
});
