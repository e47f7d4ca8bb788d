/**
 * The {@link CheckpointStore} port on DynamoDB, in the checkpoints table. Items of
 * a job (`pk = <job>`), records as JSON text in `body`:
 *
 * - `job`: the job record, with `gen` and `next` copied out for `saveJob`'s condition;
 * - `m#<id:12>`: a manifest; `a#<checkpoint:12>#<task>#<partition:6>`: an ack;
 *   `f#<generation:12>#<task>#<partition:6>`: a finished report (first write wins);
 * - `p#<name>`: a savepoint's info, its task names and the id of its data, whose
 *   chunks are the items `pk = <job>#sp#<name>#<data id>`, `sk = <i:6>`: JSON lines
 *   (the sources, then one `[task index, value]` per keyed value) cut into 350 KB
 *   binary chunks. The data is written first and the info item last, conditionally,
 *   so a savepoint is visible whole or not at all, and a second one of the same name
 *   is refused (its data deleted again).
 */

import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import type {
  CheckpointAck,
  CheckpointManifest,
  CheckpointStore,
  FinishedAck,
  JobRecord,
  RoundRead,
  Savepoint,
  SavepointInfo,
} from "../../core/ports/checkpoint-store.ts";
import type { StateChange } from "../../core/ports/state-store.ts";
import { batchWriteAll, deletePartition, type Item, queryAll, queryPages } from "./dynamo-batch.ts";
import { JsonLineReader, jsonLineChunks } from "./dynamo-chunks.ts";
import { conditionalCall, documentClient, dynamoCall, keyPart, pad, type TableNames } from "./dynamo-client.ts";

/** Chunk items written per BatchWriteItem round while storing a savepoint. */
const SAVEPOINT_WRITE_BATCH = 100;

/** The DynamoDB checkpoint store (every job in one table). */
export class DynamoCheckpointStore implements CheckpointStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(client: DynamoDBClient, tables: TableNames) {
    this.doc = documentClient(client);
    this.table = tables.checkpoints;
  }

  private async get(job: string, sk: string, what: string): Promise<Item | undefined> {
    const out = await dynamoCall(`GetItem of ${what} of job '${job}' on ${this.table}`, () =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: keyPart("job id", job), sk }, ConsistentRead: true }),
      ),
    );
    return out.Item as Item | undefined;
  }

  /**
   * The bodies of the items under `prefix`. `lagging`: an eventually consistent read
   * (half the read units), for items written once and never changed (acks, finished
   * reports), where one read that misses the newest only makes the coordinator wait
   * for the next.
   */
  private async bodies<T>(job: string, prefix: string, what: string, lagging = false): Promise<T[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": keyPart("job id", job), ":p": prefix },
        ...(lagging ? { ConsistentRead: false } : {}),
      },
      `Query of the ${what} of job '${job}' on ${this.table}`,
    );
    return items.map((i) => JSON.parse(String(i.body)) as T);
  }

  /** Writes an item unless its key exists; false when it did. */
  private async putNew(item: Item, what: string): Promise<boolean> {
    const r = await conditionalCall(`PutItem of ${what} on ${this.table}`, () =>
      this.doc.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }),
      ),
    );
    return r.ok;
  }

  async loadJob(job: string): Promise<JobRecord | undefined> {
    const item = await this.get(job, "job", "the record");
    return item ? (JSON.parse(String(item.body)) as JobRecord) : undefined;
  }

  async saveJob(
    record: JobRecord,
    expected: { generation: number; nextCheckpoint: number } | undefined,
  ): Promise<boolean> {
    const Item = {
      pk: keyPart("job id", record.job),
      sk: "job",
      gen: record.generation,
      next: record.nextCheckpoint,
      body: JSON.stringify(record),
    };
    const condition =
      expected === undefined
        ? { ConditionExpression: "attribute_not_exists(pk)" }
        : {
            ConditionExpression: "#g = :g AND #n = :n",
            ExpressionAttributeNames: { "#g": "gen", "#n": "next" },
            ExpressionAttributeValues: { ":g": expected.generation, ":n": expected.nextCheckpoint },
          };
    const r = await conditionalCall(`PutItem of the record of job '${record.job}'`, () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item, ...condition })),
    );
    return r.ok;
  }

  async putManifest(manifest: CheckpointManifest): Promise<void> {
    const Item = { pk: keyPart("job id", manifest.job), sk: `m#${pad(manifest.id)}`, body: JSON.stringify(manifest) };
    await dynamoCall(`PutItem of manifest ${manifest.id} of job '${manifest.job}'`, () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item })),
    );
  }

  async getManifest(job: string, id: number): Promise<CheckpointManifest | undefined> {
    const item = await this.get(job, `m#${pad(id)}`, `manifest ${id}`);
    return item ? (JSON.parse(String(item.body)) as CheckpointManifest) : undefined;
  }

  async listManifests(job: string): Promise<CheckpointManifest[]> {
    return this.bodies<CheckpointManifest>(job, "m#", "manifests");
  }

  async ack(job: string, ack: CheckpointAck): Promise<void> {
    const sk = `a#${pad(ack.checkpoint)}#${keyPart("task id", ack.task)}#${pad(ack.partition, 6)}`;
    await this.putNew({ pk: keyPart("job id", job), sk, body: JSON.stringify(ack) }, `ack ${sk} of job '${job}'`);
  }

  async acks(job: string, id: number): Promise<CheckpointAck[]> {
    return this.bodies<CheckpointAck>(job, `a#${pad(id)}#`, `acks of checkpoint ${id}`, true);
  }

  async finished(job: string, ack: FinishedAck): Promise<void> {
    const sk = `f#${pad(ack.generation)}#${keyPart("task id", ack.task)}#${pad(ack.partition, 6)}`;
    await this.putNew({ pk: keyPart("job id", job), sk, body: JSON.stringify(ack) }, `finished ${sk} of job '${job}'`);
  }

  async finishedPartitions(job: string, generation: number): Promise<FinishedAck[]> {
    return this.bodies<FinishedAck>(job, `f#${pad(generation)}#`, `finished reports of generation ${generation}`, true);
  }

  /**
   * One strongly consistent Query over the sort keys from `a#<from>#` to `job`: the
   * acks of checkpoint `from` and later, every finished report (`f#…`), and the record
   * (`a#` < `f#` < `job`). For a small job that is one read unit where the record's
   * GetItem, the acks' Query and the finished reports' Query were two.
   */
  async readRound(job: string, from: number): Promise<RoundRead> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :job",
        ExpressionAttributeValues: { ":pk": keyPart("job id", job), ":from": `a#${pad(from)}#`, ":job": "job" },
        ConsistentRead: true,
      },
      `Query of the record, acks and finished reports of job '${job}' on ${this.table}`,
    );
    let record: JobRecord | undefined;
    const acks: CheckpointAck[] = [];
    const finished: FinishedAck[] = [];
    for (const i of items) {
      const sk = String(i.sk);
      if (sk === "job") record = JSON.parse(String(i.body)) as JobRecord;
      else if (sk.startsWith("a#")) acks.push(JSON.parse(String(i.body)) as CheckpointAck);
      else if (sk.startsWith("f#")) finished.push(JSON.parse(String(i.body)) as FinishedAck);
    }
    return { record, acks, finished };
  }

  private dataPk(job: string, name: string, data: string): string {
    return `${job}#sp#${name}#${data}`;
  }

  async putSavepoint(savepoint: Savepoint): Promise<boolean> {
    const { sources, state, ...info } = savepoint;
    const job = keyPart("job id", savepoint.job);
    const what = `savepoint '${savepoint.name}' of job '${job}'`;
    if (await this.get(job, `p#${savepoint.name}`, `savepoint '${savepoint.name}'`)) return false;
    const tasks = Object.keys(state);
    const data = randomUUID();
    const pk = this.dataPk(job, savepoint.name, data);
    function* lines(): Generator<unknown> {
      yield sources;
      for (let t = 0; t < tasks.length; t++) for (const c of state[tasks[t] as string] ?? []) yield [t, c];
    }
    let chunks = 0;
    let batch: Item[] = [];
    for (const b of jsonLineChunks(lines())) {
      batch.push({ pk, sk: pad(chunks++, 6), b });
      if (batch.length === SAVEPOINT_WRITE_BATCH) {
        await batchWriteAll(
          this.doc,
          this.table,
          batch.map((put) => ({ put })),
        );
        batch = [];
      }
    }
    if (batch.length > 0)
      await batchWriteAll(
        this.doc,
        this.table,
        batch.map((put) => ({ put })),
      );
    const item = { pk: job, sk: `p#${savepoint.name}`, info: JSON.stringify(info), tasks, data, chunks };
    if (await this.putNew(item, what)) return true;
    await deletePartition(this.doc, this.table, pk);
    return false;
  }

  async getSavepoint(job: string, name: string): Promise<Savepoint | undefined> {
    const item = await this.get(job, `p#${name}`, `savepoint '${name}'`);
    if (!item) return undefined;
    const tasks = item.tasks as string[];
    const state: Record<string, StateChange[]> = Object.fromEntries(tasks.map((t) => [t, []]));
    const reader = new JsonLineReader();
    let sources: Savepoint["sources"] | undefined;
    let read = 0;
    const take = (line: unknown) => {
      if (sources === undefined) sources = line as Savepoint["sources"];
      else {
        const [t, c] = line as [number, StateChange];
        state[tasks[t] as string]?.push(c);
      }
    };
    const input = {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": this.dataPk(job, name, String(item.data)) },
    };
    for await (const page of queryPages(this.doc, input, `Query of the data of savepoint '${name}' of job '${job}'`)) {
      for (const chunk of page) {
        read++;
        for (const line of reader.push(chunk.b as Uint8Array)) take(line);
      }
    }
    for (const line of reader.end()) take(line);
    if (read !== Number(item.chunks) || sources === undefined) {
      throw new RiffleError(
        "savepoint-damaged",
        `savepoint '${name}' of job '${job}' is damaged: ${read} of ${item.chunks} data chunks found`,
      );
    }
    return { ...(JSON.parse(String(item.info)) as SavepointInfo), sources, state };
  }

  async listSavepoints(job: string): Promise<SavepointInfo[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": keyPart("job id", job), ":p": "p#" },
        ProjectionExpression: "info",
      },
      `Query of the savepoints of job '${job}' on ${this.table}`,
    );
    return items
      .map((i) => JSON.parse(String(i.info)) as SavepointInfo)
      .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }

  async deleteSavepoint(job: string, name: string): Promise<boolean> {
    const out = await dynamoCall(`DeleteItem of savepoint '${name}' of job '${job}'`, () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: keyPart("job id", job), sk: `p#${name}` },
          ReturnValues: "ALL_OLD",
        }),
      ),
    );
    if (!out.Attributes) return false;
    await deletePartition(this.doc, this.table, this.dataPk(job, name, String(out.Attributes.data)));
    return true;
  }
}
