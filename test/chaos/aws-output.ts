/**
 * Reads the committed output of the aws-local job straight from the DynamoDB
 * output table, with the generation each segment was committed in: the
 * generation is the era (a restore or a failover starts a new one).
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type Item, queryPages } from "../../functions/aws/dynamo-batch.ts";
import { documentClient, tableNames } from "../../functions/aws/dynamo-client.ts";
import { sinkRecords } from "../../functions/aws/dynamo-output-store.ts";
import type { ChaosRow } from "./dataset.ts";

/** A committed row and the generation of its segment. */
export interface GenRow extends ChaosRow {
  readonly gen: number;
}

/** Every committed row of `sink` of `job` under table prefix `prefix`, in the table's order. */
export async function readGenRows(
  client: DynamoDBClient,
  prefix: string,
  job: string,
  sink: string,
): Promise<GenRow[]> {
  const doc = documentClient(client);
  const input = {
    TableName: tableNames(prefix).output,
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": `${job}#o#${sink}` },
  };
  const items: Item[] = [];
  for await (const page of queryPages(doc, input, `chaos: output of ${job}`)) items.push(...page);
  const bySk = new Map(items.map((i) => [i.sk, i]));
  const rows: GenRow[] = [];
  for (const item of items) {
    const sk = item.sk;
    const parts = sk.split("#");
    if (parts.length !== 4) continue; // a chunk of a larger segment
    const records = sinkRecords(item, bySk);
    if (!records) throw new Error(`output segment ${sk} is missing a chunk`);
    const gen = Number(parts[2]);
    for (const v of records) rows.push({ ...(v as ChaosRow), gen });
  }
  return rows;
}
