/**
 * The job's five DynamoDB tables (docs/AWS-TABLES.md): key `pk` + `sk` (strings),
 * on-demand billing, point-in-time recovery, and TTL on `exp` where items expire
 * (the log table's compaction tombstones).
 */

import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type { Construct } from "constructs";
import { type TableNames, TTL_ATTRIBUTE, tableNames } from "../functions/aws/dynamo-client.ts";

/** The tables, by role. */
export type Tables = { readonly [K in keyof TableNames]: dynamodb.Table };

/** Tables whose items carry an expiry in {@link TTL_ATTRIBUTE}. */
const EXPIRING: ReadonlySet<keyof TableNames> = new Set(["log"]);

/** Creates the tables `<prefix>-log`, `-state`, `-checkpoints`, `-ingest`, `-output`. */
export function createTables(scope: Construct, prefix: string): Tables {
  const names = tableNames(prefix);
  const table = (role: keyof TableNames, id: string) =>
    new dynamodb.Table(scope, id, {
      tableName: names[role],
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(EXPIRING.has(role) ? { timeToLiveAttribute: TTL_ATTRIBUTE } : {}),
    });
  return {
    log: table("log", "LogTable"),
    state: table("state", "StateTable"),
    checkpoints: table("checkpoints", "CheckpointsTable"),
    ingest: table("ingest", "IngestTable"),
    output: table("output", "OutputTable"),
  };
}
