/**
 * The size of a job's DynamoDB tables, as DescribeTable reports it
 * (`TableSizeBytes`): what storage and point-in-time recovery are billed on. AWS
 * refreshes the figure about every six hours, DynamoDB Local at once; either way it
 * is an estimate of what a job keeps stored.
 */

import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoCall, type TableNames } from "./dynamo-client.ts";

/** Bytes stored in each of the job's tables, by role. */
export type TableBytes = Record<keyof TableNames, number>;

/** Reads `TableSizeBytes` of every table of `names` (a missing figure counts 0). */
export async function tableBytes(client: DynamoDBClient, names: TableNames): Promise<TableBytes> {
  const roles = Object.keys(names) as (keyof TableNames)[];
  const sizes = await Promise.all(
    roles.map((role) =>
      dynamoCall(`DescribeTable ${names[role]}`, () =>
        client.send(new DescribeTableCommand({ TableName: names[role] })),
      ).then((r) => r.Table?.TableSizeBytes ?? 0),
    ),
  );
  return Object.fromEntries(roles.map((role, i) => [role, sizes[i] ?? 0])) as TableBytes;
}

/** The sum of {@link tableBytes}. */
export async function storedBytes(client: DynamoDBClient, names: TableNames): Promise<number> {
  return Object.values(await tableBytes(client, names)).reduce((a, b) => a + b, 0);
}
