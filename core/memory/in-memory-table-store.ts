/**
 * In-memory implementation of the {@link TableStore} port: per job and table, each
 * key's versions in checkpoint order.
 */

import type { SealedCheckpoint, TableStore, TableVersion, TaggedVersion } from "../ports/table-store.ts";
import { droppable } from "../tables/fold.ts";

/** The in-memory table store. */
export class InMemoryTableStore implements TableStore {
  /** job → table → key → versions, oldest first. */
  private readonly tables = new Map<string, Map<string, Map<string, TaggedVersion[]>>>();
  private readonly seals = new Map<string, Map<number, SealedCheckpoint>>();

  private keys(job: string, table: string): Map<string, TaggedVersion[]> {
    let byTable = this.tables.get(job);
    if (!byTable) {
      byTable = new Map();
      this.tables.set(job, byTable);
    }
    let keys = byTable.get(table);
    if (!keys) {
      keys = new Map();
      byTable.set(table, keys);
    }
    return keys;
  }

  async write(job: string, table: string, checkpoint: number, versions: readonly TableVersion[]): Promise<void> {
    const keys = this.keys(job, table);
    for (const v of versions) {
      const list = keys.get(v.key) ?? [];
      const tagged: TaggedVersion = { key: v.key, row: v.row, checkpoint };
      const i = list.findIndex((x) => x.checkpoint >= checkpoint);
      if (i < 0) list.push(tagged);
      else if (list[i]?.checkpoint === checkpoint) list[i] = tagged;
      else list.splice(i, 0, tagged);
      keys.set(v.key, list);
    }
  }

  async seal(job: string, sealed: SealedCheckpoint): Promise<void> {
    let seals = this.seals.get(job);
    if (!seals) {
      seals = new Map();
      this.seals.set(job, seals);
    }
    if (!seals.has(sealed.checkpoint)) seals.set(sealed.checkpoint, sealed);
  }

  async sealed(job: string): Promise<SealedCheckpoint[]> {
    return [...(this.seals.get(job)?.values() ?? [])].sort((a, b) => a.checkpoint - b.checkpoint);
  }

  async get(job: string, table: string, key: string, at: number): Promise<TaggedVersion | undefined> {
    return newestAt(this.keys(job, table).get(key) ?? [], at);
  }

  async scan(job: string, table: string, at: number): Promise<TaggedVersion[]> {
    const out: TaggedVersion[] = [];
    for (const list of this.keys(job, table).values()) {
      const v = newestAt(list, at);
      if (v) out.push(v);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async changes(job: string, table: string, after: number, through: number): Promise<TaggedVersion[]> {
    const out: TaggedVersion[] = [];
    for (const list of this.keys(job, table).values())
      for (const v of list) if (v.checkpoint > after && v.checkpoint <= through) out.push(v);
    return out.sort((a, b) => a.checkpoint - b.checkpoint || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async retain(job: string, keep: readonly number[]): Promise<void> {
    for (const keys of this.tables.get(job)?.values() ?? [])
      for (const [key, list] of keys) {
        const drop = new Set(droppable(list, keep));
        const left = list.filter((v) => !drop.has(v));
        if (left.length === 0) keys.delete(key);
        else keys.set(key, left);
      }
    const seals = this.seals.get(job);
    if (seals) for (const c of [...seals.keys()]) if (!keep.includes(c)) seals.delete(c);
  }
}

function newestAt(list: readonly TaggedVersion[], at: number): TaggedVersion | undefined {
  let best: TaggedVersion | undefined;
  for (const v of list) {
    if (v.checkpoint > at) break;
    best = v;
  }
  return best;
}
