/**
 * The AWS task scaler's requests (a stub SDK client records them; the emulator test
 * test/integration/aws-local-autoscale.test.ts runs the SQS side for real): the
 * backlog is GetQueueAttributes' waiting plus in-flight messages, and a concurrency
 * becomes UpdateEventSourceMapping's ScalingConfig.MaximumConcurrency, clamped to
 * Lambda's 2–1,000.
 */

import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  eventSourceMappingSetter,
  maximumConcurrencyFor,
  SqsTaskScaler,
  taskScalerFromEnv,
} from "../../functions/aws/sqs-lambda-scaler.ts";

/** A client whose `send` records each command's name and input and answers with `reply`. */
function stub<C>(reply: (input: Record<string, unknown>) => unknown) {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ command: cmd.constructor.name, input: cmd.input });
      return reply(cmd.input);
    },
  } as unknown as C;
  return { client, sent };
}

describe("SqsTaskScaler", () => {
  it("reads a queue's waiting and in-flight messages with one GetQueueAttributes", async () => {
    const sqs = stub<SQSClient>(() => ({
      Attributes: { ApproximateNumberOfMessages: "12", ApproximateNumberOfMessagesNotVisible: "3" },
    }));
    const scaler = new SqsTaskScaler({
      sqs: sqs.client,
      queueUrl: (t) => `https://sqs/q-${t}`,
      setMaximumConcurrency: async () => {},
    });
    expect(await scaler.backlog("count")).toEqual({ visible: 12, inFlight: 3 });
    expect(sqs.sent).toEqual([
      {
        command: "GetQueueAttributesCommand",
        input: {
          QueueUrl: "https://sqs/q-count",
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        },
      },
    ]);
  });

  it("sets the task's mapping to MaximumConcurrency = parallelism, at least 2 and at most 1,000", async () => {
    const lambda = stub<LambdaClient>(() => ({}));
    const scaler = new SqsTaskScaler({
      sqs: stub<SQSClient>(() => ({})).client,
      queueUrl: () => "",
      setMaximumConcurrency: eventSourceMappingSetter(lambda.client, { count: "uuid-1" }),
    });
    for (const n of [4, 1, 5000]) await scaler.setConcurrency("count", n);
    expect(lambda.sent).toEqual(
      [4, 2, 1000].map((MaximumConcurrency) => ({
        command: "UpdateEventSourceMappingCommand",
        input: { UUID: "uuid-1", ScalingConfig: { MaximumConcurrency } },
      })),
    );
    await expect(scaler.setConcurrency("other", 2)).rejects.toThrow(
      /no event source mapping is known for task 'other'/,
    );
    expect(maximumConcurrencyFor(3)).toBe(3);
  });

  it("names the task, mapping and value when the update fails", async () => {
    const lambda = stub<LambdaClient>(() => {
      throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
    });
    const set = eventSourceMappingSetter(lambda.client, { count: "uuid-1" });
    await expect(set("count", 3)).rejects.toThrow(
      "UpdateEventSourceMapping of task 'count' (uuid-1) to MaximumConcurrency 3 failed: TooManyRequestsException: Rate exceeded",
    );
  });

  it("refuses a RIFFLE_EVENT_SOURCE_MAPPINGS that is not JSON", () => {
    const sqs = stub<SQSClient>(() => ({})).client;
    expect(() => taskScalerFromEnv(sqs, () => "", { RIFFLE_EVENT_SOURCE_MAPPINGS: "{nope" })).toThrow(
      /RIFFLE_EVENT_SOURCE_MAPPINGS must be a JSON object/,
    );
  });
});
