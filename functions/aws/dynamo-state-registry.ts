/**
 * What a {@link DynamoStateStore} instance knows of its tasks' registries (the
 * task registry of `dynamo-state-values.ts`: partitions with log items, key groups
 * that may hold base values, which partitions changed which key group), and the
 * registrations it makes before it writes: a segment's key groups before the
 * segment, a partition before its truncation or base, key groups before their
 * values. A registration this instance made or saw is not made again.
 */

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { StateChange } from "../../core/ports/state-store.ts";
import { parseRegistry, type Registry, readRegistry, register, type ValueKeys } from "./dynamo-state-values.ts";

/** The registrations of one store instance, over its state table. */
export class Registrations {
  /** task → registry as last read or written by this instance (the store's reads refresh it too). */
  readonly cache = new Map<string, Registry>();
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly keys: ValueKeys;

  constructor(doc: DynamoDBDocumentClient, table: string, keys: ValueKeys) {
    this.doc = doc;
    this.table = table;
    this.keys = keys;
  }

  /** Records, before the segment is written, which key groups its changes touch. */
  async changes(task: string, partition: number, changes: readonly StateChange[]): Promise<void> {
    const reg = this.cache.get(task);
    const kgs = new Set<number>();
    for (const c of changes) if (!reg?.owners.get(c.g)?.has(partition)) kgs.add(c.g);
    if (kgs.size === 0 && reg?.parts.has(partition)) return;
    const owners = [...kgs].map((g) => `${g}:${partition}`);
    await register(this.doc, this.table, this.keys, task, { parts: [partition], kgs: [...kgs], owners });
    this.remember(task, [partition], [...kgs], owners);
  }

  /** Records that `task` has log items in `partition`. */
  async partition(task: string, partition: number): Promise<void> {
    if (this.cache.get(task)?.parts.has(partition)) return;
    await register(this.doc, this.table, this.keys, task, { parts: [partition] });
    this.remember(task, [partition], [], []);
  }

  /** Records, before values are written into them, that key groups `kgs` of `task` hold values. */
  async keyGroups(task: string, kgs: readonly number[]): Promise<void> {
    const reg = this.cache.get(task);
    const missing = kgs.filter((g) => !reg?.kgs.has(g));
    if (missing.length > 0) {
      await register(this.doc, this.table, this.keys, task, { kgs: missing });
      this.remember(task, [], missing, []);
    }
  }

  /** The registry of `task`, read consistently (the cache is left as it is). */
  read(task: string): Promise<Registry> {
    return readRegistry(this.doc, this.table, this.keys, task);
  }

  /** Forgets what this instance knew of `task` (its registry was deleted). */
  forget(task: string): void {
    this.cache.delete(task);
  }

  /** Adds what this instance registered to its cached registry. */
  private remember(task: string, parts: number[], kgs: number[], owners: string[]): void {
    const cur = this.cache.get(task) ?? parseRegistry(undefined);
    const next = parseRegistry({
      pk: "",
      sk: "",
      parts: new Set([...cur.parts, ...parts]),
      kgs: new Set([...cur.kgs, ...kgs]),
      owners: new Set([...[...cur.owners].flatMap(([g, ps]) => [...ps].map((p) => `${g}:${p}`)), ...owners]),
    });
    this.cache.set(task, next);
  }
}
