import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientConfig } from "../../connectors/dynamodb/api.ts";
import { awsClientConfig, CALL_TIMEOUTS, SQS_TIMEOUTS } from "../../functions/aws/client-config.ts";
import { dynamoClient } from "../../functions/aws/dynamo-client.ts";
import { sqsClient } from "../../functions/aws/sqs-queue.ts";

// A server that accepts every request and never answers: what a wedged emulator looks like.
let server: Server;
let endpoint: string;
let requests = 0;

beforeAll(async () => {
  server = createServer(() => {
    requests++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("AWS client configuration", () => {
  it("uses dummy credentials for an explicit endpoint and none for AWS itself", () => {
    const local = awsClientConfig("http://127.0.0.1:1");
    expect(local.endpoint).toBe("http://127.0.0.1:1");
    expect(local.credentials?.accessKeyId).toBe("riffle");
    const saved = process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL;
    try {
      const aws = awsClientConfig();
      expect(aws.endpoint).toBeUndefined();
      expect(aws.credentials).toBeUndefined();
      expect(aws.requestHandler.requestTimeout).toBeGreaterThan(0);
    } finally {
      if (saved !== undefined) process.env.AWS_ENDPOINT_URL = saved;
    }
  });

  it("keeps a user's endpoint signed by the default chain when keys are set, and takes the user's region", () => {
    const saved = process.env.AWS_ACCESS_KEY_ID;
    try {
      process.env.AWS_ACCESS_KEY_ID = "AKIAEXAMPLE";
      const user = clientConfig({ endpoint: "https://dynamodb.eu-west-1.amazonaws.com", region: "eu-west-1" });
      expect(user.endpoint).toBe("https://dynamodb.eu-west-1.amazonaws.com");
      expect(user.region).toBe("eu-west-1");
      expect(user.credentials).toBeUndefined();
      expect(user.requestHandler.requestTimeout).toBe(CALL_TIMEOUTS.requestTimeoutMs);
      // riffle's own explicit endpoint is an emulator's: dummy credentials whatever the environment
      expect(awsClientConfig("http://127.0.0.1:1").credentials?.accessKeyId).toBe("riffle");
      delete process.env.AWS_ACCESS_KEY_ID;
      expect(clientConfig({ endpoint: "http://127.0.0.1:1" }).credentials?.accessKeyId).toBe("riffle");
    } finally {
      if (saved === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved;
    }
  });

  it("gives SQS a timeout past the longest long poll (20 s), and calls one a loaded emulator meets", () => {
    expect(SQS_TIMEOUTS.requestTimeoutMs).toBeGreaterThan(20_000);
    expect(CALL_TIMEOUTS.requestTimeoutMs).toBeGreaterThanOrEqual(10_000);
    expect(awsClientConfig(undefined).requestHandler.requestTimeout).toBe(CALL_TIMEOUTS.requestTimeoutMs);
  });

  it("ends a request to a server that never answers, instead of hanging its caller", async () => {
    const before = requests;
    // The factory's default is 30 s; a short one keeps the test quick.
    const client = dynamoClient(endpoint, { requestTimeoutMs: 300 });
    const started = Date.now();
    const error = await client.send(new GetItemCommand({ TableName: "t", Key: { pk: { S: "a" } } })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(20_000);
    // Retried as transient: the standard strategy makes more than one attempt.
    expect(requests - before).toBeGreaterThan(1);
    client.destroy();
  });

  it("applies the SQS client's timeout too", async () => {
    const client = sqsClient(endpoint, { requestTimeoutMs: 300 });
    const error = await client
      .send(new GetQueueAttributesCommand({ QueueUrl: `${endpoint}/q`, AttributeNames: ["All"] }))
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.name).toBe("TimeoutError");
    client.destroy();
  });
});
