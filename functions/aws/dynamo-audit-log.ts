/**
 * The {@link AuditLog} port on DynamoDB, in the job's checkpoints table (the API
 * function already reads and writes it, so the audit needs no table and no IAM
 * action of its own): partition `pk = <job>#audit`, one item per access,
 * `sk = <time:15>#<uuid>` so a Query reads them oldest first. An append is ONE
 * `PutItem` (the entry as JSON text in `entry`); `read` is a `Query` of the
 * partition, every page. No job's other items share the partition (job ids hold no
 * `#`), so nothing that cleans a job's items touches its audit.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { AuditEntry, AuditLog } from "../../core/ports/audit-log.ts";
import { queryAll } from "./dynamo-batch.ts";
import { documentClient, dynamoCall, keyPart, pad, type TableNames } from "./dynamo-client.ts";

/** The audit of one job's API. */
export class DynamoAuditLog implements AuditLog {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly pk: string;
  private readonly job: string;

  constructor(client: DynamoDBClient, tables: TableNames, job: string) {
    this.doc = documentClient(client);
    this.table = tables.checkpoints;
    this.pk = `${keyPart("job id", job)}#audit`;
    this.job = job;
  }

  async append(entry: AuditEntry): Promise<void> {
    const Item = { pk: this.pk, sk: `${pad(entry.time, 15)}#${randomUUID()}`, entry: JSON.stringify(entry) };
    await dynamoCall(`PutItem of an audit entry of job '${this.job}'`, () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item })),
    );
  }

  async read(): Promise<AuditEntry[]> {
    const input = {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": this.pk },
    };
    const items = await queryAll(this.doc, input, `Query of the audit of job '${this.job}'`);
    return items.map((i) => JSON.parse(String(i.entry)) as AuditEntry);
  }
}
