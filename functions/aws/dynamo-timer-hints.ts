/**
 * The {@link TimerHints} port on DynamoDB, in the checkpoints table: one small item
 * per task partition with a pending processing-time timer, `pk = <job>`,
 * `sk = t#<task>#<partition:6>`, `{ task, part, at, tk? }` (`tk`: when the
 * coordinator last ticked it). A runner writes it only when its next timer changes
 * (and after a tick); the coordinator reads them all with one `Query` per round.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { TimerHint, TimerHints } from "../../core/ports/timer-hints.ts";
import { queryAll } from "./dynamo-batch.ts";
import { conditionalCall, documentClient, dynamoCall, keyPart, pad, type TableNames } from "./dynamo-client.ts";

/** Sort-key prefix of the hint items. */
const PREFIX = "t#";

/** The DynamoDB timer hints (every job in the checkpoints table). */
export class DynamoTimerHints implements TimerHints {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(client: DynamoDBClient, tables: TableNames) {
    this.doc = documentClient(client);
    this.table = tables.checkpoints;
  }

  private key(job: string, task: string, partition: number): { pk: string; sk: string } {
    return { pk: keyPart("job id", job), sk: `${PREFIX}${keyPart("task id", task)}#${pad(partition, 6)}` };
  }

  async record(job: string, task: string, partition: number, at: number | undefined): Promise<void> {
    const key = this.key(job, task, partition);
    const what = `the timer hint of ${task}[${partition}] of job '${job}' on ${this.table}`;
    if (at === undefined) {
      await dynamoCall(`DeleteItem of ${what}`, () =>
        this.doc.send(new DeleteCommand({ TableName: this.table, Key: key })),
      );
      return;
    }
    await dynamoCall(`PutItem of ${what}`, () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { ...key, task, part: partition, at } })),
    );
  }

  async list(job: string, options: { readonly lagging?: boolean } = {}): Promise<TimerHint[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": keyPart("job id", job), ":p": PREFIX },
        ...(options.lagging ? { ConsistentRead: false } : {}),
      },
      `Query of the timer hints of job '${job}' on ${this.table}`,
    );
    return items.map((i) => ({
      task: String(i.task),
      partition: Number(i.part),
      at: Number(i.at),
      ...(i.tk === undefined ? {} : { tickedAt: Number(i.tk) }),
    }));
  }

  async markTicked(job: string, hint: TimerHint, now: number): Promise<boolean> {
    const r = await conditionalCall(
      `UpdateItem of the timer hint of ${hint.task}[${hint.partition}] of job '${job}'`,
      () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: this.key(job, hint.task, hint.partition),
            UpdateExpression: "SET tk = :now",
            ConditionExpression: "attribute_exists(pk) AND #at = :at",
            ExpressionAttributeNames: { "#at": "at" },
            ExpressionAttributeValues: { ":now": now, ":at": hint.at },
          }),
        ),
    );
    return r.ok;
  }
}
