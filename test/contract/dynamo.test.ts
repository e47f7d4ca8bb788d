/**
 * Runs the storage-port contracts against the DynamoDB implementations on DynamoDB
 * Local (started on first use from a test's setup, so a missing Java fails every
 * test here with the reason), plus what only DynamoDB has: item and transaction
 * limits, concurrent writers from other instances. Each test gets its own tables.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll } from "vitest";
import { OffloadingStateStore } from "../../core/log/offloading-store.ts";
import { InMemoryBlobStore } from "../../core/memory/in-memory-blob-store.ts";
import { DynamoAuditLog } from "../../functions/aws/dynamo-audit-log.ts";
import { DynamoCheckpointStore } from "../../functions/aws/dynamo-checkpoint-store.ts";
import { dynamoClient, ensureTables, type TableNames, tableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoIngestLog } from "../../functions/aws/dynamo-ingest-log.ts";
import { DynamoOutputStore } from "../../functions/aws/dynamo-output-store.ts";
import { DynamoStateStore } from "../../functions/aws/dynamo-state-store.ts";
import { DynamoTableStore } from "../../functions/aws/dynamo-table-store.ts";
import { DynamoTimerHints } from "../../functions/aws/dynamo-timer-hints.ts";
import { sharedDynamoLocal, stopSharedDynamoLocal, uniquePrefix } from "../support/dynamo-local.ts";
import { auditLogContract } from "./audit-log.contract.ts";
import { checkpointStoreContract } from "./checkpoint-store.contract.ts";
import { dynamoCompressionTests } from "./dynamo-compression.ts";
import { dynamoExpiringLogTests } from "./dynamo-expiring-log.ts";
import { dynamoResetCompactionTests } from "./dynamo-reset-compaction.ts";
import { dynamoSpecificTests } from "./dynamo-specific.ts";
import { ingestLogContract } from "./ingest-log.contract.ts";
import { outputStoreContract } from "./output-store.contract.ts";
import { stateStoreContract } from "./state-store.contract.ts";
import { tableStoreContract } from "./table-store.contract.ts";
import { timerHintsContract } from "./timer-hints.contract.ts";

let client: DynamoDBClient | undefined;

/** Fresh tables on the shared DynamoDB Local. */
async function freshTables(): Promise<{ client: DynamoDBClient; tables: TableNames; endpoint: string }> {
  const local = await sharedDynamoLocal();
  client ??= dynamoClient(local.endpoint);
  const tables = tableNames(uniquePrefix());
  await ensureTables(client, tables);
  return { client, tables, endpoint: local.endpoint };
}

afterAll(async () => {
  client?.destroy();
  await stopSharedDynamoLocal();
});

stateStoreContract("DynamoStateStore", async () => {
  const { client, tables } = await freshTables();
  return { store: new DynamoStateStore(client, tables, "job") };
});
// Every payload in an object (threshold 0), so the whole contract runs over the offload protocol.
stateStoreContract("OffloadingStateStore over DynamoStateStore", async () => {
  const { client, tables } = await freshTables();
  const inner = new DynamoStateStore(client, tables, "job");
  return { store: new OffloadingStateStore(inner, new InMemoryBlobStore(), { job: "job", inlineMaxBytes: 0 }) };
});
tableStoreContract("DynamoTableStore", async () => {
  const { client, tables } = await freshTables();
  return new DynamoTableStore(client, tables);
});
checkpointStoreContract("DynamoCheckpointStore", async () => {
  const { client, tables } = await freshTables();
  return { store: new DynamoCheckpointStore(client, tables) };
});
auditLogContract(
  "DynamoAuditLog",
  async () => {
    const { client, tables, endpoint } = await freshTables();
    const reopen = async () => new DynamoAuditLog(dynamoClient(endpoint), tables, "job");
    return { log: new DynamoAuditLog(client, tables, "job"), reopen };
  },
  true,
);
ingestLogContract("DynamoIngestLog", async () => {
  const { client, tables } = await freshTables();
  return { log: new DynamoIngestLog(client, tables) };
});
outputStoreContract("DynamoOutputStore", async () => {
  const { client, tables } = await freshTables();
  return { store: new DynamoOutputStore(client, tables) };
});
timerHintsContract("DynamoTimerHints", async () => {
  const { client, tables } = await freshTables();
  return new DynamoTimerHints(client, tables);
});
dynamoSpecificTests(freshTables);
dynamoCompressionTests(freshTables);
dynamoExpiringLogTests(freshTables);
dynamoResetCompactionTests(freshTables);
