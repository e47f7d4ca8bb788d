/**
 * In-memory implementation of the {@link StateStore} port. Segments and state
 * values are kept as objects (no serialization), unless `copy` is set, in which
 * case every segment is deep-copied on the way in and out, as a durable store
 * would — tests use that to catch aliasing between committed state and live objects.
 */

import { SegmentConflictError } from "../errors.ts";
import type { Segment, StateRef, StateStore } from "../ports/state-store.ts";

interface Entry {
  readonly g: number;
  readonly v: unknown;
}

/** Options of {@link InMemoryStateStore}. */
export interface InMemoryStateStoreOptions {
  /** Deep-copy segments on append and read. */
  readonly copy?: boolean;
}

/** The in-memory state store. */
export class InMemoryStateStore implements StateStore {
  private readonly logs = new Map<string, Segment[]>();
  /** task → (state id NUL key) → latest committed value. */
  private readonly latest = new Map<string, Map<string, Entry>>();
  private readonly copy: boolean;
  /** Segments appended, for accounting. */
  appends = 0;

  constructor(options: InMemoryStateStoreOptions = {}) {
    this.copy = options.copy ?? false;
  }

  async append(task: string, partition: number, segment: Segment): Promise<void> {
    const id = `${task}#${partition}`;
    let log = this.logs.get(id);
    if (!log) {
      log = [];
      this.logs.set(id, log);
    }
    if (segment.n !== log.length + 1) throw new SegmentConflictError(task, partition, segment.n);
    const seg = this.copy ? structuredClone(segment) : segment;
    log.push(seg);
    this.appends++;
    if (seg.changes.length > 0) {
      let values = this.latest.get(task);
      if (!values) {
        values = new Map();
        this.latest.set(task, values);
      }
      for (const c of seg.changes) {
        const k = `${c.s}\u0000${c.k}`;
        if (c.d) values.delete(k);
        else values.set(k, { g: c.g, v: c.v });
      }
    }
  }

  async readSegments(task: string, partition: number, after: number): Promise<Segment[]> {
    const log = this.logs.get(`${task}#${partition}`) ?? [];
    const out = log.slice(Math.max(0, after));
    return this.copy ? structuredClone(out) : out;
  }

  async getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    const values = this.latest.get(task);
    return refs.map((r) => {
      const v = values?.get(`${r.s}\u0000${r.k}`)?.v;
      return this.copy && v !== undefined ? structuredClone(v) : v;
    });
  }

  async scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    const out: [string, unknown][] = [];
    const prefix = `${s}\u0000`;
    for (const [k, e] of this.latest.get(task) ?? []) {
      if (k.startsWith(prefix) && e.g >= kgStart && e.g <= kgEnd) out.push([k.slice(prefix.length), e.v]);
    }
    return out;
  }

  /** Number of segments of `task[partition]`. */
  segmentCount(task: string, partition: number): number {
    return this.logs.get(`${task}#${partition}`)?.length ?? 0;
  }
}
