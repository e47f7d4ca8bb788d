/**
 * What only the DynamoDB stores have to prove: payloads over DynamoDB's 400 KB item
 * limit, the transaction limit, concurrent writers in other store instances (other
 * Lambdas), and the generation fence against a zombie that holds a warm cache.
 */

import { randomBytes } from "node:crypto";
import { DescribeTimeToLiveCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { RiffleError, SegmentConflictError, SegmentFencedError } from "../../core/errors.ts";
import type { Savepoint } from "../../core/ports/checkpoint-store.ts";
import type { PartitionBase } from "../../core/ports/state-store.ts";
import { DynamoCheckpointStore } from "../../functions/aws/dynamo-checkpoint-store.ts";
import { documentClient, dynamoClient, ensureTables, type TableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoIngestLog, IngestTooLargeError } from "../../functions/aws/dynamo-ingest-log.ts";
import { DynamoOutputStore } from "../../functions/aws/dynamo-output-store.ts";
import { SegmentTooLargeError } from "../../functions/aws/dynamo-state-log.ts";
import { DynamoStateStore } from "../../functions/aws/dynamo-state-store.ts";
import { ns, ref, seg, sent, set } from "./state-store.contract-helpers.ts";

type Fresh = () => Promise<{ client: DynamoDBClient; tables: TableNames; endpoint: string }>;

/** A client of `endpoint` that counts its requests by command name. */
function countingClient(endpoint: string): { client: DynamoDBClient; counts: Map<string, number> } {
  const client = dynamoClient(endpoint);
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? "?", (counts.get(context.commandName ?? "?") ?? 0) + 1);
      return next(args);
    },
    { step: "initialize" },
  );
  return { client, counts };
}

/** An empty partition base at `through`. */
function baseOf(through: number): PartitionBase {
  return {
    through,
    sentThrough: through,
    positions: {},
    outSeqs: {},
    opState: {},
    watermarks: {},
    ended: [],
    finished: false,
    buffered: [],
  };
}

/** Items of partition key `pk` in `table`. */
async function items(client: DynamoDBClient, table: string, pk: string): Promise<Record<string, unknown>[]> {
  const out = await documentClient(client).send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
    }),
  );
  return out.Items ?? [];
}

/** Defines the DynamoDB-only tests; `fresh` gives a client and new tables per test. */
export function dynamoSpecificTests(fresh: Fresh): void {
  describe("DynamoDB stores: limits and concurrent instances", () => {
    it("ensureTables is idempotent and enables TTL on the log table", async () => {
      const { client, tables } = await fresh();
      await ensureTables(client, tables);
      await Promise.all([ensureTables(client, tables), ensureTables(client, tables)]);
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tables.log }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: "ENABLED", AttributeName: "exp" });
      const bad = await ensureTables(client, { ...tables, output: "x" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(bad).toBeInstanceOf(RiffleError);
      expect((bad as RiffleError).message).toMatch(/CreateTable x failed: ValidationException/);
      expect((bad as RiffleError).retryable).toBe(false);
    });

    it("splits a segment over 400 KB into chunk items and reads it back whole, also as a base value", async () => {
      const { client, tables } = await fresh();
      const store = new DynamoStateStore(client, tables, "job");
      // Incompressible (segments are stored compressed): about 1 MB after brotli, 3 chunk items.
      const big = randomBytes(1_000_000).toString("base64");
      const s1 = seg(1, { changes: [set("big", big), set("small", 1)], sink: { out: ["x".repeat(100)] } });
      const bytes = await store.append("t", 0, s1);
      expect(bytes).toBeGreaterThan(900_000);
      const logItems = await items(client, tables.log, "job#t#0");
      expect(logItems.filter((i) => String(i.sk).startsWith("s"))).toHaveLength(3);

      const other = new DynamoStateStore(client, tables, "job");
      expect(await other.readSegments("t", 0, 0)).toEqual([s1]);
      expect(await other.getState("t", [ref("big"), ref("small")])).toEqual([big, 1]);
      await store.append("t", 0, sent(2));
      expect(await store.compact("t", 0, 1)).toBe(1);
      const cold = new DynamoStateStore(client, tables, "job");
      expect(await cold.getState("t", [ref("big"), ref("small")])).toEqual([big, 1]);
      expect(await cold.scanState("t", "op/v", 0, 127)).toContainEqual(["big", big]);
      expect(await cold.exportState("t", 0, 2, 0, 127)).toContainEqual(set("big", big));
    });

    it("keeps request counts low: a warm append is one PutItem, a warm getState one BatchGetItem and one Query", async () => {
      const { client: setup, tables, endpoint } = await fresh();
      await new DynamoStateStore(setup, tables, "job").putState("t", [set("base", "b", 5)]);
      const { client, counts } = countingClient(endpoint);
      try {
        const store = new DynamoStateStore(client, tables, "job");
        // Cold start of a partition: what the runner's loader does.
        await store.readBase("t", 0);
        await store.readSegments("t", 0, 0);
        await store.append("t", 0, seg(1, { changes: [set("a", 1, 5)] }));
        // The segments' query reads the base's item too: no GetItem of it.
        expect(Object.fromEntries(counts)).toEqual({ QueryCommand: 2, UpdateItemCommand: 1, PutItemCommand: 1 });
        counts.clear();
        await store.append("t", 0, seg(2, { changes: [set("a", 2, 5)] }));
        await store.append("t", 0, seg(3, { changes: [set("b", 3, 5)] }));
        expect(Object.fromEntries(counts)).toEqual({ PutItemCommand: 2 });
        counts.clear();
        expect(await store.getState("t", [ref("a", 5), ref("b", 5), ref("base", 5)])).toEqual([2, 3, "b"]);
        expect(Object.fromEntries(counts)).toEqual({ BatchGetItemCommand: 1, QueryCommand: 1 });
        counts.clear();
        expect(await store.getState("t", [ref("a", 5)])).toEqual([2]);
        expect(Object.fromEntries(counts)).toEqual({ BatchGetItemCommand: 1, QueryCommand: 1 });
      } finally {
        client.destroy();
      }
    });

    it("never shares objects with the caller: committed and returned values are copies", async () => {
      const { client, tables } = await fresh();
      const store = new DynamoStateStore(client, tables, "job");
      await store.readSegments("t", 0, 0); // loads the (empty) overlay, as a runner does
      const value = { n: 1, list: [1] };
      await store.append("t", 0, seg(1, { changes: [set("a", value)] }));
      value.n = 99;
      value.list.push(99);
      const [got] = (await store.getState("t", [ref("a")])) as [{ n: number; list: number[] }];
      expect(got).toEqual({ n: 1, list: [1] });
      got.list.push(7);
      expect(await store.getState("t", [ref("a")])).toEqual([{ n: 1, list: [1] }]);
      expect(await store.scanState("t", "op/v", 0, 127)).toEqual([["a", { n: 1, list: [1] }]]);
    });

    it("refuses a segment beyond one transaction with a typed error that says to split the batch", async () => {
      const { client, tables } = await fresh();
      const store = new DynamoStateStore(client, tables, "job");
      const huge = seg(1, { changes: [set("a", randomBytes(4_200_000).toString("base64"))] });
      const err = await store.append("t", 3, huge).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SegmentTooLargeError);
      expect((err as Error).message).toMatch(/segment 1 of t\[3\] is \d+ bytes/);
      expect((err as Error).message).toMatch(/split its batch/);
      expect(await store.readSegments("t", 3, 0)).toEqual([]);
      await store.append("t", 3, seg(1, { changes: [set("a", "fits")] }));
      expect(await store.getState("t", [ref("a")])).toEqual(["fits"]);
    });

    it("getState sees what other instances append, compact and truncate", async () => {
      const { client, tables } = await fresh();
      const reader = new DynamoStateStore(client, tables, "job");
      const writer = new DynamoStateStore(client, tables, "job");
      await writer.append("t", 0, sent(1, [set("a", 1), set("b", 1)]));
      expect(await reader.getState("t", [ref("a"), ref("b")])).toEqual([1, 1]);
      await writer.append("t", 0, sent(2, [set("a", 2)]));
      await writer.append("t", 0, sent(3, [set("b", 3)]));
      expect(await reader.getState("t", [ref("a"), ref("b")])).toEqual([2, 3]);
      await writer.append("t", 0, sent(4, [set("a", 4)]));
      expect(await writer.compact("t", 0, 3)).toBe(3);
      await writer.append("t", 0, sent(5, [set("b", 5)]));
      expect(await reader.getState("t", [ref("a"), ref("b")])).toEqual([4, 5]);
      await writer.truncate("t", 0, 3, 2);
      expect(await reader.getState("t", [ref("a"), ref("b")])).toEqual([2, 3]);
      await writer.append("t", 0, sent(4, [set("a", 40)], { gen: 2 }));
      expect(await reader.getState("t", [ref("a"), ref("b")])).toEqual([40, 3]);
      // A key group first written by another partition after the reader's first read.
      await writer.append("t", 1, seg(1, { changes: [set("c", "p1", 1)] }));
      expect(await reader.getState("t", [ref("c"), ref("a")])).toEqual(["p1", 40]);
    });

    it("fences a zombie with a warm cache and a cold one: no old-generation segment enters the log", async () => {
      const { client, tables } = await fresh();
      const zombie = new DynamoStateStore(client, tables, "job");
      await zombie.append("t", 0, seg(1, { changes: [set("a", 1)] }));
      await zombie.append("t", 0, seg(2, { changes: [set("a", 2)] }));
      await zombie.append("t", 0, seg(3, { changes: [set("a", 3)] }));
      const restorer = new DynamoStateStore(client, tables, "job");
      await restorer.truncate("t", 0, 2, 2);
      // The zombie's cache says the head is 3: it tries 4, a slot the restore fenced.
      await expect(zombie.append("t", 0, seg(4, { changes: [set("z", 1)] }))).rejects.toBeInstanceOf(
        SegmentFencedError,
      );
      // A zombie whose view ended at 2 tries the voided slot 3.
      const warm2 = new DynamoStateStore(client, tables, "job");
      warm2.parts.set("job#t#0", { last: 2, maxGen: 1, overlay: undefined, added: 0 });
      await expect(warm2.append("t", 0, seg(3, { changes: [set("z", 1)] }))).rejects.toBeInstanceOf(
        SegmentConflictError,
      );
      const cold = new DynamoStateStore(client, tables, "job");
      await expect(cold.append("t", 0, seg(3, { changes: [set("z", 1)] }))).rejects.toBeInstanceOf(SegmentFencedError);
      await restorer.append("t", 0, seg(3, { gen: 2, changes: [set("a", 30)] }));
      await restorer.append("t", 0, seg(4, { gen: 2 }));
      await expect(zombie.append("t", 0, seg(5, { changes: [set("z", 1)] }))).rejects.toBeInstanceOf(
        SegmentFencedError,
      );
      const segs = await new DynamoStateStore(client, tables, "job").readSegments("t", 0, 0);
      expect(segs.map((s) => [s.n, s.gen])).toEqual([
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 2],
      ]);
      expect(await cold.getState("t", [ref("a"), ref("z")])).toEqual([30, undefined]);
      expect(ns(await zombie.readSegments("t", 0, 0))).toEqual([1, 2, 3, 4]);
    });

    it("after a savepoint reset, a zombie's segment below the new base stays invisible and the fence holds", async () => {
      const { client, tables } = await fresh();
      const zombie = new DynamoStateStore(client, tables, "job");
      for (let n = 1; n <= 3; n++) await zombie.append("t", 0, seg(n, { changes: [set("a", n)] }));
      const restorer = new DynamoStateStore(client, tables, "job");
      await restorer.resetTask("t");
      await restorer.putState("t", [set("a", "savepoint")]);
      await restorer.putBase("t", 0, { ...baseOf(10) });
      await restorer.truncate("t", 0, 10, 2);
      await zombie.append("t", 0, seg(4, { changes: [set("a", "zombie")] })); // a stray slot below the base
      await restorer.append("t", 0, seg(11, { gen: 2, changes: [set("b", 11)] }));
      const fresh2 = new DynamoStateStore(client, tables, "job");
      expect(ns(await fresh2.readSegments("t", 0, 0))).toEqual([11]);
      expect(await fresh2.getState("t", [ref("a"), ref("b")])).toEqual(["savepoint", 11]);
      await expect(zombie.append("t", 0, seg(12, { changes: [set("a", "z")] }))).rejects.toBeInstanceOf(
        SegmentFencedError,
      );
      await restorer.append("t", 0, seg(12, { gen: 2 }));
      expect(ns(await fresh2.readSegments("t", 0, 10))).toEqual([11, 12]);
    });

    it("gives 10 concurrent appends from 10 instances gapless, non-overlapping ranges", async () => {
      const { client, tables } = await fresh();
      const batches = Array.from({ length: 10 }, (_, i) => Array.from({ length: 5 }, (_, j) => ({ i, j })));
      const ranges = await Promise.all(
        batches.map((b) => new DynamoIngestLog(client, tables).append("j", "src", 0, b)),
      );
      const sorted = [...ranges].sort((a, b) => a.first - b.first);
      expect(sorted).toEqual(sorted.map((_, i) => ({ first: 5 * i + 1, last: 5 * i + 5 })));
      const log = new DynamoIngestLog(client, tables);
      const read = await log.read("j", "src", 0, 0, 100);
      expect(read.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      ranges.forEach((r, i) => {
        expect(read.slice(r.first - 1, r.last).map((x) => x.value)).toEqual(batches[i]);
      });
      expect(await log.head("j", "src", 0)).toBe(50);
    });

    it("an appender whose head is stale appends after the others; a read inside the last pack finds its rest", async () => {
      const { client, tables } = await fresh();
      const a = new DynamoIngestLog(client, tables);
      const b = new DynamoIngestLog(client, tables);
      expect(await a.append("j", "s", 0, [1, 2, 3])).toEqual({ first: 1, last: 3 });
      expect(await b.append("j", "s", 0, [4, 5])).toEqual({ first: 4, last: 5 });
      expect(await b.append("j", "s", 0, [6])).toEqual({ first: 6, last: 6 });
      expect(await a.append("j", "s", 0, [7, 8, 9])).toEqual({ first: 7, last: 9 });
      const values = async (after: number, max: number) => (await a.read("j", "s", 0, after, max)).map((r) => r.value);
      expect(await values(0, 100)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await values(7, 100)).toEqual([8, 9]);
      expect(await values(1, 3)).toEqual([2, 3, 4]);
      expect(await values(9, 100)).toEqual([]);
      expect(await b.head("j", "s", 0)).toBe(9);
    });

    it("ingests records over 350 KB, reads from the middle of a pack, and refuses an append beyond a transaction (compressed)", async () => {
      const { client, tables } = await fresh();
      const log = new DynamoIngestLog(client, tables);
      const big = { text: "x".repeat(800_000) };
      const small = Array.from({ length: 3000 }, (_, i) => ({ i, pad: "y".repeat(200) })); // ~0.7 MB: 2+ packs
      expect(await log.append("j", "s", 0, ["a", big, "b"])).toEqual({ first: 1, last: 3 });
      expect(await log.append("j", "s", 0, small)).toEqual({ first: 4, last: 3003 });
      expect((await log.read("j", "s", 0, 0, 3)).map((r) => r.value)).toEqual(["a", big, "b"]);
      expect(await log.read("j", "s", 0, 1, 1)).toEqual([{ seq: 2, value: big }]);
      const mid = await log.read("j", "s", 0, 2000, 5);
      expect(mid.map((r) => [r.seq, (r.value as { i: number }).i])).toEqual(
        [2001, 2002, 2003, 2004, 2005].map((s) => [s, s - 4]),
      );
      // The limit is on compressed bytes: 5.6 MB of random base64 is over it, 4.5 MB of one letter is not.
      const noise = { t: randomBytes(4_200_000).toString("base64") };
      await expect(log.append("j", "s", 0, [noise])).rejects.toBeInstanceOf(IngestTooLargeError);
      expect(await log.head("j", "s", 0)).toBe(3003);
      expect(await log.append("j", "s", 0, [{ t: "z".repeat(4_500_000) }])).toEqual({ first: 3004, last: 3004 });
      expect((await log.read("j", "s", 0, 3003, 1))[0]?.value).toEqual({ t: "z".repeat(4_500_000) });
    });

    it("round-trips a savepoint over 400 KB; a second one of that name is refused", async () => {
      const { client, tables } = await fresh();
      const store = new DynamoCheckpointStore(client, tables);
      const values = Array.from({ length: 4000 }, (_, i) => ({
        s: "op/v",
        k: `k${i}`,
        g: i % 128,
        v: { i, p: "é".repeat(60) },
      }));
      const sp: Savepoint = {
        job: "j",
        name: "big",
        createdAt: 1,
        checkpoint: 2,
        maxParallelism: 128,
        parallelism: { t: 2 },
        values: values.length + 1,
        sources: { src: { "split-0": { position: 1, done: false } } },
        state: { t: values, u: [{ s: "op/v", k: "huge", g: 3, v: "h".repeat(500_000) }], empty: [] },
      };
      expect(await store.putSavepoint(sp)).toBe(true);
      expect(await new DynamoCheckpointStore(client, tables).getSavepoint("j", "big")).toEqual(sp);
      expect(await store.putSavepoint({ ...sp, createdAt: 2, state: {} })).toBe(false);
      expect(await store.getSavepoint("j", "big")).toEqual(sp);
      expect(await store.deleteSavepoint("j", "big")).toBe(true);
      expect(await store.getSavepoint("j", "big")).toBeUndefined();
    });

    it("splits a segment's output over 350 KB and pages through it", async () => {
      const { client, tables } = await fresh();
      const out = new DynamoOutputStore(client, tables);
      const records = Array.from({ length: 2000 }, (_, i) => ({ i, text: randomBytes(225).toString("base64") }));
      await out.publish("j", [
        { task: "t", partition: 0, segment: 1, generation: 1, sink: { s: records }, deadLetters: [] },
        { task: "t", partition: 0, segment: 2, generation: 1, sink: { s: ["last"] }, deadLetters: [] },
      ]);
      const sinkItems = await items(client, tables.output, "j#o#s");
      expect(sinkItems.length).toBeGreaterThan(2);
      const all: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = await out.read("j", "s", { ...(cursor ? { cursor } : {}), limit: 700 });
        all.push(...page.values);
        cursor = page.cursor;
      } while (cursor);
      expect(all).toEqual([...records, "last"]);
    });
  });
}
