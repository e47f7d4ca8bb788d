/**
 * A {@link StateStore} that keeps segment payloads (outbox, staged sink records,
 * dead letters) in a {@link BlobStore} and the rest of each segment (positions,
 * seqs, state deltas, operator state) in the store it wraps. The protocol and why:
 * `payload.ts`. On AWS it wraps the DynamoDB store with S3; the simulation wraps the
 * in-memory store with a faulty in-memory blob store.
 */

import { randomUUID } from "node:crypto";
import { SegmentConflictError } from "../errors.ts";
import type { BlobStore } from "../ports/blob-store.ts";
import type {
  PartitionBase,
  PayloadsWanted,
  Segment,
  SegmentsRead,
  StateChange,
  StateRef,
  StateStore,
} from "../ports/state-store.ts";
import type { FoldPolicy } from "./compaction.ts";
import {
  decodeJson,
  encodeJson,
  INLINE_MAX_BYTES,
  SegmentObjectMissingError,
  SegmentObjects,
  segmentObjectKey,
} from "./payload.ts";

/** What leaves the wrapped store. */
type Payload = Pick<Segment, "outbox" | "sink" | "deadLetters">;

/** Reads of a log whose objects were deleted under them before the reader gives up. */
const RE_READS = 5;
/** Objects fetched at once. */
const PARALLEL_GETS = 16;

/** Options of {@link OffloadingStateStore}. */
export interface OffloadingStateStoreOptions {
  /** The job (the first part of every object key). */
  readonly job: string;
  /** Largest encoded payload kept inline (default {@link INLINE_MAX_BYTES}; tests use 0). */
  readonly inlineMaxBytes?: number;
}

/** Segment payloads in objects; see the module comment. */
export class OffloadingStateStore implements StateStore {
  readonly inner: StateStore;
  private readonly objects: SegmentObjects;
  private readonly job: string;
  private readonly inlineMax: number;
  /** Partition scope → highest segment swept so far by this instance. */
  private readonly swept = new Map<string, number>();
  /** Payloads written as objects, for accounting. */
  objectsWritten = 0;

  constructor(inner: StateStore, blobs: BlobStore, options: OffloadingStateStoreOptions) {
    this.inner = inner;
    this.objects = new SegmentObjects(blobs);
    this.job = options.job;
    this.inlineMax = options.inlineMaxBytes ?? INLINE_MAX_BYTES;
    if (inner.seal) {
      const seal = inner.seal.bind(inner);
      this.seal = async (task, partition, through) => {
        const upTo = await seal(task, partition, through);
        await this.sweep(task, partition, upTo);
        return upTo;
      };
    }
    if (inner.readLog) {
      this.readLog = (task, partition, after, payloads) => this.readWhole(task, partition, after, payloads, true);
    }
  }

  get foldPolicy(): FoldPolicy | undefined {
    return this.inner.foldPolicy;
  }

  /** Object-key prefix of `task[partition]`'s payloads; of the whole task without a partition. */
  scope(task: string, partition?: number): string {
    return `${this.job}/${task}/${partition === undefined ? "" : `${partition}/`}`;
  }

  async append(task: string, partition: number, segment: Segment): Promise<number> {
    if (segment.outbox.length === 0 && !segment.sink && !segment.deadLetters) {
      return this.inner.append(task, partition, segment);
    }
    const { outbox, sink, deadLetters, ...rest } = segment;
    const body = encodeJson({ outbox, sink, deadLetters } satisfies Payload);
    if (body.length <= this.inlineMax) return this.inner.append(task, partition, segment);
    const key = segmentObjectKey(this.scope(task, partition), segment.n, randomUUID());
    await this.objects.write(key, body); // before the append: a committed segment never names a missing object
    try {
      const bytes = await this.inner.append(task, partition, { ...rest, outbox: [], payload: key });
      this.objectsWritten++;
      return bytes + body.length;
    } catch (e) {
      if (e instanceof SegmentConflictError && (await this.lostTo(task, partition, segment.n, key))) {
        await this.objects.discard([key]);
      }
      throw e;
    }
  }

  /**
   * True when slot `n` holds a segment that does not name `key`, so the object is
   * surely an orphan. A conflict can also be this very write, retried after its
   * response was lost: then the committed segment names `key`, which must stay. When
   * unsure (the slot folded or voided, the read failed), the object stays for a sweep.
   */
  private async lostTo(task: string, partition: number, n: number, key: string): Promise<boolean> {
    try {
      const slot = (await this.inner.readSegments(task, partition, n - 1, "none")).find((s) => s.n === n);
      return slot !== undefined && slot.payload !== key;
    } catch {
      return false;
    }
  }

  async readSegments(task: string, partition: number, after: number, payloads?: PayloadsWanted): Promise<Segment[]> {
    return (await this.readWhole(task, partition, after, payloads, false)).segments;
  }

  /** Present when the wrapped store has it: its segments with their payloads, and its base's `through`. */
  readonly readLog?: (
    task: string,
    partition: number,
    after: number,
    payloads?: PayloadsWanted,
  ) => Promise<SegmentsRead>;

  /** Reads `task[partition]`'s segments after `after` (with `withBase`, through the inner `readLog`) and their payloads. */
  private async readWhole(
    task: string,
    partition: number,
    after: number,
    payloads: PayloadsWanted | undefined,
    withBase: boolean,
  ): Promise<SegmentsRead> {
    for (let i = 0; ; i++) {
      const read =
        withBase && this.inner.readLog
          ? await this.inner.readLog(task, partition, after)
          : { through: 0, segments: await this.inner.readSegments(task, partition, after) };
      if (payloads === "none") return { ...read, segments: read.segments.map(withoutPayload) };
      const proven = payloads === "unsent" ? Math.max(0, ...read.segments.map((s) => s.sentThrough)) : 0;
      try {
        return { ...read, segments: await this.whole(read.segments, proven) };
      } catch (e) {
        if (!(e instanceof SegmentObjectMissingError) || i >= RE_READS) throw e;
      }
    }
  }

  /** `segments` with the payloads of those above `proven` fetched (an object gone: {@link SegmentObjectMissingError}). */
  private async whole(segments: readonly Segment[], proven: number): Promise<Segment[]> {
    const out: Segment[] = [];
    for (let i = 0; i < segments.length; i += PARALLEL_GETS) {
      const batch = segments.slice(i, i + PARALLEL_GETS).map(async (s) => {
        if (s.payload === undefined) return s;
        if (s.n <= proven) return withoutPayload(s);
        const { payload, ...rest } = s;
        const p = decodeJson<Payload>(await this.objects.read(payload));
        return {
          ...rest,
          outbox: p.outbox,
          ...(p.sink ? { sink: p.sink } : {}),
          ...(p.deadLetters ? { deadLetters: p.deadLetters } : {}),
        };
      });
      out.push(...(await Promise.all(batch)));
    }
    return out;
  }

  readBase(task: string, partition: number): Promise<PartitionBase | undefined> {
    return this.inner.readBase(task, partition);
  }

  /** Folds, then deletes every object at or below the new base: the folded payloads and any orphan there. */
  async compact(task: string, partition: number, through: number): Promise<number> {
    const upTo = await this.inner.compact(task, partition, through);
    await this.sweep(task, partition, upTo);
    return upTo;
  }

  /** Deletes every object of `task[partition]` at or below `upTo` (the base's `through`), once per base. */
  private async sweep(task: string, partition: number, upTo: number): Promise<void> {
    const scope = this.scope(task, partition);
    if (upTo > (this.swept.get(scope) ?? 0)) {
      await this.objects.sweep(scope, upTo);
      this.swept.set(scope, upTo);
    }
  }

  /** Present when the wrapped store has it: folds and seals (see {@link StateStore.seal}), then sweeps what the fold passed. */
  readonly seal?: (task: string, partition: number, through: number) => Promise<number>;

  /** Voids the segments after the cut, then deletes the objects they named (orphans there wait for a sweep). */
  async truncate(task: string, partition: number, through: number, generation: number): Promise<void> {
    const voided = await this.inner.readSegments(task, partition, through);
    await this.inner.truncate(task, partition, through, generation);
    await this.objects.discard(voided.flatMap((s) => (s.payload === undefined ? [] : [s.payload])));
  }

  async resetTask(task: string): Promise<void> {
    await this.inner.resetTask(task);
    await this.sweepTask(task);
  }

  /** Drops the logs (a rescale keeps the values), then every object of the task: no segment names one any more. */
  async dropLogs(task: string): Promise<void> {
    await this.inner.dropLogs(task);
    await this.sweepTask(task);
  }

  private async sweepTask(task: string): Promise<void> {
    await this.objects.sweep(this.scope(task));
    for (const k of [...this.swept.keys()]) if (k.startsWith(this.scope(task))) this.swept.delete(k);
  }

  getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    return this.inner.getState(task, refs);
  }
  scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    return this.inner.scanState(task, s, kgStart, kgEnd);
  }
  exportState(
    task: string,
    partition: number,
    through: number,
    kgStart: number,
    kgEnd: number,
  ): Promise<StateChange[]> {
    return this.inner.exportState(task, partition, through, kgStart, kgEnd);
  }
  putBase(task: string, partition: number, base: PartitionBase): Promise<void> {
    return this.inner.putBase(task, partition, base);
  }
  putState(task: string, values: readonly StateChange[]): Promise<void> {
    return this.inner.putState(task, values);
  }
}

/** A segment as read without its payload: no object key, an empty outbox (sink and dead letters are in the object). */
function withoutPayload(s: Segment): Segment {
  if (s.payload === undefined) return s;
  const { payload: _, ...rest } = s;
  return rest;
}
