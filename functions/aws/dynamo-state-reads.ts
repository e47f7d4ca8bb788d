/**
 * The read side of {@link DynamoStateStore}: segments, keyed values and the
 * per-partition overlay cache (the uncompacted segments' changes).
 *
 * Why the overlay stays correct without being trusted: it holds the newest change
 * per key of a contiguous run of live segments that starts right after the base the
 * partition had when the overlay was loaded. Base values only move forward, so any
 * base read after the load plus the overlay gives each key its newest committed
 * value. Each read first queries the segments after the cached head (usually an
 * empty answer): new live segments of the same generation are folded in; a
 * compaction tombstone there (changes we never saw went into the base), a void
 * marker of a newer generation or a segment of a newer generation (a restore
 * happened) makes the overlay reload from the log, after which base values are
 * read again.
 */

import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { RiffleError } from "../../core/errors.ts";
import type { Segment, SegmentsRead, StateChange, StateRef } from "../../core/ports/state-store.ts";
import { batchGetAll, mapLimit, queryAll } from "./dynamo-batch.ts";
import { dynamoCall, type TableNames } from "./dynamo-client.ts";
import { type LogEntry, LogKey, readEntries, readEntriesAndBase } from "./dynamo-state-log.ts";
import {
  decodeValues,
  parseRegistry,
  REGISTRY_SK,
  type Registry,
  readRegistry,
  readValues,
  type StoredValue,
  type ValueKeys,
} from "./dynamo-state-values.ts";

/** What a store instance knows of a partition's log. */
export interface PartitionCache {
  /** The head: last segment number. */
  last: number;
  /** Highest generation seen at the head (segments and void markers): the fence. */
  maxGen: number;
  /** `s\nk` → newest change among the uncompacted segments, complete from the base; undefined: not loaded. */
  overlay: Map<string, StateChange> | undefined;
  /** Segments folded into the overlay since it was loaded. */
  added: number;
}

/** What the reads share with the store. */
export interface StateReadsContext {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly keys: ValueKeys;
  readonly parts: Map<string, PartitionCache>;
  readonly registries: Map<string, Registry>;
  readonly logPk: (task: string, partition: number) => string;
  readonly maxOverlayKeys: number;
}

/** Segments folded in after which a too-large overlay is dropped. */
const RELOAD_AFTER_SEGMENTS = 64;
/** Key-group queries in flight at once. */
const PARALLEL_QUERIES = 16;

const keyOf = (s: string, k: string) => `${s}\n${k}`;

/** Keyed reads and segment reads of a {@link DynamoStateStore}. */
export class StateReads {
  private readonly o: StateReadsContext;
  constructor(context: StateReadsContext) {
    this.o = context;
  }

  /** `through` of a partition's base (0: none), one GetItem. */
  async baseThrough(pk: string): Promise<number> {
    const out = await dynamoCall(`GetItem of the base of ${pk}`, () =>
      this.o.doc.send(
        new GetCommand({
          TableName: this.o.tables.log,
          Key: { pk, sk: LogKey.base },
          ProjectionExpression: "through",
          ConsistentRead: true,
        }),
      ),
    );
    return Number(out.Item?.through ?? 0);
  }

  async readSegments(task: string, partition: number, after: number): Promise<Segment[]> {
    return (await this.readLog(task, partition, after)).segments;
  }

  /** The segments after `after`, and the base's `through` and write time, read in one query. */
  async readLog(task: string, partition: number, after: number): Promise<SegmentsRead> {
    const pk = this.o.logPk(task, partition);
    const { entries, through, at } = await readEntriesAndBase(this.o.doc, this.o.tables.log, pk, after);
    const floor = floorOf(entries, Math.max(through, after));
    if (after <= through && !this.o.parts.get(pk)?.overlay) this.install(pk, entries, floor);
    const segments = entries.flatMap((e) => (e.kind === "live" && e.n > floor ? [e.segment] : []));
    return { through, ...(at === undefined ? {} : { baseAt: at }), segments };
  }

  /** Folds a segment's changes into a loaded overlay (they are kept as given: pass copies). */
  fold(pc: PartitionCache, segment: Segment): void {
    const overlay = pc.overlay;
    if (!overlay) return;
    for (const c of segment.changes) {
      const k = keyOf(c.s, c.k);
      overlay.delete(k);
      overlay.set(k, c);
    }
    pc.added++;
    if (overlay.size > this.o.maxOverlayKeys && pc.added >= RELOAD_AFTER_SEGMENTS) pc.overlay = undefined;
  }

  /** Caches a partition's overlay from the entries above `floor` (its base); false when they are not contiguous. */
  private install(pk: string, entries: readonly LogEntry[], floor: number): boolean {
    const pc: PartitionCache = { last: floor, maxGen: 0, overlay: new Map(), added: 0 };
    for (const e of entries) {
      if (e.kind === "void") pc.maxGen = Math.max(pc.maxGen, e.v);
      if (e.kind !== "live" || e.n <= floor) continue;
      if (e.n !== pc.last + 1) return false;
      this.fold(pc, e.segment);
      pc.last = e.n;
      pc.maxGen = Math.max(pc.maxGen, e.gen);
    }
    pc.added = 0;
    this.o.parts.set(pk, pc);
    return true;
  }

  /** Loads a partition's overlay from the log (its base's `through`, then the segments after it). */
  private async load(task: string, partition: number): Promise<void> {
    const pk = this.o.logPk(task, partition);
    const through = await this.baseThrough(pk);
    const entries = await readEntries(this.o.doc, this.o.tables.log, pk, through);
    if (!this.install(pk, entries, floorOf(entries, through))) {
      throw new RiffleError("dynamo-log-gap", `the live segments of ${task}[${partition}] are not contiguous`, {
        retryable: true,
      });
    }
  }

  /** Brings a loaded overlay up to date; false when it must be (re)loaded. */
  private async refresh(task: string, partition: number): Promise<boolean> {
    const pk = this.o.logPk(task, partition);
    const pc = this.o.parts.get(pk);
    if (!pc?.overlay) return false;
    const entries = await readEntries(this.o.doc, this.o.tables.log, pk, pc.last);
    for (const e of entries) {
      const stale =
        e.kind === "tomb" ||
        (e.kind === "void" && e.v > pc.maxGen) ||
        (e.kind === "live" && (e.gen > pc.maxGen || e.n > pc.last + 1));
      if (stale) {
        pc.overlay = undefined;
        return false;
      }
      if (e.kind !== "live" || e.n <= pc.last) continue;
      this.fold(pc, e.segment);
      pc.last = e.n;
    }
    return pc.overlay !== undefined;
  }

  /** Makes the overlays of `partitions` current; resolves true when one had to be loaded. */
  private async current(task: string, partitions: readonly number[]): Promise<boolean> {
    const fresh = await Promise.all(partitions.map((p) => this.refresh(task, p)));
    const stale = partitions.filter((_, i) => !fresh[i]);
    await Promise.all(stale.map((p) => this.load(task, p)));
    return stale.length > 0;
  }

  private async registry(task: string): Promise<Registry> {
    const reg = await readRegistry(this.o.doc, this.o.tables.state, this.o.keys, task);
    this.o.registries.set(task, reg);
    return reg;
  }

  /**
   * Base values (one BatchGetItem per 100 refs, with the registry item in the first
   * round) and, in parallel, the overlay refresh of the partitions known to write
   * those key groups; partitions the fresh registry adds are loaded, then the base
   * values are read again.
   */
  async getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    if (refs.length === 0) return [];
    const kgs = new Set(refs.map((r) => r.g));
    const known = writersOf(this.o.registries.get(task), kgs);
    const regKey = { pk: this.o.keys.registryPk(task), sk: REGISTRY_SK };
    const valueKeys = refs.map((r) => ({ pk: this.o.keys.pk(task, r.g), sk: this.o.keys.sk(r.s, r.k) }));
    const [found, fresh] = await Promise.all([
      batchGetAll(this.o.doc, this.o.tables.state, [regKey, ...valueKeys]),
      Promise.all(known.map((p) => this.refresh(task, p))),
    ]);
    const reg = parseRegistry(found.get(`${regKey.pk}\n${regKey.sk}`));
    this.o.registries.set(task, reg);
    found.delete(`${regKey.pk}\n${regKey.sk}`);
    const writers = writersOf(reg, kgs);
    const stale = writers.filter((p) => !fresh[known.indexOf(p)]);
    let values: Map<string, StoredValue>;
    if (stale.length > 0) {
      await Promise.all(stale.map((p) => this.load(task, p)));
      values = await readValues(this.o.doc, this.o.tables.state, this.o.keys, task, refs);
    } else {
      const decoded = await decodeValues(this.o.doc, this.o.tables.state, this.o.keys, task, [...found.values()]);
      values = new Map(decoded.values.map((v) => [keyOf(v.s, v.k), v]));
      if (decoded.retry.length > 0) {
        const again = decoded.retry.map((i) => ({ s: String(i.s), k: String(i.k), g: Number(i.g) }));
        for (const [k, v] of await readValues(this.o.doc, this.o.tables.state, this.o.keys, task, again))
          values.set(k, v);
      }
    }
    const overlays = writers.map((p) => this.o.parts.get(this.o.logPk(task, p))?.overlay);
    return refs.map((r) => {
      const k = keyOf(r.s, r.k);
      for (const o of overlays) {
        const c = o?.get(k);
        if (c) return c.d ? undefined : copy(c.v);
      }
      return values.get(k)?.v;
    });
  }

  /** Base values of `task` in key group `g` (of state `s`, or all), one paginated Query. */
  private async kgValues(task: string, g: number, s?: string): Promise<StoredValue[]> {
    const prefix = s === undefined ? {} : { ":prefix": `${s}#` };
    const items = await queryAll(
      this.o.doc,
      {
        TableName: this.o.tables.state,
        KeyConditionExpression: `pk = :pk${s === undefined ? "" : " AND begins_with(sk, :prefix)"}`,
        ExpressionAttributeValues: { ":pk": this.o.keys.pk(task, g), ...prefix },
      },
      `Query of the base values of ${task} in key group ${g}`,
    );
    const { values, retry } = await decodeValues(this.o.doc, this.o.tables.state, this.o.keys, task, items);
    if (retry.length === 0) return values;
    const again = retry.map((i) => ({ s: String(i.s), k: String(i.k), g: Number(i.g) }));
    return [...values, ...(await readValues(this.o.doc, this.o.tables.state, this.o.keys, task, again)).values()];
  }

  async scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    const reg = await this.registry(task);
    const inRange = (g: number) => g >= kgStart && g <= kgEnd;
    const kgs = new Set([...reg.kgs, ...reg.owners.keys()].filter(inRange));
    const writers = writersOf(reg, kgs);
    await this.current(task, writers);
    const values = new Map<string, unknown>();
    const perKg = await mapLimit([...kgs], PARALLEL_QUERIES, (g) => this.kgValues(task, g, s));
    for (const list of perKg) for (const v of list) values.set(v.k, v.v);
    for (const p of writers) {
      for (const c of this.o.parts.get(this.o.logPk(task, p))?.overlay?.values() ?? []) {
        if (c.s !== s || !inRange(c.g)) continue;
        if (c.d) values.delete(c.k);
        else values.set(c.k, copy(c.v));
      }
    }
    return [...values];
  }

  async exportState(
    task: string,
    partition: number,
    through: number,
    kgStart: number,
    kgEnd: number,
  ): Promise<StateChange[]> {
    const pk = this.o.logPk(task, partition);
    const [reg, base] = await Promise.all([this.registry(task), this.baseThrough(pk)]);
    const entries = await readEntries(this.o.doc, this.o.tables.log, pk, base);
    const floor = floorOf(entries, base);
    const inRange = (g: number) => g >= kgStart && g <= kgEnd;
    const kgs = [...reg.kgs].filter(inRange);
    const values = new Map<string, StoredValue>();
    for (const list of await mapLimit(kgs, PARALLEL_QUERIES, (g) => this.kgValues(task, g))) {
      for (const v of list) values.set(keyOf(v.s, v.k), v);
    }
    for (const e of entries) {
      if (e.kind !== "live" || e.n <= floor || e.n > through) continue;
      for (const c of e.segment.changes) {
        if (c.d) values.delete(keyOf(c.s, c.k));
        else values.set(keyOf(c.s, c.k), { s: c.s, k: c.k, g: c.g, v: c.v });
      }
    }
    return [...values.values()].filter((v) => inRange(v.g)).map((v) => ({ s: v.s, k: v.k, g: v.g, v: v.v }));
  }
}

/** A value as a store that serializes returns it: a fresh JSON copy (never the cached object). */
function copy(v: unknown): unknown {
  return v === undefined || v === null || typeof v !== "object" ? v : JSON.parse(JSON.stringify(v));
}

/** The partitions whose segments changed any of `kgs`, ascending. */
function writersOf(reg: Registry | undefined, kgs: Iterable<number>): number[] {
  const out = new Set<number>();
  for (const g of kgs) for (const p of reg?.owners.get(g) ?? []) out.add(p);
  return [...out].sort((a, b) => a - b);
}

/** The highest of `floor` and the compaction tombstones among `entries`: live segments start above it. */
function floorOf(entries: readonly LogEntry[], floor: number): number {
  let f = floor;
  for (const e of entries) if (e.kind === "tomb") f = Math.max(f, e.n);
  return f;
}
