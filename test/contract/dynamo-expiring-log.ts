/**
 * The DynamoDB log's expiring segments (issue 13): a segment carries a TTL from its
 * write, so a fold writes nothing per folded segment; the folded segment keeps its
 * slot taken until it expires (a writer with a stale view still conflicts), readers
 * ignore it below the base, and a seal makes what is left above the base permanent
 * (a later fold then tombstones it). Also: `readLog` reads the base in the segments' query.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { SegmentConflictError } from "../../core/errors.ts";
import { documentClient, dynamoClient, type TableNames } from "../../functions/aws/dynamo-client.ts";
import { SEGMENT_TTL_S } from "../../functions/aws/dynamo-state-log.ts";
import { DynamoStateStore } from "../../functions/aws/dynamo-state-store.ts";
import { ns, ref, seg, sent, set } from "./state-store.contract-helpers.ts";

type Fresh = () => Promise<{ client: DynamoDBClient; tables: TableNames; endpoint: string }>;

/** The main slot items of partition `t[0]` of job `job`, by segment number. */
async function slots(client: DynamoDBClient, table: string): Promise<Map<number, Record<string, unknown>>> {
  const out = await documentClient(client).send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :s)",
      ExpressionAttributeValues: { ":pk": "job#t#0", ":s": "s" },
    }),
  );
  return new Map((out.Items ?? []).filter((i) => String(i.sk).length === 13).map((i) => [Number(i.n), i]));
}

/** Defines the tests; `fresh` gives a client and new tables per test. */
export function dynamoExpiringLogTests(fresh: Fresh): void {
  describe("DynamoDB log: segments that expire instead of being rewritten", () => {
    it("a fold writes no tombstone for an expiring segment; its slot stays taken and readers skip it", async () => {
      const { client, tables } = await fresh();
      const stale = new DynamoStateStore(client, tables, "job");
      const writer = new DynamoStateStore(client, tables, "job");
      const before = Math.floor(Date.now() / 1000);
      await stale.append("t", 0, seg(1, { changes: [set("a", 1)] }));
      for (let n = 2; n <= 4; n++) await writer.append("t", 0, sent(n, [set("a", n)]));
      const written = await slots(client, tables.log);
      for (let n = 1; n <= 4; n++) {
        expect(Number(written.get(n)?.exp)).toBeGreaterThanOrEqual(before + SEGMENT_TTL_S);
        expect(Number(written.get(n)?.exp)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + SEGMENT_TTL_S);
      }
      expect(await writer.compact("t", 0, 3)).toBe(3);
      const after = await slots(client, tables.log);
      for (let n = 1; n <= 3; n++) {
        expect(after.get(n)?.c).toBeUndefined(); // not rewritten
        expect(after.get(n)?.exp).toEqual(written.get(n)?.exp);
      }
      // A writer whose view ended at 1 tries slot 2, folded but not gone: it conflicts.
      await expect(stale.append("t", 0, seg(2, { changes: [set("a", "stale")] }))).rejects.toBeInstanceOf(
        SegmentConflictError,
      );
      const reader = new DynamoStateStore(client, tables, "job");
      expect(ns(await reader.readSegments("t", 0, 0))).toEqual([4]);
      const read = await reader.readLog("t", 0, 0);
      expect(read.through).toBe(3);
      expect(read.baseAt).toBeGreaterThan(0);
      expect(ns(read.segments)).toEqual([4]);
      expect(await reader.getState("t", [ref("a")])).toEqual([4]);
    });

    it("a seal folds, keeps what is left for good, and a later fold tombstones what it kept", async () => {
      const { client, tables } = await fresh();
      const store = new DynamoStateStore(client, tables, "job");
      for (let n = 1; n <= 4; n++) await store.append("t", 0, sent(n, [set("a", n)]));
      expect(await store.seal("t", 0, 2)).toBe(2);
      let items = await slots(client, tables.log);
      expect([1, 2].map((n) => items.get(n)?.exp !== undefined)).toEqual([true, true]);
      expect([3, 4].map((n) => items.get(n)?.exp)).toEqual([undefined, undefined]);
      expect(await store.seal("t", 0, 0)).toBe(2); // idempotent, folds nothing
      for (let n = 5; n <= 6; n++) await store.append("t", 0, sent(n, [set("a", n)]));
      expect(await store.compact("t", 0, 5)).toBe(5);
      items = await slots(client, tables.log);
      expect([3, 4].map((n) => items.get(n)?.c)).toEqual([1, 1]); // sealed, then folded: tombstones
      expect([3, 4].map((n) => items.get(n)?.exp !== undefined)).toEqual([true, true]);
      expect(items.get(5)?.c).toBeUndefined(); // folded and expiring: left as written
      expect(ns(await new DynamoStateStore(client, tables, "job").readSegments("t", 0, 0))).toEqual([6]);
      expect(await store.getState("t", [ref("a")])).toEqual([6]);
    });

    it("readLog reads the segments and the base in one query", async () => {
      const { client: shared, tables, endpoint } = await fresh();
      const store = new DynamoStateStore(shared, tables, "job");
      for (let n = 1; n <= 3; n++) await store.append("t", 0, sent(n));
      await store.compact("t", 0, 2);
      const client = dynamoClient(endpoint);
      const ops: string[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          ops.push(context.commandName ?? "?");
          return next(args);
        },
        { step: "initialize" },
      );
      try {
        const read = await new DynamoStateStore(client, tables, "job").readLog("t", 0, 1);
        expect(read.through).toBe(2);
        expect(ns(read.segments)).toEqual([3]);
        expect(ops).toEqual(["QueryCommand"]);
      } finally {
        client.destroy();
      }
    });
  });
}
