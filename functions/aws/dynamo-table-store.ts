/**
 * The {@link TableStore} port on DynamoDB, in the output table (AWS-TABLES.md):
 *
 * - versions, `pk = <job>#t#<table>`, `sk = <key>#<checkpoint:12>`, `{ cp, row? }`: the
 *   row as JSON text, absent for a deletion. A key is JSON (`["ada"]`) or a log place, so
 *   no key is a prefix of another's `<key>#`. A lookup is one Query of the key's items at
 *   or below the checkpoint, newest first, `Limit 1`; a snapshot or the changes are one
 *   Query of the table's items, folded here (retention bounds them).
 * - seals, `pk = <job>#seals`, `sk = <checkpoint:12>`, `{ body }`: the sealed checkpoint.
 *
 * Versions are BatchWriteItem puts (the same version always gives the same item), a seal
 * a conditional PutItem (the first stays), retention BatchWriteItem deletes. So the roles
 * that publish need only the output table's Query, PutItem and BatchWriteItem, which they
 * have.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { SealedCheckpoint, TableStore, TableVersion, TaggedVersion } from "../../core/ports/table-store.ts";
import { droppable } from "../../core/tables/fold.ts";
import { batchWriteAll, type Item, queryAll, queryPages } from "./dynamo-batch.ts";
import { conditionalCall, documentClient, keyPart, pad, type TableNames } from "./dynamo-client.ts";

const tagged = (i: Item): TaggedVersion => ({
  key: String(i.sk).slice(0, -13),
  checkpoint: Number(i.cp),
  row: typeof i.row === "string" ? (JSON.parse(i.row) as Record<string, unknown>) : null,
});

const byKeyThenCheckpoint = (a: TaggedVersion, b: TaggedVersion) =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : a.checkpoint - b.checkpoint;

/** The DynamoDB table store (every job in the output table). */
export class DynamoTableStore implements TableStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(client: DynamoDBClient, tables: TableNames) {
    this.doc = documentClient(client);
    this.table = tables.output;
  }

  private versionsPk(job: string, table: string): string {
    return `${keyPart("job id", job)}#t#${keyPart("table", table)}`;
  }
  private sealsPk(job: string): string {
    return `${keyPart("job id", job)}#seals`;
  }

  async write(job: string, table: string, checkpoint: number, versions: readonly TableVersion[]): Promise<void> {
    const pk = this.versionsPk(job, table);
    await batchWriteAll(
      this.doc,
      this.table,
      versions.map((v) => ({
        put: {
          pk,
          sk: `${v.key}#${pad(checkpoint)}`,
          cp: checkpoint,
          ...(v.row === null ? {} : { row: JSON.stringify(v.row) }),
        },
      })),
    );
  }

  async seal(job: string, sealed: SealedCheckpoint): Promise<void> {
    const item = { pk: this.sealsPk(job), sk: pad(sealed.checkpoint), body: JSON.stringify(sealed) };
    // Once: a seal written again (a publication run again) keeps the first.
    await conditionalCall(`seal checkpoint ${sealed.checkpoint} of job '${job}'`, () =>
      this.doc.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }),
      ),
    );
  }

  async sealed(job: string): Promise<SealedCheckpoint[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": this.sealsPk(job) },
      },
      `Query the sealed checkpoints of job '${job}'`,
    );
    return items.map((i) => JSON.parse(String(i.body)) as SealedCheckpoint);
  }

  async get(job: string, table: string, key: string, at: number): Promise<TaggedVersion | undefined> {
    const input = {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :lo AND :hi",
      ExpressionAttributeValues: { ":pk": this.versionsPk(job, table), ":lo": `${key}#`, ":hi": `${key}#${pad(at)}` },
      ScanIndexForward: false,
      Limit: 1,
    };
    for await (const page of queryPages(this.doc, input, `Query key ${key} of table '${table}'`)) {
      const first = page[0];
      return first ? tagged(first) : undefined;
    }
    return undefined;
  }

  /** Every version of `table`, by key then checkpoint. */
  private async all(job: string, table: string): Promise<TaggedVersion[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": this.versionsPk(job, table) },
      },
      `Query table '${table}' of job '${job}'`,
    );
    return items.map(tagged).sort(byKeyThenCheckpoint);
  }

  async scan(job: string, table: string, at: number): Promise<TaggedVersion[]> {
    const out: TaggedVersion[] = [];
    let best: TaggedVersion | undefined;
    for (const v of await this.all(job, table)) {
      if (best && best.key !== v.key) {
        out.push(best);
        best = undefined;
      }
      if (v.checkpoint <= at) best = v;
    }
    if (best) out.push(best);
    return out;
  }

  async changes(job: string, table: string, after: number, through: number): Promise<TaggedVersion[]> {
    return (await this.all(job, table))
      .filter((v) => v.checkpoint > after && v.checkpoint <= through)
      .sort((a, b) => a.checkpoint - b.checkpoint || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async retain(job: string, keep: readonly number[]): Promise<void> {
    const seals = await this.sealed(job);
    const tables = new Set(seals.flatMap((s) => s.tables.map((t) => t.name)));
    for (const table of tables) {
      const pk = this.versionsPk(job, table);
      const byKey = new Map<string, TaggedVersion[]>();
      for (const v of await this.all(job, table)) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
      const drop = [...byKey.values()].flatMap((list) => droppable(list, keep));
      await batchWriteAll(
        this.doc,
        this.table,
        drop.map((v) => ({ delete: { pk, sk: `${v.key}#${pad(v.checkpoint)}` } })),
      );
    }
    const gone = seals.filter((s) => !keep.includes(s.checkpoint));
    await batchWriteAll(
      this.doc,
      this.table,
      gone.map((s) => ({ delete: { pk: this.sealsPk(job), sk: pad(s.checkpoint) } })),
    );
  }
}
