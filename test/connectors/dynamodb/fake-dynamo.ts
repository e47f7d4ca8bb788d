/**
 * A DynamoDB table with a stream, in memory, answering the CDC source's calls
 * (`DynamoCdcApi`): a strongly consistent segmented scan, and a stream whose shards
 * a test closes and splits in two at will, as DynamoDB does over time (DynamoDB
 * Local never does). A key's records go to one open shard, chosen by its hash
 * among the shards open at the time, so after a split a key's changes continue in
 * a child of the shard that held them.
 */
import type { DynamoCdcApi, ShardInfo } from "../../../connectors/dynamodb/api.ts";
import type { StreamRecordLite } from "../../../connectors/dynamodb/changes.ts";
import { keyString, type WireItem } from "../../../connectors/dynamodb/wire.ts";

interface FakeShard {
  readonly id: string;
  readonly parent?: string;
  closed: boolean;
  readonly records: StreamRecordLite[];
  /** The open descendants a key of this shard moves to after a split. */
  children: string[];
}

const hash = (s: string) => {
  let h = 7;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
};

/** The fake. */
export class FakeDynamo {
  readonly items = new Map<string, WireItem>();
  readonly shards: FakeShard[] = [{ id: "shard-0000", closed: false, records: [], children: [] }];
  /** `iterator <shard>` and `end <shard>` (a closed shard read to its end), in order. */
  readonly log: string[] = [];
  /** When true, the next read with an iterator that `records` handed out fails as expired. */
  expireIterators = false;
  private seq = 0;
  private nextShard = 1;

  /** The open shard that takes `key`'s records: follow the lineage from the root a key hashes to. */
  private shardOf(key: string): FakeShard {
    let s = this.shards[0] as FakeShard;
    while (s.closed) {
      const child = s.children[hash(key) % s.children.length] as string;
      s = this.shards.find((x) => x.id === child) as FakeShard;
    }
    return s;
  }

  private record(eventName: StreamRecordLite["eventName"], keys: WireItem, newImage?: WireItem, oldImage?: WireItem) {
    const k = keyString(keys);
    const sequenceNumber = String(++this.seq).padStart(21, "0");
    this.shardOf(k).records.push({ eventName, sequenceNumber, keys, newImage, oldImage });
  }

  put(item: WireItem): void {
    const keys = { id: item.id } as WireItem;
    const k = keyString(keys);
    const old = this.items.get(k);
    this.items.set(k, item);
    this.record(old ? "MODIFY" : "INSERT", keys, item, old);
  }

  delete(id: string): void {
    const keys: WireItem = { id: { N: id } };
    const k = keyString(keys);
    const old = this.items.get(k);
    if (!old) return;
    this.items.delete(k);
    this.record("REMOVE", keys, undefined, old);
  }

  /** Closes open shard `id` and opens two children of it. */
  split(id: string): void {
    const s = this.shards.find((x) => x.id === id && !x.closed);
    if (!s) throw new Error(`no open shard ${id}`);
    s.closed = true;
    for (let i = 0; i < 2; i++) {
      const child = `shard-${String(this.nextShard++).padStart(4, "0")}`;
      this.shards.push({ id: child, parent: id, closed: false, records: [], children: [] });
      s.children.push(child);
    }
  }

  openShards(): string[] {
    return this.shards.filter((s) => !s.closed).map((s) => s.id);
  }

  api(): DynamoCdcApi {
    return {
      describeTable: async () => ({ keys: ["id"], streamArn: "arn:fake/stream", viewType: "NEW_AND_OLD_IMAGES" }),
      scan: async (_table, segment, total, startKey, limit) => {
        const sorted = [...this.items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const mine = sorted.filter(([k]) => hash(k) % total === segment);
        const after = startKey ? keyString(startKey) : undefined;
        const rest = after === undefined ? mine : mine.filter(([k]) => k > after);
        const page = rest.slice(0, limit);
        const last = page.at(-1);
        return {
          items: page.map(([, v]) => v),
          lastKey: rest.length > limit && last ? ({ id: last[1].id } as WireItem) : undefined,
        };
      },
      shards: async () => this.shards.map((s): ShardInfo => ({ id: s.id, parent: s.parent, closed: s.closed })),
      iterator: async (_arn, shard, after) => {
        this.log.push(`iterator ${shard}`);
        const s = this.shards.find((x) => x.id === shard) as FakeShard;
        const at = after === null ? 0 : s.records.findIndex((r) => r.sequenceNumber === after) + 1;
        return `${shard}|${at}|fresh`;
      },
      records: async (iterator, limit) => {
        const [shard, at, fresh] = iterator.split("|") as [string, string, string?];
        if (this.expireIterators && !fresh) {
          this.expireIterators = false;
          throw Object.assign(new Error("Iterator expired"), { name: "ExpiredIteratorException" });
        }
        const s = this.shards.find((x) => x.id === shard) as FakeShard;
        const from = Number(at);
        const records = s.records.slice(from, from + limit);
        const end = from + records.length;
        const ended = s.closed && end >= s.records.length;
        if (ended) this.log.push(`end ${shard}`);
        return { records, next: ended ? undefined : `${shard}|${end}` };
      },
      close: () => {},
    };
  }
}
