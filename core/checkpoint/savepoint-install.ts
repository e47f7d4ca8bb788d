/**
 * The install step of a savepoint restore: each task's keyed values, source positions
 * and operator lists, and one base per partition fenced at the new generation, past
 * any segment an old-generation writer may still append.
 */

import type { JobGraph } from "../graph/graph.ts";
import type { TaskPlan } from "../graph/plan.ts";
import { keyGroupRange } from "../keys.ts";
import { readPartition } from "../log/read.ts";
import { BROADCAST_STATE, OPERATOR_LISTS, type Savepoint } from "../ports/checkpoint-store.ts";
import type { PartitionBase, StateStore } from "../ports/state-store.ts";
import { STATS_KEY } from "../runtime/partition-stats.ts";

/** Installs a task's savepoint state and one base per partition, each fenced at the new generation. */
export async function installTask(
  state: StateStore,
  graph: JobGraph,
  task: TaskPlan,
  savepoint: Savepoint,
  starts: readonly number[],
  generation: number,
): Promise<void> {
  if (!savepoint.inPlace) await state.putState(task.id, savepoint.state[task.id] ?? []);
  const positions = savepoint.sources[task.id] ?? {};
  const lists = (savepoint.sources[OPERATOR_LISTS]?.[task.id] ?? {}) as Record<string, unknown[]>;
  const node = graph.nodes[task.operators[0]?.node ?? -1];
  const splits = node?.op.kind === "source" ? node.op.source.splits(task.parallelism) : [];
  for (let p = 0; p < task.parallelism; p++) {
    const opState: Record<string, unknown> = {};
    splits.forEach((sp, i) => {
      if (i % task.parallelism === p && positions[sp.id] !== undefined) opState[`split:${sp.id}`] = positions[sp.id];
    });
    for (const [key, all] of Object.entries(lists)) opState[key] = evenSplit(all, p, task.parallelism);
    Object.assign(opState, savepoint.sources[BROADCAST_STATE]?.[task.id]);
    // The partition report's key count starts from the values it restores (in place, they are not counted).
    const { start, end } = keyGroupRange(p, task.parallelism, savepoint.maxParallelism);
    const keys = (savepoint.state[task.id] ?? []).filter((v) => v.g >= start && v.g <= end).length;
    if (keys > 0 && !savepoint.inPlace) opState[STATS_KEY] = { in: 0, out: 0, keys };
    const last = starts[p] ?? 0;
    const through = last === 0 ? 0 : last + ZOMBIE_GAP;
    const base: PartitionBase = {
      through,
      sentThrough: through,
      positions: {},
      outSeqs: {},
      opState,
      watermarks: {},
      ended: [],
      finished: false,
      buffered: [],
    };
    await state.putBase(task.id, p, base);
    await state.truncate(task.id, p, through, generation);
  }
}

/**
 * Partition `p` of `P`'s share of operator list state `all` (Flink's even-split
 * redistribution): contiguous slices whose sizes differ by at most one.
 */
export function evenSplit<T>(all: readonly T[], p: number, P: number): T[] {
  return all.slice(Math.floor((p * all.length) / P), Math.floor(((p + 1) * all.length) / P));
}

/** Segment numbers skipped after a savepoint restore, past what an old-generation writer may still append. */
const ZOMBIE_GAP = 1000;

/** The last segment of a partition's log (0 when empty). */
export async function lastSegment(state: StateStore, task: string, partition: number): Promise<number> {
  const { base, segments } = await readPartition(state, task, partition, "none");
  return segments.at(-1)?.n ?? base?.through ?? 0;
}
