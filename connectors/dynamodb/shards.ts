/**
 * Shard lineage of a DynamoDB stream, as the CDC source's position holds it. A
 * stream's shards close and split over time; a key's changes move from a parent
 * shard to one of its children, so a child is read only once its parent is read
 * to its end. That keeps each key's changes in order: DynamoDB Streams orders
 * records within a shard lineage, not across shards.
 */
import type { ShardInfo } from "./api.ts";

/** What the position holds of one shard. */
export interface ShardState {
  readonly parent?: string;
  /** The sequence number of the last record passed on (null: none; read from the oldest record kept). */
  readonly seq: string | null;
  /** True once the shard is closed and read to its end (or was closed before the stream was started). */
  readonly done: boolean;
}

/** The shards of a position, by shard id. */
export type Shards = Readonly<Record<string, ShardState>>;

/**
 * The shards after a DescribeStream answer `listed`: new shards are added (to be
 * read from their start), and done shards that the stream no longer lists (trimmed)
 * are dropped unless an unfinished shard names them as its parent.
 */
export function mergeShards(shards: Shards, listed: readonly ShardInfo[]): Shards {
  const out: Record<string, ShardState> = {};
  const present = new Set(listed.map((s) => s.id));
  const parents = new Set<string>();
  for (const s of listed) if (s.parent && !shards[s.id]?.done) parents.add(s.parent);
  for (const [id, s] of Object.entries(shards)) if (!s.done || present.has(id) || parents.has(id)) out[id] = s;
  for (const s of listed) out[s.id] ??= { parent: s.parent, seq: null, done: false };
  return out;
}

/** The shards to read now: not done, and whose parent (if the position still knows it) is done. */
export function readableShards(shards: Shards): string[] {
  return Object.entries(shards)
    .filter(([, s]) => !s.done && (s.parent === undefined || (shards[s.parent]?.done ?? true)))
    .map(([id]) => id)
    .sort();
}

/** The shards when the stream is started: open shards are read from `ends` (their last records then), closed ones skipped. */
export function startShards(listed: readonly ShardInfo[], ends: ReadonlyMap<string, string | null>): Shards {
  const out: Record<string, ShardState> = {};
  for (const s of listed)
    out[s.id] = s.closed
      ? { parent: s.parent, seq: null, done: true }
      : { parent: s.parent, seq: ends.get(s.id) ?? null, done: false };
  return out;
}
