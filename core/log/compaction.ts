/**
 * The one compaction rule of the partition log, which every store applies: fold
 * segments into the base up to the checkpoint's cut, but never past the last
 * segment, and never a segment whose outbox is not proven sent (by a later
 * segment's `sentThrough`) — its envelopes may still have to be re-sent. So the
 * last segment always stays, and the outboxes of folded segments are dropped.
 */

import type { PartitionBase, Segment, StateChange } from "./segment.ts";
import { PartitionView } from "./view.ts";

/** What the bound needs to know of a partition's log. */
export interface LogExtent {
  /** Segments up to here are folded into the base (0: no base). */
  readonly from: number;
  /** The last segment (equal to `from` when none is above the base). */
  readonly last: number;
  /** The highest `sentThrough` of the base and of every segment above it. */
  readonly proven: number;
}

/** The extent of a log read as objects. */
export function extentOf(
  base: PartitionBase | undefined,
  segments: readonly Pick<Segment, "n" | "sentThrough">[],
): LogExtent {
  const from = base?.through ?? 0;
  const proven = segments.reduce((m, s) => Math.max(m, s.sentThrough), base?.sentThrough ?? 0);
  return { from, last: segments.at(-1)?.n ?? from, proven };
}

/**
 * How far a compaction asked to fold `through` may go: `min(through, proven, last)`.
 * A result `<= extent.from` means there is nothing to fold.
 */
export function compactionBound(extent: LogExtent, through: number): number {
  return Math.min(through, extent.proven, extent.last);
}

/**
 * The base that folding `segments` (ascending, starting right above `base`) up to
 * segment `upTo` produces. Keyed-state changes are not part of a base: each store
 * folds them into its own value table.
 */
export function foldBase(base: PartitionBase | undefined, segments: Iterable<Segment>, upTo: number): PartitionBase {
  const view = PartitionView.fromBase(base);
  for (const s of segments) {
    if (s.n > upTo) break;
    view.apply(s);
  }
  view.unsent = view.unsent.filter((s) => s.n > upTo); // proven sent by a later segment
  return view.toBase();
}

/**
 * How often folding pays on a store. Folding writes every changed key's value, so on
 * a store that bills writes (DynamoDB) a hot key updated in many checkpoints should
 * be written once per many. A partition's log is folded behind a completed cut when
 * it has `segments` uncompacted segments up to the cut, or on every
 * `checkpoints`-th checkpoint, or at the final one, or (with `maxAgeMs`) once its
 * base is older than that, or it has none: a store whose segments expire (DynamoDB)
 * must fold them in time, whatever the checkpoint interval.
 */
export interface FoldPolicy {
  readonly segments: number;
  readonly checkpoints: number;
  readonly maxAgeMs?: number;
}

/**
 * Where a partition's fold stands: its base's `through`, and when the base was
 * written (0 when the store says it has no base; absent when unknown).
 */
export interface FoldState {
  readonly base: number;
  readonly baseAt?: number;
}

/**
 * Whether the completion of checkpoint `checkpoint` (at time `now`) folds a partition
 * compacted as `state` says up to `cut`: always without a policy, else as
 * {@link FoldPolicy} says. Folding less never endangers a restore (it needs only
 * cut ≥ base); the policy's age keeps a store's expiring segments folded in time.
 */
export function foldDue(
  policy: FoldPolicy | undefined,
  checkpoint: number,
  final: boolean,
  state: FoldState,
  cut: number,
  now: number,
): boolean {
  const { base, baseAt } = state;
  if (cut <= base) return false;
  if (!policy || final) return true;
  if (policy.maxAgeMs !== undefined && baseAt !== undefined && now - baseAt >= policy.maxAgeMs) return true;
  return cut - base >= policy.segments || checkpoint % policy.checkpoints === 0;
}

/**
 * What folding `changes` (in commit order) must write to the base values: the last
 * change of each key, except a deletion of a key whose first change here says it
 * had no value before (`n`): the base never held it, so there is nothing to delete.
 */
export function netChanges(changes: Iterable<StateChange>): StateChange[] {
  // Per state id, then per key (no joined id string per change): the key's first and last change.
  const byState = new Map<string, Map<string, [first: StateChange, last: StateChange]>>();
  const order: [first: StateChange, last: StateChange][] = [];
  for (const c of changes) {
    let keys = byState.get(c.s);
    if (!keys) {
      keys = new Map();
      byState.set(c.s, keys);
    }
    const seen = keys.get(c.k);
    if (seen) seen[1] = c;
    else {
      const pair: [StateChange, StateChange] = [c, c];
      keys.set(c.k, pair);
      order.push(pair);
    }
  }
  const out: StateChange[] = [];
  for (const [first, last] of order) if (!(last.d && first.n)) out.push(last);
  return out;
}
