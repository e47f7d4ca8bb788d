/**
 * A random write workload on a DynamoDB table keyed by `pk` (string) and `sk`
 * (number): puts of new items, puts that replace an item, updates (one attribute
 * set, one removed), and deletes, one writer, each a single request.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { seededRandom } from "../../../core/ml/random.ts";

/** What the workload did. */
export interface DynamoWorkloadStats {
  puts: number;
  replaces: number;
  updates: number;
  deletes: number;
  errors: string[];
}

/** A running workload; `stop()` waits for its last request. */
export interface DynamoWorkload {
  readonly stats: DynamoWorkloadStats;
  stop(): Promise<void>;
}

const key = (id: number) => ({ pk: { S: `p${id % 13}` }, sk: { N: String(id) } });
const item = (id: number, v: string) => ({
  ...key(id),
  v: { S: v },
  n: { N: String(id) },
  tags: { SS: [`t${id % 3}`, "all"] },
  ...(id % 5 === 0 ? { bin: { B: new Uint8Array([id % 256, 1, 2]) } } : {}),
});

/** Fills `table` with items 1..rows. */
export async function seedTable(db: DynamoDBClient, table: string, rows: number): Promise<void> {
  for (let a = 1; a <= rows; a += 25) {
    const ids = Array.from({ length: Math.min(25, rows - a + 1) }, (_, i) => a + i);
    let requests = ids.map((id) => ({ PutRequest: { Item: item(id, `seed${id}`) } }));
    while (requests.length > 0) {
      const r = await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
      requests = (r.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }
}

/** Starts the workload on `table` over items 1..`rows`. */
export function startDynamoWorkload(db: DynamoDBClient, table: string, rows: number, seed: number): DynamoWorkload {
  const rng = seededRandom(seed);
  const ids = Array.from({ length: rows }, (_, i) => i + 1);
  let next = rows + 1;
  const stats: DynamoWorkloadStats = { puts: 0, replaces: 0, updates: 0, deletes: 0, errors: [] };
  const pick = () => Math.floor(rng() * ids.length);
  const one = async () => {
    const r = rng();
    if (r < 0.25 || ids.length === 0) {
      const id = next++;
      await db.send(new PutItemCommand({ TableName: table, Item: item(id, `i${id}`) }));
      ids.push(id);
      stats.puts++;
    } else if (r < 0.4) {
      const id = ids[pick()] as number;
      await db.send(new PutItemCommand({ TableName: table, Item: { ...key(id), v: { S: `r${rng()}` } } }));
      stats.replaces++;
    } else if (r < 0.8) {
      const id = ids[pick()] as number;
      await db.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key(id),
          UpdateExpression: "SET v = :v, m = :m REMOVE tags",
          ExpressionAttributeValues: { ":v": { S: `u${Math.floor(rng() * 1e6)}` }, ":m": { N: String(next) } },
        }),
      );
      stats.updates++;
    } else {
      const at = pick();
      await db.send(new DeleteItemCommand({ TableName: table, Key: key(ids[at] as number) }));
      ids.splice(at, 1);
      stats.deletes++;
    }
  };
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      try {
        await one();
      } catch (e) {
        stats.errors.push(String(e));
      }
      await new Promise((res) => setTimeout(res, 2));
    }
  })();
  return {
    stats,
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}
