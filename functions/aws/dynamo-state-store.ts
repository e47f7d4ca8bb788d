/**
 * The {@link StateStore} port on DynamoDB. Layout and request counts: see
 * docs/AWS-TABLES.md, `dynamo-state-log.ts` (the log table),
 * `dynamo-state-slots.ts` (its fenced writes), `dynamo-state-values.ts` (the state
 * table) and `dynamo-state-registry.ts` (the task registries).
 *
 * - `append` is ONE conditional PutItem (a segment of up to 350 KB compressed), or
 *   one TransactWriteItems of up to 11 chunk items (up to 3.85 MB); larger segments
 *   throw {@link SegmentTooLargeError}. Segments are JSON compressed with brotli
 *   (`z: 1`); on AWS their payloads over 4 KB are not here at all but in S3
 *   (`OffloadingStateStore`, core/log/offloading-store.ts). The condition takes a free slot or a void marker
 *   of a generation ≤ the segment's, so the log stays gapless and a zombie of an
 *   older generation cannot write where a restore voided.
 * - keyed reads see base values plus the uncompacted segments' changes. Those
 *   changes are cached per partition (the "overlay") and refreshed with one query
 *   for segments after the cached head on every read, so the cache is never trusted
 *   blindly: a compaction, truncation or generation change seen there reloads it.
 * - the generation fence: `truncate` writes void markers over the voided slots and
 *   the next free one; `append` also refuses a generation below the highest one at
 *   the log's head (read when this instance does not know the head).
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { PartitionNotEmptyError, RiffleError, SegmentConflictError, SegmentFencedError } from "../../core/errors.ts";
import type { FoldPolicy } from "../../core/log/compaction.ts";
import { encodeJson } from "../../core/log/payload.ts";
import type {
  PartitionBase,
  Segment,
  SegmentsRead,
  StateChange,
  StateRef,
  StateStore,
} from "../../core/ports/state-store.ts";
import { batchWriteAll, deletePartition, mapLimit, queryAll } from "./dynamo-batch.ts";
import { documentClient, keyPart, type TableNames, TTL_ATTRIBUTE } from "./dynamo-client.ts";
import { COMPACTION_LEASE_MS, isLease } from "./dynamo-lease.ts";
import {
  compactPartition,
  type LogWriter,
  sealPartition,
  withoutCompaction,
  writeBase,
} from "./dynamo-state-compact.ts";
import {
  chunkedItems,
  LogKey,
  MAX_SEGMENT_BYTES,
  readBaseItems,
  readEntries,
  readHead,
  SEGMENT_TTL_S,
  SegmentTooLargeError,
} from "./dynamo-state-log.ts";
import { type PartitionCache, StateReads } from "./dynamo-state-reads.ts";
import { Registrations } from "./dynamo-state-registry.ts";
import { fenceNext, voidWrites, writeSegmentItems } from "./dynamo-state-slots.ts";
import { REGISTRY_SK, ValueKeys, writeValues } from "./dynamo-state-values.ts";

/** Options of {@link DynamoStateStore}. */
export interface DynamoStateStoreOptions {
  /**
   * A partition's cached overlay is dropped (and reloaded from the log on the next
   * read) once it holds more changed keys than this and 64 segments were added
   * since it was loaded (default 200 000).
   */
  readonly maxOverlayKeys?: number;
  /** How long a compaction's lease lasts unless renewed, in ms (default {@link COMPACTION_LEASE_MS}). */
  readonly compactionLeaseMs?: number;
  /** How long a restore's reset waits for a compaction in flight to end, in ms (default 60 s). */
  readonly resetWaitMs?: number;
  /** How often completed checkpoints fold the log (default {@link DYNAMO_FOLD_POLICY}; `null`: at every one). */
  readonly foldPolicy?: FoldPolicy | null;
}

/**
 * Folding on DynamoDB writes each changed key's value (at least 1 WRU each), so it
 * waits for 1,024 segments or every 64th checkpoint (a minute at a 1 s interval): a
 * key updated at every checkpoint is written to the base once per 64 checkpoints
 * instead of 64 times. A longer log costs a cold partition a larger `Query` of small
 * items, which is cheap. Folded segments are not rewritten: they expire by TTL
 * ({@link SEGMENT_TTL_S}), so a partition is also folded once its base is a day old,
 * whatever the interval, long before any segment it still needs could expire.
 */
export const DYNAMO_FOLD_POLICY: FoldPolicy = { segments: 1024, checkpoints: 64, maxAgeMs: 24 * 3600 * 1000 };

/** The DynamoDB state store of one job (many jobs share the tables). */
export class DynamoStateStore implements StateStore {
  readonly foldPolicy: FoldPolicy | undefined;
  /** Segments appended, for accounting. */
  appends = 0;
  /** Serialized segment bytes appended, for accounting. */
  bytesWritten = 0;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tables: TableNames;
  private readonly job: string;
  private readonly keys: ValueKeys;
  private readonly reads: StateReads;
  private readonly writer: LogWriter;
  private readonly resetWaitMs: number;
  /** Log partition key → what this instance knows of it. */
  readonly parts = new Map<string, PartitionCache>();
  /** What this instance knows of its tasks' registries, and the registrations it makes. */
  private readonly registrations: Registrations;

  constructor(client: DynamoDBClient, tables: TableNames, job: string, options: DynamoStateStoreOptions = {}) {
    this.doc = documentClient(client);
    this.tables = tables;
    this.job = keyPart("job id", job);
    this.keys = new ValueKeys(job);
    this.foldPolicy = options.foldPolicy === null ? undefined : (options.foldPolicy ?? DYNAMO_FOLD_POLICY);
    this.writer = { doc: this.doc, tables, keys: this.keys, leaseMs: options.compactionLeaseMs ?? COMPACTION_LEASE_MS };
    this.resetWaitMs = options.resetWaitMs ?? 60_000;
    this.registrations = new Registrations(this.doc, tables.state, this.keys);
    this.reads = new StateReads({
      doc: this.doc,
      tables,
      keys: this.keys,
      parts: this.parts,
      registries: this.registrations.cache,
      logPk: (task, p) => this.pk(task, p),
      maxOverlayKeys: options.maxOverlayKeys ?? 200_000,
    });
  }

  /** Partition key of `task[partition]` in the log table. */
  pk(task: string, partition: number): string {
    return `${this.job}#${keyPart("task id", task)}#${partition}`;
  }

  async append(task: string, partition: number, segment: Segment): Promise<number> {
    const pk = this.pk(task, partition);
    const body = encodeJson(segment);
    const what = `segment ${segment.n} of ${task}[${partition}]`;
    if (body.length > MAX_SEGMENT_BYTES) throw new SegmentTooLargeError(what, body.length);
    let pc = this.parts.get(pk);
    // A newer generation than the cached head's may mean a restore voided what the
    // cache holds: read the head (not needed while the partition is empty).
    if (!pc || segment.n !== pc.last + 1 || (segment.gen > pc.maxGen && pc.last > 0)) {
      const head = await readHead(this.doc, this.tables.log, pk);
      if (!pc || head.head !== pc.last || head.maxGen !== pc.maxGen) {
        pc = { last: head.head, maxGen: head.maxGen, overlay: undefined, added: 0 };
        this.parts.set(pk, pc);
      }
    }
    if (segment.gen < pc.maxGen) throw new SegmentFencedError(task, partition, segment.n, segment.gen, pc.maxGen);
    if (segment.n !== pc.last + 1) throw new SegmentConflictError(task, partition, segment.n);
    await this.registrations.changes(task, partition, segment.changes);

    const exp = Math.floor(Date.now() / 1000) + SEGMENT_TTL_S; // see SEGMENT_TTL_S: a fold need not rewrite it
    const items = chunkedItems(pk, LogKey.segment(segment.n), (i) => LogKey.chunk(segment.n, i), body, {
      n: segment.n,
      gen: segment.gen,
      z: 1,
    }).map((it) => ({ ...it, [TTL_ATTRIBUTE]: exp }));
    const written = await writeSegmentItems(this.doc, this.tables.log, what, items, segment.gen);
    if (!written.ok) {
      this.parts.delete(pk);
      const fence = Number(written.old?.v?.N ?? 0);
      if (fence > segment.gen) throw new SegmentFencedError(task, partition, segment.n, segment.gen, fence);
      throw new SegmentConflictError(task, partition, segment.n);
    }
    pc.last = segment.n;
    pc.maxGen = Math.max(pc.maxGen, segment.gen);
    // The overlay keeps its own copy: the caller may reuse the objects it committed.
    if (pc.overlay) this.reads.fold(pc, { ...segment, changes: JSON.parse(JSON.stringify(segment.changes)) });
    this.appends++;
    this.bytesWritten += body.length;
    return body.length;
  }

  async readSegments(task: string, partition: number, after: number): Promise<Segment[]> {
    return this.reads.readSegments(task, partition, after);
  }

  readLog(task: string, partition: number, after: number): Promise<SegmentsRead> {
    return this.reads.readLog(task, partition, after);
  }

  async readBase(task: string, partition: number): Promise<PartitionBase | undefined> {
    return (await readBaseItems(this.doc, this.tables.log, this.pk(task, partition))).base;
  }

  async compact(task: string, partition: number, through: number): Promise<number> {
    return compactPartition(this.writer, task, partition, this.pk(task, partition), through);
  }

  async seal(task: string, partition: number, through: number): Promise<number> {
    return sealPartition(this.writer, task, partition, this.pk(task, partition), through);
  }

  async truncate(task: string, partition: number, through: number, generation: number): Promise<void> {
    const pk = this.pk(task, partition);
    const [baseThrough, head] = await Promise.all([
      this.reads.baseThrough(pk),
      readHead(this.doc, this.tables.log, pk),
    ]);
    if (through < baseThrough) {
      throw new RiffleError(
        "truncate-before-base",
        `cannot restore ${task}[${partition}] to segment ${through}: compacted through ${baseThrough}`,
      );
    }
    await this.registrations.partition(task, partition);
    // A base installed past an empty log (savepoint restore) puts the cut at the base.
    const cut = Math.max(baseThrough, Math.min(through, head.head));
    const entries = await readEntries(this.doc, this.tables.log, pk, cut);
    const { writes, top } = voidWrites(pk, entries, cut, generation);
    this.parts.delete(pk);
    await batchWriteAll(this.doc, this.tables.log, writes);
    await fenceNext(this.doc, this.tables.log, pk, top, generation, `${task}[${partition}]`);
  }

  async getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    return this.reads.getState(task, refs);
  }

  async scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    return this.reads.scanState(task, s, kgStart, kgEnd);
  }

  async exportState(
    task: string,
    partition: number,
    through: number,
    kgStart: number,
    kgEnd: number,
  ): Promise<StateChange[]> {
    return this.reads.exportState(task, partition, through, kgStart, kgEnd);
  }

  /** Deletes the task's logs and values, while no compaction runs (`withoutCompaction`). */
  async resetTask(task: string): Promise<void> {
    const reg = await this.registrations.read(task);
    await this.dropLogsOf(task, [...reg.parts], async () => {
      await mapLimit([...reg.kgs], 8, async (g) => {
        await deletePartition(this.doc, this.tables.state, this.keys.pk(task, g));
        await deletePartition(this.doc, this.tables.state, this.keys.chunkPk(task, g));
      });
      const registry = { delete: { pk: this.keys.registryPk(task), sk: REGISTRY_SK } };
      await batchWriteAll(this.doc, this.tables.state, [registry]);
    });
    this.registrations.forget(task);
  }

  /** Deletes the task's log partitions; its values (by key group) and its registry stay. */
  async dropLogs(task: string): Promise<void> {
    const reg = await this.registrations.read(task);
    await this.dropLogsOf(task, [...reg.parts], async () => {});
  }

  /** Deletes the log partitions `parts` of `task` (all but their leases), then runs `then`, while no compaction runs. */
  private async dropLogsOf(task: string, parts: number[], then: () => Promise<void>): Promise<void> {
    const pks = parts.map((p) => this.pk(task, p));
    await withoutCompaction(this.writer, pks, this.resetWaitMs, async () => {
      await mapLimit(pks, 8, (pk) => deletePartition(this.doc, this.tables.log, pk, isLease));
      await then();
    });
    for (const pk of pks) this.parts.delete(pk);
  }

  async putBase(task: string, partition: number, base: PartitionBase): Promise<void> {
    const pk = this.pk(task, partition);
    const items = await queryAll(
      this.doc,
      {
        TableName: this.tables.log,
        // Past the new base: a zombie's segment at or below it is never read (see the port).
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: { ":pk": pk, ":from": `${LogKey.segment(base.through)}~`, ":to": LogKey.baseEnd },
        ProjectionExpression: "sk, w",
      },
      `Query of ${pk} (is it empty past ${base.through}?)`,
    );
    if (items.some((i) => i.w !== undefined)) {
      throw new PartitionNotEmptyError(task, partition);
    }
    await this.registrations.partition(task, partition);
    await writeBase(this.writer, pk, base, 0, `base of ${task}[${partition}]`, true);
    this.parts.delete(pk);
  }

  async putState(task: string, values: readonly StateChange[]): Promise<void> {
    await this.registrations.keyGroups(task, [...new Set(values.map((c) => c.g))]);
    await writeValues(this.doc, this.tables.state, this.keys, task, values);
  }
}
