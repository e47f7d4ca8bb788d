/**
 * Runs the queue contract against the in-memory queue and against SqsQueue on fauxqs
 * (an in-process SQS emulator started once for this file). If fauxqs cannot start,
 * every SQS test fails.
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { InMemoryQueue, SystemClock } from "../../core/index.ts";
import { dedupId, ensureQueues, SqsQueue, sqsClient } from "../../functions/aws/sqs-queue.ts";
import { type LocalSqs, startLocalSqs } from "../../functions/local/sqs-local.ts";
import { queueContract } from "./queue.contract.ts";

// InMemoryQueue has no message size limit (yet): see the report in the brief's answer.
queueContract(
  "InMemoryQueue",
  async () => ({
    queue: new InMemoryQueue(new SystemClock(), { spanGroups: true }),
    task: "t",
    close: async () => {},
  }),
  { enforcesSizeLimit: false },
);

describe("SqsQueue on fauxqs", () => {
  // Started on first use from each test's setup (not in beforeAll), so a server that
  // cannot start fails every test instead of leaving them skipped.
  let started: Promise<{ server: LocalSqs; client: SQSClient }> | undefined;
  let n = 0;
  const fauxqs = () => {
    started ??= startLocalSqs().then((server) => ({ server, client: sqsClient(server.endpoint) }));
    return started;
  };
  afterAll(async () => {
    const s = await started?.catch(() => undefined);
    s?.client.destroy();
    await s?.server.stop();
  });

  queueContract("SqsQueue (fauxqs)", async () => {
    const { client } = await fauxqs();
    const task = `t${++n}x${Date.now().toString(36)}`;
    const urls = await ensureQueues(client, [task], { visibilityTimeoutSeconds: 30 });
    const queue = new SqsQueue(client, {
      urls: (t) => {
        const url = urls[t];
        if (!url) throw new Error(`no queue for task ${t}`);
        return url;
      },
    });
    return { queue, task, close: async () => {} };
  });
});

describe("dedupId", () => {
  const allowed = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

  it("keeps distinct (channel, seq, partition) distinct and within SQS's alphabet", () => {
    const ids = [
      dedupId(0, { gen: 1, from: "a b#0", seq: 1, records: [] }),
      dedupId(0, { gen: 1, from: "a_b#0", seq: 1, records: [] }),
      dedupId(0, { gen: 1, from: "a%20b#0", seq: 1, records: [] }),
      dedupId(1, { gen: 1, from: "a b#0", seq: 1, records: [] }),
      dedupId(0, { gen: 1, from: "ü#0", seq: 1, records: [] }),
      dedupId(0, { gen: 1, from: "x".repeat(300), seq: 1, records: [] }),
      dedupId(0, { gen: 1, from: "x".repeat(301), seq: 1, records: [] }),
    ];
    for (const id of ids) expect(id).toMatch(allowed);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("is stable for a sequenced envelope and unique for an unsequenced one", () => {
    const e = { gen: 2, from: "map#3", seq: 9, records: [] };
    expect(dedupId(1, e)).toBe(dedupId(1, { ...e }));
    const tick = { gen: 2, from: "$tick", seq: 0, records: [] };
    expect(dedupId(1, tick)).not.toBe(dedupId(1, tick));
    expect(dedupId(1, tick)).toMatch(allowed);
  });

  it("gives windowed starts one id per partition, generation and window; plain starts a unique one", () => {
    const start = (until?: number, gen = 2) => ({
      gen,
      from: "$start",
      seq: 0,
      records: [],
      signal: until === undefined ? { kind: "start" as const } : { kind: "start" as const, until },
    });
    expect(dedupId(0, start(1000))).toBe(dedupId(0, start(1000)));
    expect(dedupId(0, start(1000))).toMatch(allowed);
    const others = [dedupId(0, start(2000)), dedupId(1, start(1000)), dedupId(0, start(1000, 3))];
    expect(new Set([dedupId(0, start(1000)), ...others]).size).toBe(4);
    expect(dedupId(0, start())).not.toBe(dedupId(0, start()));
  });
});
