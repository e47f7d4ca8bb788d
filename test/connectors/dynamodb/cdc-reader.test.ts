/**
 * The DynamoDB CDC reader against a fake table and stream whose shards split
 * (DynamoDB Local's never do): a child shard is read only after its parent is read
 * to its end, so a key's changes stay in order across a split; and under a random
 * workload of puts, deletes and splits with restores from random committed
 * positions, the upsert of the committed changelog equals the table.
 */
import { describe, expect, it } from "vitest";
import type { DynamoChange } from "../../../connectors/dynamodb/changes.ts";
import { dynamodbCdc } from "../../../connectors/dynamodb/index.ts";
import { keyString, type WireItem } from "../../../connectors/dynamodb/wire.ts";
import { seededRandom } from "../../../core/ml/random.ts";
import { FakeDynamo } from "./fake-dynamo.ts";

const context = { job: "t", currentProcessingTime: () => Date.now() };
const item = (id: number, v: string): WireItem => ({ id: { N: String(id) }, v: { S: v } });

function reader(fake: FakeDynamo, position: unknown, options: { snapshot?: boolean; stopAtEnd?: boolean } = {}) {
  const source = dynamodbCdc({ table: "src", segments: 3, describeEveryMs: 1, api: () => fake.api(), ...options });
  return source.reader(source.splits(1)[0] as { id: string }, position, context);
}

/** The table an upsert of `changes` by key leaves. */
function upsert(changes: readonly DynamoChange[]): Map<string, WireItem> {
  const table = new Map<string, WireItem>();
  for (const c of changes) {
    if (c.kind === "-D") table.delete(keyString(c.key));
    else if (c.kind !== "-U") table.set(keyString(c.key), c.row);
  }
  return table;
}

describe("dynamodbCdc over a stream whose shards split", () => {
  it("reads a child shard only after its parent is read to its end, keeping each key's changes in order", async () => {
    const fake = new FakeDynamo();
    const r = reader(fake, undefined, { snapshot: false, stopAtEnd: true });
    await r.read(1); // records where the stream ends: nothing before this is read
    for (let id = 1; id <= 6; id++) fake.put(item(id, "a"));
    fake.split("shard-0000");
    for (let id = 1; id <= 6; id++) fake.put(item(id, "b"));
    fake.split(fake.openShards()[0] as string);
    for (let id = 1; id <= 6; id++) fake.delete(String(id));
    const out: DynamoChange[] = [];
    for (let i = 0; i < 200; i++) {
      const chunk = await r.read(1);
      out.push(...chunk.records);
      if (chunk.done) break;
    }
    expect(fake.shards.map((s) => s.id)).toHaveLength(5);
    for (const s of fake.shards.filter((x) => x.parent)) {
      const first = fake.log.indexOf(`iterator ${s.id}`);
      expect(first, `${s.id} was read`).toBeGreaterThan(-1);
      expect(first, `${s.id} read before its parent ended`).toBeGreaterThan(fake.log.indexOf(`end ${s.parent}`));
    }
    for (let id = 1; id <= 6; id++) {
      const mine = out.filter((c) => c.key.id && "N" in c.key.id && c.key.id.N === String(id)).map((c) => c.kind);
      expect(mine, `changes of id ${id}`).toEqual(["+I", "-U", "+U", "-D"]);
    }
  });

  it("takes a new iterator at the same place when one expires", async () => {
    const fake = new FakeDynamo();
    const r = reader(fake, undefined, { snapshot: false });
    await r.read(10);
    fake.put(item(1, "a"));
    expect((await r.read(10)).records.map((c) => c.kind)).toEqual(["+I"]);
    fake.put(item(1, "b"));
    fake.expireIterators = true;
    const after = await r.read(10);
    expect(fake.expireIterators, "the held iterator was used and expired").toBe(false);
    expect(after.records.map((c) => `${c.kind} ${JSON.stringify(c.row.v)}`)).toEqual(['-U {"S":"a"}', '+U {"S":"b"}']);
  });

  it("under random writes, splits and restores, the upsert of the committed changelog equals the table", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = seededRandom(seed);
      const fake = new FakeDynamo();
      for (let id = 1; id <= 200; id++) fake.put(item(id, "seed"));
      const write = () => {
        const r = rng();
        const id = 1 + Math.floor(rng() * 260);
        if (r < 0.6) fake.put(item(id, `v${Math.floor(rng() * 1e6)}`));
        else if (r < 0.95) fake.delete(String(id));
        else fake.split(fake.openShards()[Math.floor(rng() * fake.openShards().length)] as string);
      };
      const committed: DynamoChange[] = [];
      let position: unknown;
      let pending: DynamoChange[] = [];
      let pendingPos: unknown;
      let r = reader(fake, undefined);
      let restores = 0;
      for (let step = 0; step < 400; step++) {
        for (let w = Math.floor(rng() * 4); w > 0; w--) write();
        const chunk = await r.read(1 + Math.floor(rng() * 40));
        pending.push(...chunk.records);
        pendingPos = chunk.position;
        const dice = rng();
        if (dice < 0.3) {
          committed.push(...pending);
          position = JSON.parse(JSON.stringify(pendingPos));
          pending = [];
        } else if (dice < 0.38) {
          await r.close?.();
          r = reader(fake, position);
          pending = [];
          pendingPos = position;
          restores++;
        }
      }
      committed.push(...pending);
      position = JSON.parse(JSON.stringify(pendingPos));
      await r.close?.();
      const last = reader(fake, position, { stopAtEnd: true });
      for (let i = 0; ; i++) {
        expect(i, "the last reader ends").toBeLessThan(10_000);
        const chunk = await last.read(50);
        committed.push(...chunk.records);
        if (chunk.done) break;
      }
      expect(restores, `seed ${seed}`).toBeGreaterThan(5);
      expect(fake.shards.length, `seed ${seed}`).toBeGreaterThan(3);
      expect(upsert(committed), `seed ${seed}`).toEqual(fake.items);
    }
  });
});
