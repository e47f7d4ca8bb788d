/**
 * The local SQS event source mapping, ensureQueuesWithDlq, listDeadLetters and redrive
 * against fauxqs (started in-process on first use: if it cannot start, every test here
 * fails). Batches with several records of one group, which fauxqs never returns, are
 * covered by test/unit/esm-results.test.ts.
 */

import { createHash, randomUUID } from "node:crypto";
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ensureQueuesWithDlq, listDeadLetters, redrive } from "../../functions/aws/sqs-admin.ts";
import { sqsClient } from "../../functions/aws/sqs-queue.ts";
import {
  type EventSourceMapping,
  type EventSourceMappingOptions,
  type InvocationInfo,
  startEventSourceMapping,
} from "../../functions/local/esm.ts";
import { type LocalSqs, startLocalSqs } from "../../functions/local/sqs-local.ts";

let started: Promise<{ server: LocalSqs; client: SQSClient }> | undefined;
const fauxqs = () => {
  started ??= startLocalSqs().then(
    (server) => ({ server, client: sqsClient(server.endpoint) }),
    (cause) => {
      throw new Error(`fauxqs (in-process SQS emulator) could not start: ${cause}`, { cause });
    },
  );
  return started;
};
afterAll(async () => {
  const s = await started?.catch(() => undefined);
  s?.client.destroy();
  await s?.server.stop();
});

const running: EventSourceMapping[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});
const start = (options: EventSourceMappingOptions) => {
  const esm = startEventSourceMapping(options);
  running.push(esm);
  return esm;
};

let n = 0;
/** A fresh FIFO queue with a DLQ and a 1 s visibility timeout. */
async function fifo(label: string, maxReceiveCount = 100) {
  const { client } = await fauxqs();
  const name = `esm-${label}-${++n}-${Date.now().toString(36)}`;
  const queues = await ensureQueuesWithDlq(client, [name], { visibilityTimeoutSeconds: 1, maxReceiveCount });
  const q = queues[name];
  if (!q) throw new Error(`ensureQueuesWithDlq returned nothing for ${name}`);
  return { client, ...q };
}

/** Sends `group:index` bodies in the given order. */
async function send(client: SQSClient, url: string, bodies: readonly string[]) {
  for (let i = 0; i < bodies.length; i += 10) {
    const Entries = bodies.slice(i, i + 10).map((body, j) => ({
      Id: String(j),
      MessageBody: body,
      MessageGroupId: body.split(":")[0],
      MessageDeduplicationId: randomUUID(),
    }));
    const out = await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    expect(out.Failed ?? []).toEqual([]);
  }
}

async function counts(client: SQSClient, url: string) {
  const AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] as const;
  const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...AttributeNames] }));
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 8000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Deliveries as `body#receiveCount`, in handler order, with their time. */
function recorder() {
  const log: { tag: string; at: number; record: SQSRecord }[] = [];
  return {
    log,
    note(event: SQSEvent) {
      for (const r of event.Records)
        log.push({ tag: `${r.body}#${r.attributes.ApproximateReceiveCount}`, at: Date.now(), record: r });
    },
    of: (group: string) => log.filter((d) => d.tag.startsWith(`${group}:`)).map((d) => d.tag),
    has: (tag: string) => log.some((d) => d.tag === tag),
  };
}

describe("local SQS event source mapping on fauxqs", () => {
  it("delivers every message once, in order per group, in batches ≤ batchSize, never two batches of a group at once", async () => {
    const q = await fifo("order");
    const groups = ["a", "b", "c", "d", "e"];
    await send(
      q.client,
      q.url,
      Array.from({ length: 60 }, (_, i) => `${groups[i % 5]}:${Math.floor(i / 5)}`),
    );
    const seen = recorder();
    const sizes: number[] = [];
    const active = new Set<string>();
    let [overlaps, concurrent, maxConcurrent] = [0, 0, 0];
    const esm = start({
      client: q.client,
      queueUrl: q.url,
      batchSize: 3,
      concurrency: 4,
      functionName: "order-fn",
      handler: async (event, context) => {
        expect(context.functionName).toBe("order-fn");
        expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
        sizes.push(event.Records.length);
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        const held = new Set(event.Records.map((r) => r.attributes.MessageGroupId ?? "?"));
        for (const g of held) {
          if (active.has(g)) overlaps++;
          active.add(g);
        }
        await sleep(5 + Math.random() * 15);
        seen.note(event);
        for (const g of held) active.delete(g);
        concurrent--;
      },
    });
    await waitFor("60 deliveries", () => seen.log.length >= 60);
    await esm.stop();

    const first = seen.log[0]?.record;
    expect(first).toMatchObject({
      eventSource: "aws:sqs",
      eventSourceARN: q.arn,
      awsRegion: "us-east-1",
      messageAttributes: {},
      md5OfBody: createHash("md5")
        .update(first?.body ?? "")
        .digest("hex"),
    });
    for (const key of ["SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp", "SequenceNumber"]) {
      expect(first?.attributes).toHaveProperty(key);
    }
    expect(first?.attributes.MessageGroupId).toBe(first?.body.split(":")[0]);
    expect(first?.attributes.MessageDeduplicationId).toMatch(/^[0-9a-f-]{36}$/);
    for (const g of groups) expect(seen.of(g)).toEqual(Array.from({ length: 12 }, (_, i) => `${g}:${i}#1`));
    expect(overlaps).toBe(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.some((s) => s > 1)).toBe(true);
    expect(maxConcurrent).toBeGreaterThan(1);
    expect(maxConcurrent).toBeLessThanOrEqual(4);
    expect(esm.stats()).toEqual({
      invocations: sizes.length,
      records: 60,
      failedRecords: 0,
      errors: 0,
      sqsErrors: 0,
      maximumConcurrency: 4,
      peakInFlight: maxConcurrent,
    });
    expect(await counts(q.client, q.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("honours a MaximumConcurrency set while it runs (autoscaling), down to one invocation at a time and up again", async () => {
    const q = await fifo("maxconc");
    const groups = ["a", "b", "c", "d", "e", "f"];
    let [concurrent, peak] = [0, 0];
    let delivered = 0;
    const esm = start({
      client: q.client,
      queueUrl: q.url,
      batchSize: 1,
      concurrency: 4,
      handler: async () => {
        peak = Math.max(peak, ++concurrent);
        await sleep(20);
        concurrent--;
        delivered++;
      },
    });
    esm.setMaximumConcurrency(1);
    await send(
      q.client,
      q.url,
      Array.from({ length: 24 }, (_, i) => `${groups[i % 6]}:${i}`),
    );
    await waitFor("24 deliveries", () => delivered >= 24);
    expect(peak).toBe(1);
    expect(esm.stats()).toMatchObject({ maximumConcurrency: 1, peakInFlight: 1 });
    esm.setMaximumConcurrency(3);
    await send(
      q.client,
      q.url,
      Array.from({ length: 24 }, (_, i) => `${groups[i % 6]}:${24 + i}`),
    );
    await waitFor("48 deliveries", () => delivered >= 48);
    expect(esm.stats().maximumConcurrency).toBe(3);
    expect(esm.stats().peakInFlight).toBeGreaterThan(1);
    expect(esm.stats().peakInFlight).toBeLessThanOrEqual(3);
    expect(() => esm.setMaximumConcurrency(0)).toThrow(/maximumConcurrency/);
  });

  it("holds a redelivery (visibility timeout shorter than the handler) until its group's batch has settled", async () => {
    const q = await fifo("slow");
    await send(q.client, q.url, ["s:0", "s:1"]);
    const seen = recorder();
    const logs: string[] = [];
    let [inside, overlaps] = [0, 0];
    start({
      client: q.client,
      queueUrl: q.url,
      log: (line) => logs.push(line),
      timeoutMs: 1000, // the slow batch runs past it: said once, not enforced
      handler: async (event) => {
        if (++inside > 1) overlaps++;
        seen.note(event);
        // 1.6 s > the 1 s visibility timeout: fauxqs hands s:0 out again meanwhile.
        if (event.Records.some((r) => r.body === "s:0" && r.attributes.ApproximateReceiveCount === "1"))
          await sleep(1600);
        inside--;
      },
    });
    await waitFor("s:1 delivered", () => seen.has("s:1#1"));
    expect(overlaps).toBe(0);
    expect(seen.of("s")).toEqual(["s:0#1", "s:0#2", "s:1#1"]);
    expect(logs.some((l) => /holding message \S+ of group 's'/.test(l))).toBe(true);
    expect(logs.filter((l) => /\(groups s\) has run 1000 ms, past the function's timeout/.test(l))).toHaveLength(1);
  });

  it("partial failure: deletes unlisted records; the failed one returns after the visibility timeout, before its group's next", async () => {
    const q = await fifo("partial");
    await send(q.client, q.url, ["a:0", "b:0", "a:1", "b:1", "a:2"]);
    const seen = recorder();
    const infos: InvocationInfo[] = [];
    const esm = start({
      client: q.client,
      queueUrl: q.url,
      onInvoke: (info) => infos.push(info),
      handler: async (event): Promise<SQSBatchResponse> => {
        seen.note(event);
        const bad = event.Records.filter((r) => r.body === "a:0" && r.attributes.ApproximateReceiveCount === "1");
        return { batchItemFailures: bad.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    await waitFor("a:2 and b:1", () => seen.has("a:2#1") && seen.has("b:1#1"));
    expect(seen.of("a")).toEqual(["a:0#1", "a:0#2", "a:1#1", "a:2#1"]);
    expect(seen.of("b")).toEqual(["b:0#1", "b:1#1"]);
    const at = (tag: string) => seen.log.find((d) => d.tag === tag)?.at ?? Number.NaN;
    expect(at("a:0#2") - at("a:0#1")).toBeGreaterThanOrEqual(900);
    expect(infos.filter((i) => i.failed > 0)).toEqual([expect.objectContaining({ failed: 1 })]);
    expect(esm.stats()).toMatchObject({ records: 6, failedRecords: 1, errors: 0 });
  });

  it("a thrown handler leaves the whole batch; with retryDelayMs 0 it returns at once", async () => {
    const q = await fifo("throw");
    await send(q.client, q.url, ["x:0", "y:0"]);
    const seen = recorder();
    const infos: InvocationInfo[] = [];
    let calls = 0;
    const esm = start({
      client: q.client,
      queueUrl: q.url,
      retryDelayMs: 0,
      onInvoke: (info) => infos.push(info),
      handler: async (event) => {
        seen.note(event);
        if (++calls === 1) throw new Error("boom");
      },
    });
    await waitFor("both redelivered", () => seen.has("x:0#2") && seen.has("y:0#2"));
    expect(seen.log.slice(0, 2).map((d) => d.tag)).toEqual(["x:0#1", "y:0#1"]);
    expect(infos[0]).toMatchObject({ records: 2, failed: 2, error: new Error("boom") });
    const first = seen.log[0]?.at ?? 0;
    expect(Math.max(...seen.log.slice(2).map((d) => d.at)) - first).toBeLessThan(800);
    expect(esm.stats()).toMatchObject({ failedRecords: 2, errors: 1 });
  });

  it("an itemIdentifier that is not in the batch fails the whole batch", async () => {
    const q = await fifo("invalid");
    await send(q.client, q.url, ["x:0", "y:0"]);
    const seen = recorder();
    const infos: InvocationInfo[] = [];
    let calls = 0;
    start({
      client: q.client,
      queueUrl: q.url,
      retryDelayMs: 0,
      onInvoke: (info) => infos.push(info),
      handler: async (event) => {
        seen.note(event);
        return ++calls === 1 ? { batchItemFailures: [{ itemIdentifier: "not-a-message-of-this-batch" }] } : undefined;
      },
    });
    await waitFor("both redelivered", () => seen.has("x:0#2") && seen.has("y:0#2"));
    expect(infos[0]?.failed).toBe(2);
    expect(String(infos[0]?.error)).toMatch(/itemIdentifier 'not-a-message-of-this-batch' is not the messageId of any/);
  });

  it("after maxReceiveCount failures a message is in the DLQ; redrive brings it back and it is processed", async () => {
    const q = await fifo("dlq", 2);
    await send(q.client, q.url, ["p:0", "p:1", "h:0"]);
    const seen = recorder();
    let poisoned = true;
    start({
      client: q.client,
      queueUrl: q.url,
      retryDelayMs: 0,
      handler: async (event) => {
        seen.note(event);
        const bad = event.Records.filter((r) => poisoned && r.body === "p:0");
        return { batchItemFailures: bad.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    await waitFor("p:1 and h:0", () => seen.has("p:1#1") && seen.has("h:0#1"));
    expect(seen.of("p")).toEqual(["p:0#1", "p:0#2", "p:1#1"]);
    const listing = await listDeadLetters(q.client, q.dlqUrl);
    expect(listing.approximateTotal).toBe(1);
    expect(listing.messages).toEqual([expect.objectContaining({ body: "p:0", groupId: "p" })]);
    expect((await listDeadLetters(q.client, q.dlqUrl)).messages.map((m) => m.body)).toEqual(["p:0"]);

    poisoned = false;
    expect(await redrive(q.client, q.dlqUrl, q.url)).toBe(1);
    await waitFor("p:0 redriven", () => seen.of("p").length === 4);
    expect(seen.of("p")).toEqual(["p:0#1", "p:0#2", "p:1#1", "p:0#1"]);
    expect(await listDeadLetters(q.client, q.dlqUrl)).toEqual({ messages: [], approximateTotal: 0 });
    await waitFor("queue drained", async () => {
      const c = await counts(q.client, q.url);
      return c.visible + c.inFlight === 0;
    });
  });

  it("stop() waits for the in-flight invocation and releases what it received but did not deliver", async () => {
    const q = await fifo("stop");
    await send(q.client, q.url, ["w:0"]);
    let enter: () => void = () => {};
    let release: () => void = () => {};
    const entered = new Promise<void>((r) => {
      enter = r;
    });
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const bodies: string[] = [];
    const esm = start({
      client: q.client,
      queueUrl: q.url,
      handler: async (event) => {
        bodies.push(...event.Records.map((r) => r.body));
        enter();
        await gate;
      },
    });
    await entered;
    let stopped = false;
    const stopping = esm.stop().then(() => {
      stopped = true;
    });
    await send(q.client, q.url, ["v:0"]); // caught by the pending long poll, never delivered
    await sleep(300);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(bodies).toEqual(["w:0"]);
    expect(esm.stats()).toMatchObject({ invocations: 1, records: 1, failedRecords: 0 });
    expect(await counts(q.client, q.url)).toEqual({ visible: 1, inFlight: 0 });
  });
});
