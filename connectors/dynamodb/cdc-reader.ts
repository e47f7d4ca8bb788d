/**
 * The reader of a DynamoDB CDC source: the stream's position is recorded first,
 * then the table is scanned (its segments in parallel), then the stream is read
 * from the recorded position, shard by shard in lineage order.
 *
 * The position is JSON in riffle's checkpoints: the stream's shards (the last
 * sequence number passed on of each, and which are done), the last key of each
 * scan segment, and whether the scan is done. Reads pass on whole scan pages and
 * whole stream pages, so a restore resumes without gap or duplicate.
 */
import type { SourceChunk, SourceContext, SplitReader } from "../../core/api/source.ts";
import type { DynamoCdcApi } from "./api.ts";
import { changesOfRecord, type DynamoChange } from "./changes.ts";
import { awsErrorName, DynamoSetupError, dynamoError } from "./errors.ts";
import { mergeShards, readableShards, type Shards, startShards } from "./shards.ts";
import { pick, type WireItem } from "./wire.ts";

/** A split's position: JSON, stored in riffle's checkpoints. */
export interface DynamoCdcPosition {
  readonly streamArn?: string;
  /** The stream's shards once the stream is started (before the scan begins). */
  readonly shards?: Shards;
  /** Per scan segment: the last key passed on, null before its first page, true when done. */
  readonly segments?: readonly (WireItem | null | true)[];
  /** True once every segment is passed on. */
  readonly snapshotted: boolean;
}

/** What the reader needs of the source's options. */
export interface DynamoCdcReaderOptions {
  readonly table: string;
  readonly segments: number;
  readonly scanLimit: number;
  readonly snapshot: boolean;
  readonly stopAtEnd: boolean;
  readonly pollMs: number;
  readonly describeEveryMs: number;
}

const MAX_PAGE = 1000; // GetRecords' largest Limit

/** Reads the table and its stream; see the file's comment. */
export class DynamoCdcReader implements SplitReader<DynamoChange> {
  private readonly options: DynamoCdcReaderOptions;
  private readonly api: () => DynamoCdcApi;
  private readonly context: SourceContext | undefined;
  private client: DynamoCdcApi | undefined;
  private pos: DynamoCdcPosition;
  private keys: string[] | undefined;
  private arn: string | undefined;
  private readonly iterators = new Map<string, string>();
  /** Open shards whose last read returned nothing (for `stopAtEnd`). */
  private readonly caughtUp = new Set<string>();
  private describedAt = Number.NEGATIVE_INFINITY;

  constructor(options: DynamoCdcReaderOptions, api: () => DynamoCdcApi, position: unknown, context?: SourceContext) {
    this.options = options;
    this.api = api;
    this.context = context;
    this.pos = (position as DynamoCdcPosition | undefined) ?? { snapshotted: !options.snapshot };
  }

  async read(max: number): Promise<SourceChunk<DynamoChange>> {
    const from = this.pos;
    try {
      return await this.readFrom(Math.max(1, max));
    } catch (e) {
      // What this read took is lost with it: start again from where it began, with new iterators.
      this.pos = from;
      this.iterators.clear();
      this.caughtUp.clear();
      throw dynamoError(`dynamodb-cdc: reading '${this.options.table}'`, e);
    }
  }

  private async readFrom(max: number): Promise<SourceChunk<DynamoChange>> {
    this.client ??= this.api();
    this.keys ??= await this.checkTable(this.client);
    const out: DynamoChange[] = [];
    if (!this.pos.shards) await this.startStream(this.client);
    else if (!this.pos.snapshotted) await this.scan(this.client, this.keys, max, out);
    else await this.stream(this.client, max, out);
    if (this.finished()) return { records: out, position: this.pos, done: true };
    const now = this.context?.currentProcessingTime?.();
    if (out.length === 0 && this.pos.snapshotted && now !== undefined)
      return { records: out, position: this.pos, done: false, idle: true, wakeAt: now + this.options.pollMs };
    return { records: out, position: this.pos, done: false };
  }

  /** The table's key attributes; fails at once when its stream cannot serve CDC. */
  private async checkTable(api: DynamoCdcApi): Promise<string[]> {
    const { table } = this.options;
    const shape = await api.describeTable(table);
    if (!shape.streamArn)
      throw new DynamoSetupError(
        `dynamodb-cdc: table '${table}' has no stream; enable one with NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name ${table} --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)`,
      );
    if (shape.viewType === "KEYS_ONLY" || shape.viewType === "OLD_IMAGE")
      throw new DynamoSetupError(
        `dynamodb-cdc: the stream of table '${table}' has view type ${shape.viewType}; CDC needs NEW_AND_OLD_IMAGES (or NEW_IMAGE)`,
      );
    if (this.pos.streamArn && this.pos.streamArn !== shape.streamArn)
      throw new DynamoSetupError(
        `dynamodb-cdc: the stream of table '${table}' changed (${this.pos.streamArn} → ${shape.streamArn}), so changes may be lost; restart the job without its state to snapshot again`,
      );
    this.arn = shape.streamArn;
    return shape.keys;
  }

  /** Records where the stream ends now (each open shard read to its end) as the place to read it from. */
  private async startStream(api: DynamoCdcApi): Promise<void> {
    const arn = this.arn as string;
    const listed = await api.shards(arn);
    const ends = new Map<string, string | null>();
    await Promise.all(
      listed
        .filter((s) => !s.closed)
        .map(async (s) => {
          let it: string | undefined = await api.iterator(arn, s.id, null);
          let last: string | null = null;
          while (it) {
            const page = await api.records(it, MAX_PAGE);
            if (page.records.length === 0) break;
            last = page.records.at(-1)?.sequenceNumber ?? last;
            it = page.next;
          }
          ends.set(s.id, last);
        }),
    );
    const segments = Array.from({ length: this.options.segments }, () => null);
    this.pos = { ...this.pos, streamArn: arn, shards: startShards(listed, ends), segments };
    this.describedAt = Date.now();
  }

  /** One strongly consistent page of every unfinished segment, in parallel. */
  private async scan(api: DynamoCdcApi, keys: string[], max: number, out: DynamoChange[]): Promise<void> {
    const segments = [...(this.pos.segments ?? [])];
    const open = segments.flatMap((s, i) => (s === true ? [] : [i]));
    const limit = Math.min(this.options.scanLimit, Math.max(1, Math.ceil(max / Math.max(1, open.length))));
    const pages = await Promise.all(
      open.map((i) => {
        const from = segments[i];
        return api.scan(this.options.table, i, segments.length, from === null ? undefined : (from as WireItem), limit);
      }),
    );
    for (const [n, i] of open.entries()) {
      const page = pages[n] as { items: WireItem[]; lastKey?: WireItem };
      for (const row of page.items) out.push({ kind: "+I", row, key: pick(row, keys) });
      segments[i] = page.lastKey ?? true;
    }
    this.pos = { ...this.pos, segments, snapshotted: segments.every((s) => s === true) };
  }

  /** One page of every readable shard, in parallel; a shard's records stay in order. */
  private async stream(api: DynamoCdcApi, max: number, out: DynamoChange[]): Promise<void> {
    const arn = this.pos.streamArn as string;
    let shards = this.pos.shards as Shards;
    if (Date.now() - this.describedAt >= this.options.describeEveryMs) {
      shards = mergeShards(shards, await api.shards(arn));
      this.describedAt = Date.now();
    }
    const readable = readableShards(shards);
    const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(max / Math.max(1, readable.length))));
    const fresh = (id: string) => api.iterator(arn, id, shards[id]?.seq ?? null);
    const pages = await Promise.all(
      readable.map(async (id) => {
        const held = this.iterators.get(id);
        if (held === undefined) return api.records(await fresh(id), limit);
        try {
          return await api.records(held, limit);
        } catch (e) {
          // An iterator not used for 15 minutes expires: take a new one at the same place.
          if (awsErrorName(e) !== "ExpiredIteratorException") throw e;
          return api.records(await fresh(id), limit);
        }
      }),
    );
    const next: Record<string, (typeof shards)[string]> = { ...shards };
    for (const [n, id] of readable.entries()) {
      const page = pages[n] as Awaited<ReturnType<DynamoCdcApi["records"]>>;
      const s = next[id] as (typeof shards)[string];
      for (const r of page.records) out.push(...changesOfRecord(r));
      const seq = page.records.at(-1)?.sequenceNumber ?? s.seq;
      if (page.next) this.iterators.set(id, page.next);
      else this.iterators.delete(id);
      next[id] = { ...s, seq, done: page.next === undefined };
      if (page.records.length === 0 && page.next) this.caughtUp.add(id);
      else this.caughtUp.delete(id);
      if (!page.next) this.describedAt = Number.NEGATIVE_INFINITY; // a shard ended: look for its children
    }
    this.pos = { ...this.pos, shards: next };
  }

  /** With `stopAtEnd`: the scan is done and every unfinished shard was read to its end. */
  private finished(): boolean {
    if (!this.options.stopAtEnd || !this.pos.snapshotted || !this.pos.shards) return false;
    if (this.describedAt === Number.NEGATIVE_INFINITY) return false;
    return Object.entries(this.pos.shards).every(([id, s]) => s.done || this.caughtUp.has(id));
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
    this.iterators.clear();
  }
}
