/**
 * In-memory implementation of the {@link StateStore} port. Segments and state
 * values are kept as objects (no serialization), unless `copy` is set, in which
 * case every segment is deep-copied on the way in and out, as a durable store
 * would — tests use that to catch aliasing between committed state and live objects.
 *
 * Appending only stores the segment: the keyed values the log adds up to are
 * indexed lazily, on the first read (a cold partition's prefetch, a restore), so a
 * warm job pays nothing for an index it does not use.
 */

import { PartitionNotEmptyError, SegmentConflictError, SegmentFencedError } from "../errors.ts";
import { compactionBound, extentOf, type FoldPolicy, foldBase, netChanges } from "../log/compaction.ts";
import type { PartitionBase, Segment, SegmentsRead, StateChange, StateRef, StateStore } from "../ports/state-store.ts";

interface Entry {
  readonly g: number;
  readonly v?: unknown;
  readonly d?: true;
}

type Values = Map<string, Map<string, Entry>>;

interface Log {
  base: PartitionBase | undefined;
  /** Uncompacted segments, ascending; `segs[i].n === through + 1 + i`. */
  segs: Segment[];
  /** Appends of generations below this one are refused (set by `truncate`). */
  fence: number;
}

/** The values written by uncompacted segments, built on demand; `applied` = segments folded in per log. */
interface Overlay {
  readonly values: Values;
  readonly applied: Map<Log, number>;
}

/** Options of {@link InMemoryStateStore}. */
export interface InMemoryStateStoreOptions {
  /** Deep-copy segments on append and read. */
  readonly copy?: boolean;
  /** How often completed checkpoints fold the log (default: at every one). */
  readonly foldPolicy?: FoldPolicy;
}

/** The in-memory state store. */
export class InMemoryStateStore implements StateStore {
  private readonly logs = new Map<string, Log>();
  /** task → its partitions' logs. */
  private readonly taskLogs = new Map<string, Set<Log>>();
  /** task → state id → encoded key → value folded into the base by compaction. */
  private readonly baseValues = new Map<string, Values>();
  /** task → lazily built index of what its uncompacted segments wrote (deletions included). */
  private readonly overlays = new Map<string, Overlay>();
  private readonly copy: boolean;
  readonly foldPolicy: FoldPolicy | undefined;
  /** Segments appended, for accounting. */
  appends = 0;

  constructor(options: InMemoryStateStoreOptions = {}) {
    this.copy = options.copy ?? false;
    this.foldPolicy = options.foldPolicy;
  }

  private log(task: string, partition: number): Log {
    const id = `${task}#${partition}`;
    let log = this.logs.get(id);
    if (!log) {
      log = { base: undefined, segs: [], fence: 0 };
      this.logs.set(id, log);
      let set = this.taskLogs.get(task);
      if (!set) {
        set = new Set();
        this.taskLogs.set(task, set);
      }
      set.add(log);
    }
    return log;
  }

  async append(task: string, partition: number, segment: Segment): Promise<number> {
    const log = this.log(task, partition);
    if (segment.gen < log.fence) {
      throw new SegmentFencedError(task, partition, segment.n, segment.gen, log.fence);
    }
    const last = (log.base?.through ?? 0) + log.segs.length;
    if (segment.n !== last + 1) throw new SegmentConflictError(task, partition, segment.n);
    log.segs.push(this.copy ? structuredClone(segment) : segment);
    this.appends++;
    return 0;
  }

  /** The overlay of `task`, caught up with every uncompacted segment. */
  private overlay(task: string): Overlay {
    let o = this.overlays.get(task);
    if (!o) {
      o = { values: new Map(), applied: new Map() };
      this.overlays.set(task, o);
    }
    for (const log of this.taskLogs.get(task) ?? []) {
      const from = log.base?.through ?? 0;
      const done = o.applied.get(log) ?? from;
      for (let i = Math.max(0, done - from); i < log.segs.length; i++) applyChanges(o.values, log.segs[i] as Segment);
      o.applied.set(log, from + log.segs.length);
    }
    return o;
  }

  /** The committed value of `s`/`k`: the overlay's, else the base's. */
  private lookup(task: string, o: Overlay, s: string, k: string): Entry | undefined {
    const e = o.values.get(s)?.get(k) ?? this.baseValues.get(task)?.get(s)?.get(k);
    return e?.d ? undefined : e;
  }

  async readSegments(task: string, partition: number, after: number): Promise<Segment[]> {
    const log = this.logs.get(`${task}#${partition}`);
    if (!log) return [];
    const out = log.segs.slice(Math.max(0, after - (log.base?.through ?? 0)));
    return this.copy ? structuredClone(out) : out;
  }

  async readLog(task: string, partition: number, after: number): Promise<SegmentsRead> {
    const through = this.logs.get(`${task}#${partition}`)?.base?.through ?? 0;
    return { through, segments: await this.readSegments(task, partition, after) };
  }

  async readBase(task: string, partition: number): Promise<PartitionBase | undefined> {
    const base = this.logs.get(`${task}#${partition}`)?.base;
    return this.copy && base ? structuredClone(base) : base;
  }

  async compact(task: string, partition: number, through: number): Promise<number> {
    const log = this.log(task, partition);
    const extent = extentOf(log.base, log.segs);
    const from = extent.from;
    const upTo = compactionBound(extent, through);
    if (upTo <= from) return from;
    const folded = log.segs.slice(0, upTo - from);
    // The fold rule of every store that bills writes (a wrong `n` mark shows here as a stale value).
    const changes = netChanges(folded.flatMap((s) => s.changes));
    applyChanges(this.baseValuesOf(task), { changes } as unknown as Segment, true);
    log.base = foldBase(log.base, folded, upTo);
    log.segs = log.segs.slice(upTo - from);
    this.overlays.delete(task); // rebuilt from the remaining segments on the next read
    return upTo;
  }

  /** Nothing here expires, so a seal is only its fold (`StateStore.seal`): the simulation runs the seal's path. */
  async seal(task: string, partition: number, through: number): Promise<number> {
    return this.compact(task, partition, through);
  }

  private baseValuesOf(task: string): Values {
    let v = this.baseValues.get(task);
    if (!v) {
      v = new Map();
      this.baseValues.set(task, v);
    }
    return v;
  }

  async truncate(task: string, partition: number, through: number, generation: number): Promise<void> {
    const log = this.log(task, partition);
    const from = log.base?.through ?? 0;
    if (through < from) {
      throw new Error(`cannot restore ${task}[${partition}] to segment ${through}: compacted through ${from}`);
    }
    log.fence = Math.max(log.fence, generation);
    if (through - from >= log.segs.length) return;
    log.segs = log.segs.slice(0, through - from);
    this.overlays.delete(task); // the voided segments' values go with them
  }

  async getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    const o = this.overlay(task);
    return refs.map((r) => {
      const v = this.lookup(task, o, r.s, r.k)?.v;
      return this.copy && v !== undefined ? structuredClone(v) : v;
    });
  }

  async scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    const o = this.overlay(task);
    const keys = new Set([...(this.baseValues.get(task)?.get(s)?.keys() ?? []), ...(o.values.get(s)?.keys() ?? [])]);
    const out: [string, unknown][] = [];
    for (const k of keys) {
      const e = this.lookup(task, o, s, k);
      if (e && e.g >= kgStart && e.g <= kgEnd) out.push([k, this.copy ? structuredClone(e.v) : e.v]);
    }
    return out;
  }

  async exportState(
    task: string,
    partition: number,
    through: number,
    kgStart: number,
    kgEnd: number,
  ): Promise<StateChange[]> {
    const values: Values = new Map();
    for (const [s, m] of this.baseValues.get(task) ?? []) {
      const kept = new Map<string, Entry>();
      for (const [k, e] of m) if (e.g >= kgStart && e.g <= kgEnd) kept.set(k, e);
      values.set(s, kept);
    }
    for (const seg of this.logs.get(`${task}#${partition}`)?.segs ?? []) {
      if (seg.n > through) break;
      applyChanges(values, seg, true);
    }
    const out: StateChange[] = [];
    for (const [s, m] of values) {
      for (const [k, e] of m) {
        if (e.g >= kgStart && e.g <= kgEnd) out.push({ s, k, g: e.g, v: this.copy ? structuredClone(e.v) : e.v });
      }
    }
    return out;
  }

  async resetTask(task: string): Promise<void> {
    for (const [id, log] of [...this.logs]) {
      if (id.slice(0, id.lastIndexOf("#")) !== task) continue;
      this.logs.delete(id);
      this.taskLogs.get(task)?.delete(log);
    }
    this.baseValues.delete(task);
    this.overlays.delete(task);
  }

  async dropLogs(task: string): Promise<void> {
    for (const id of [...this.logs.keys()]) if (id.slice(0, id.lastIndexOf("#")) === task) this.logs.delete(id);
    this.taskLogs.delete(task);
    this.overlays.delete(task);
  }

  async putBase(task: string, partition: number, base: PartitionBase): Promise<void> {
    const log = this.log(task, partition);
    if (log.base || log.segs.some((s) => s.n > base.through)) throw new PartitionNotEmptyError(task, partition);
    if (log.segs.length > 0) this.overlays.delete(task); // a zombie's segments, below the base: drop their changes
    log.segs = [];
    log.base = this.copy ? structuredClone(base) : base;
  }

  async putState(task: string, values: readonly StateChange[]): Promise<void> {
    applyChanges(this.baseValuesOf(task), { changes: values } as unknown as Segment, true);
    this.overlays.delete(task);
  }

  /** Number of segments of `task[partition]`, compacted ones included. */
  segmentCount(task: string, partition: number): number {
    const log = this.logs.get(`${task}#${partition}`);
    return log ? (log.base?.through ?? 0) + log.segs.length : 0;
  }
}

/**
 * Applies a segment's changes to `values`. An overlay keeps deletions as entries
 * (they hide base values); a base (`removeDeleted`) just drops the key.
 */
function applyChanges(values: Values, seg: Segment, removeDeleted = false): void {
  for (const c of seg.changes) {
    let m = values.get(c.s);
    if (!m) {
      m = new Map();
      values.set(c.s, m);
    }
    if (c.d && removeDeleted) m.delete(c.k);
    else m.set(c.k, c); // a change has the entry's shape ({ g, v, d }): no copy
  }
}
