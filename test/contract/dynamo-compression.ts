/**
 * DynamoDB-only tests of compression (issue 13): segments, bases and sink output are
 * stored as brotli-compressed JSON marked `z`, and items written before, without the
 * marker, still read.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { documentClient, pad, type TableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoOutputStore } from "../../functions/aws/dynamo-output-store.ts";
import { DynamoStateStore } from "../../functions/aws/dynamo-state-store.ts";
import { seg, sent, set } from "./state-store.contract-helpers.ts";

type Fresh = () => Promise<{ client: DynamoDBClient; tables: TableNames }>;

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

const json = (v: unknown) => Buffer.from(JSON.stringify(v), "utf8");

/** Defines the tests; `fresh` gives a client and new tables per test. */
export function dynamoCompressionTests(fresh: Fresh): void {
  describe("DynamoDB: compressed items", () => {
    it("stores a segment, its base and its sink output compressed, and reads them back", async () => {
      const { client, tables } = await fresh();
      const store = new DynamoStateStore(client, tables, "job");
      const rows = Array.from({ length: 200 }, (_, i) => ({ bid: i, url: `https://example.com/item/${i % 7}` }));
      const s1 = seg(1, { changes: [set("a", rows)], sink: { out: rows } });
      const written = await store.append("t", 0, s1);
      expect(written).toBeLessThan(json(s1).length / 4);
      const [item] = (await items(client, tables.log, "job#t#0")).filter((i) => i.sk === `s${pad(1)}`);
      expect(item?.z).toBe(1);
      expect(await new DynamoStateStore(client, tables, "job").readSegments("t", 0, 0)).toEqual([s1]);
      await store.append("t", 0, sent(2));
      await store.compact("t", 0, 1);
      const base = (await items(client, tables.log, "job#t#0")).find((i) => i.sk === "~base");
      expect(base?.z).toBe(1);
      expect((await store.readBase("t", 0))?.through).toBe(1);

      const out = new DynamoOutputStore(client, tables);
      await out.publish("j", [
        { task: "t", partition: 0, segment: 1, generation: 1, sink: { s: rows }, deadLetters: [] },
      ]);
      const [sinkItem] = await items(client, tables.output, "j#o#s");
      expect(sinkItem?.z).toBe(1);
      expect((sinkItem?.b as Uint8Array | undefined)?.length).toBeLessThan(
        rows.map((r) => json(r).length + 1).reduce((a, b) => a + b) / 4,
      );
      expect((await out.read("j", "s")).values).toEqual(rows);
    });

    it("reads segments, bases and sink output written before compression (plain JSON, no marker)", async () => {
      const { client, tables } = await fresh();
      const doc = documentClient(client);
      const pk = "job#t#0";
      const s2 = sent(2, [set("a", 2)], { sink: { out: ["old"] } });
      const base = { ...sent(1), through: 1, opState: {}, watermarks: {}, ended: [], finished: false, buffered: [] };
      const put = (Item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: tables.log, Item }));
      await put({ pk, sk: "~base", through: 1, w: "old", k: 1, b: json(base) });
      await put({ pk, sk: `s${pad(1)}`, n: 1, c: 1 });
      await put({ pk, sk: `s${pad(2)}`, n: 2, gen: 1, w: "old", k: 1, b: json(s2) });
      const store = new DynamoStateStore(client, tables, "job");
      expect(await store.readSegments("t", 0, 1)).toEqual([s2]);
      expect((await store.readBase("t", 0))?.through).toBe(1);
      await store.append("t", 0, sent(3));
      expect(await store.compact("t", 0, 2)).toBe(2);

      const sk = `t#${pad(0, 6)}#${pad(1)}#${pad(1)}`;
      const lines = Buffer.from(`${JSON.stringify({ a: 1 })}\n${JSON.stringify("two")}`, "utf8");
      await doc.send(
        new PutCommand({ TableName: tables.output, Item: { pk: "j#o#s", sk, n: 2, w: "old", k: 1, b: lines } }),
      );
      expect((await new DynamoOutputStore(client, tables).read("j", "s")).values).toEqual([{ a: 1 }, "two"]);
    });
  });
}
