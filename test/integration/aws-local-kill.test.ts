/**
 * Kill -9 of the whole `riffle dev --runtime aws-local` process — the event source
 * mappings, the task and coordinator handlers, the HTTP server — in the middle of
 * work, then a restart against the same emulators: the committed output must still
 * equal the oracle, every click counted exactly once.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { GetQueueAttributesCommand, ListQueuesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../core/ml/random.ts";
import { DynamoCheckpointStore } from "../../functions/aws/dynamo-checkpoint-store.ts";
import { dynamoClient, tableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoOutputStore } from "../../functions/aws/dynamo-output-store.ts";
import { sqsClient } from "../../functions/aws/sqs-queue.ts";
import {
  API_KEY,
  api,
  clickBatches,
  emulators,
  expectExactlyOnce,
  readOutput,
  stopEmulators,
  total,
  until,
} from "../support/aws-local-harness.ts";
import { uniquePrefix } from "../support/dynamo-local.ts";

const ROOT = join(import.meta.dirname, "..", "..");

afterAll(stopEmulators);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `riffle dev --runtime aws-local` on the shared emulators; resolves once its HTTP API answers. */
async function startDev(prefix: string, port: number): Promise<{ child: ChildProcess; stderr: () => string }> {
  const { sqs, dynamo } = await emulators();
  const child = spawn(
    process.execPath,
    [
      "bin/riffle.js",
      "dev",
      "examples/clicks.ts",
      "--runtime",
      "aws-local",
      "--port",
      String(port),
      "--prefix",
      prefix,
      "-p",
      "2",
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_SQS: sqs,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo,
        RIFFLE_API_KEYS: API_KEY,
        RIFFLE_TRACE_COORDINATOR: "1",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await Promise.race([
    until("riffle dev to serve HTTP", () => /HTTP API on/.test(err), 30_000),
    exited.then(() => {
      throw new Error(`riffle dev exited early:\n${err}`);
    }),
  ]);
  return { child, stderr: () => err };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Messages received but not yet deleted, over every queue of `prefix`. */
async function inFlight(sqs: SQSClient, prefix: string): Promise<number> {
  const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  let n = 0;
  for (const QueueUrl of QueueUrls.filter((u) => !u.includes("-dlq"))) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessagesNotVisible"] }),
    );
    n += Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return n;
}

describe("aws-local: a killed riffle dev process", () => {
  it("changes nothing in the committed output after a restart", async () => {
    const prefix = uniquePrefix("k");
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { dynamo, sqs: sqsUrl } = await emulators();
    const sqs = sqsClient(sqsUrl);
    const output = new DynamoOutputStore(dynamoClient(dynamo), tableNames(prefix));
    const counts = () => readOutput<{ user: string; n: number }>(output, "clicks", "counts");
    const rng = seededRandom(11);
    const { batches, counts: want } = clickBatches(12, 8);
    let dev = await startDev(prefix, port);
    let kills = 0;
    try {
      for (let i = 0; i < batches.length; i++) {
        const res = await api(base, "/jobs/clicks/sources/clicks/events", { body: JSON.stringify(batches[i]) });
        expect(res.status).toBe(202);
        if (i % 2 === 1) {
          // Kill everything at once while batches are in flight (received, not yet deleted).
          await until("a batch in flight", async () => (await inFlight(sqs, prefix)) > 0, 10_000);
          await new Promise((r) => setTimeout(r, Math.floor(rng() * 40)));
          await kill(dev.child);
          kills++;
          dev = await startDev(prefix, port);
          expect(dev.stderr()).toMatch(/generation \d+\b(?! \(new\))/);
        }
      }
      const checkpoints = new DynamoCheckpointStore(dynamoClient(dynamo), tableNames(prefix));
      const diagnose = async () => {
        const record = await checkpoints.loadJob("clicks");
        const manifests = (await checkpoints.listManifests("clicks")).slice(-5);
        return `record ${JSON.stringify(record)}\nlast manifests ${JSON.stringify(manifests)}\nriffle dev said:\n${dev.stderr().slice(-2000)}`;
      };
      await until("every click committed", async () => (await counts()).length >= total(want), 60_000, diagnose);
      expectExactlyOnce(await counts(), want);
      expect(kills).toBe(6);
    } finally {
      await kill(dev.child);
      sqs.destroy();
    }
  }, 180_000);
});
