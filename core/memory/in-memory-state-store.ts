/**
 * In-memory implementation of the {@link StateStore} port. Segments and state
 * values are kept as objects (no serialization), unless `copy` is set, in which
 * case every segment is deep-copied on the way in and out, as a durable store
 * would — tests use that to catch aliasing between committed state and live objects.
 */

import { SegmentConflictError } from "../errors.ts";
import type { PartitionBase, Segment, StateChange, StateRef, StateStore } from "../ports/state-store.ts";
import { PartitionView } from "../runtime/partition-view.ts";

interface Entry {
  readonly g: number;
  readonly v?: unknown;
}

interface Log {
  base: PartitionBase | undefined;
  /** Uncompacted segments, ascending; `segs[i].n === through + 1 + i`. */
  segs: Segment[];
}

/** Options of {@link InMemoryStateStore}. */
export interface InMemoryStateStoreOptions {
  /** Deep-copy segments on append and read. */
  readonly copy?: boolean;
}

/** The in-memory state store. */
export class InMemoryStateStore implements StateStore {
  private readonly logs = new Map<string, Log>();
  /** task → state id → encoded key → latest committed value (base + every live segment). */
  private readonly latest = new Map<string, Map<string, Map<string, Entry>>>();
  /** task → state id → encoded key → value folded into the base by compaction. */
  private readonly baseValues = new Map<string, Map<string, Map<string, Entry>>>();
  private readonly copy: boolean;
  /** Segments appended, for accounting. */
  appends = 0;

  constructor(options: InMemoryStateStoreOptions = {}) {
    this.copy = options.copy ?? false;
  }

  private log(task: string, partition: number): Log {
    const id = `${task}#${partition}`;
    let log = this.logs.get(id);
    if (!log) {
      log = { base: undefined, segs: [] };
      this.logs.set(id, log);
    }
    return log;
  }

  async append(task: string, partition: number, segment: Segment): Promise<number> {
    const log = this.log(task, partition);
    const last = (log.base?.through ?? 0) + log.segs.length;
    if (segment.n !== last + 1) throw new SegmentConflictError(task, partition, segment.n);
    const seg = this.copy ? structuredClone(segment) : segment;
    log.segs.push(seg);
    this.appends++;
    applyChanges(this.latest, task, seg);
    return 0;
  }

  async readSegments(task: string, partition: number, after: number): Promise<Segment[]> {
    const log = this.logs.get(`${task}#${partition}`);
    if (!log) return [];
    const out = log.segs.slice(Math.max(0, after - (log.base?.through ?? 0)));
    return this.copy ? structuredClone(out) : out;
  }

  async readBase(task: string, partition: number): Promise<PartitionBase | undefined> {
    const base = this.logs.get(`${task}#${partition}`)?.base;
    return this.copy && base ? structuredClone(base) : base;
  }

  async compact(task: string, partition: number, through: number): Promise<number> {
    const log = this.log(task, partition);
    const from = log.base?.through ?? 0;
    // Only segments whose outbox a later segment proves sent may go.
    const proven = log.segs.reduce((m, s) => Math.max(m, s.sentThrough), log.base?.sentThrough ?? 0);
    const upTo = Math.min(through, proven, from + log.segs.length);
    if (upTo <= from) return from;
    const view = PartitionView.fromBase(log.base);
    const folded = log.segs.slice(0, upTo - from);
    for (const s of folded) {
      view.apply(s);
      applyChanges(this.baseValues, task, s);
    }
    view.unsent = view.unsent.filter((s) => s.n > upTo); // proven sent by a later segment
    log.base = view.toBase();
    log.segs = log.segs.slice(upTo - from);
    return upTo;
  }

  async truncate(task: string, partition: number, through: number): Promise<void> {
    const log = this.log(task, partition);
    const from = log.base?.through ?? 0;
    if (through < from) {
      throw new Error(`cannot restore ${task}[${partition}] to segment ${through}: compacted through ${from}`);
    }
    if (through - from >= log.segs.length) return;
    const voided = log.segs.slice(through - from);
    log.segs = log.segs.slice(0, through - from);
    // Only keys the voided segments wrote change: give each its value as of the cut
    // (the partition's last remaining change, else its base value). Cost follows the
    // uncompacted log, not the state size.
    const touched = new Map<string, Set<string>>();
    for (const seg of voided) {
      for (const c of seg.changes) {
        let ks = touched.get(c.s);
        if (!ks) {
          ks = new Set();
          touched.set(c.s, ks);
        }
        ks.add(c.k);
      }
    }
    if (touched.size === 0) return;
    const asOfCut = new Map<string, Map<string, StateChange>>();
    for (const seg of log.segs) {
      for (const c of seg.changes) {
        if (!touched.get(c.s)?.has(c.k)) continue;
        let m = asOfCut.get(c.s);
        if (!m) {
          m = new Map();
          asOfCut.set(c.s, m);
        }
        m.set(c.k, c);
      }
    }
    let states = this.latest.get(task);
    if (!states) {
      states = new Map();
      this.latest.set(task, states);
    }
    for (const [s, ks] of touched) {
      let values = states.get(s);
      if (!values) {
        values = new Map();
        states.set(s, values);
      }
      for (const k of ks) {
        const c = asOfCut.get(s)?.get(k);
        const e = c ? (c.d ? undefined : c) : this.baseValues.get(task)?.get(s)?.get(k);
        if (e === undefined) values.delete(k);
        else values.set(k, e);
      }
    }
  }

  async getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    const states = this.latest.get(task);
    return refs.map((r) => {
      const v = states?.get(r.s)?.get(r.k)?.v;
      return this.copy && v !== undefined ? structuredClone(v) : v;
    });
  }

  async scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    const out: [string, unknown][] = [];
    for (const [k, e] of this.latest.get(task)?.get(s) ?? []) {
      if (e.g >= kgStart && e.g <= kgEnd) out.push([k, this.copy ? structuredClone(e.v) : e.v]);
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
    const values = new Map<string, Map<string, Entry>>();
    for (const [s, m] of this.baseValues.get(task) ?? []) {
      const kept = new Map<string, Entry>();
      for (const [k, e] of m) if (e.g >= kgStart && e.g <= kgEnd) kept.set(k, e);
      values.set(s, kept);
    }
    const log = this.logs.get(`${task}#${partition}`);
    const index = new Map([[task, values]]);
    for (const seg of log?.segs ?? []) {
      if (seg.n > through) break;
      applyChanges(index, task, seg);
    }
    const out: StateChange[] = [];
    for (const [s, m] of values) {
      for (const [k, e] of m)
        if (e.g >= kgStart && e.g <= kgEnd) out.push({ s, k, g: e.g, v: this.copy ? structuredClone(e.v) : e.v });
    }
    return out;
  }

  async resetTask(task: string): Promise<void> {
    for (const id of [...this.logs.keys()]) if (id.slice(0, id.lastIndexOf("#")) === task) this.logs.delete(id);
    this.latest.delete(task);
    this.baseValues.delete(task);
  }

  async putBase(task: string, partition: number, base: PartitionBase): Promise<void> {
    const log = this.log(task, partition);
    if (log.base || log.segs.length > 0) throw new Error(`${task}[${partition}] is not empty`);
    log.base = this.copy ? structuredClone(base) : base;
  }

  async putState(task: string, values: readonly StateChange[]): Promise<void> {
    const seg = { changes: values } as unknown as Segment;
    applyChanges(this.baseValues, task, seg);
    applyChanges(this.latest, task, seg);
  }

  /** Number of segments of `task[partition]`, compacted ones included. */
  segmentCount(task: string, partition: number): number {
    const log = this.logs.get(`${task}#${partition}`);
    return log ? (log.base?.through ?? 0) + log.segs.length : 0;
  }
}

function applyChanges(index: Map<string, Map<string, Map<string, Entry>>>, task: string, seg: Segment): void {
  if (seg.changes.length === 0) return;
  let states = index.get(task);
  if (!states) {
    states = new Map();
    index.set(task, states);
  }
  for (const c of seg.changes) {
    let values = states.get(c.s);
    if (!values) {
      values = new Map();
      states.set(c.s, values);
    }
    if (c.d) values.delete(c.k);
    else values.set(c.k, c); // a change has the entry's shape ({ g, v }): no copy
  }
}
