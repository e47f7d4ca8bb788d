/**
 * The commit of the two-phase sink for stateless coordinators: publish the sink
 * records and dead letters of every segment up to a completed cut into an
 * {@link OutputStore}, raise the published marks, then compact the log behind
 * the cut when the store's fold policy says it pays (`foldDue`). Every step is idempotent, so a completion that crashes midway is simply
 * run again (the marks say where it got to).
 */

import { mapLimit } from "../concurrency.ts";
import { RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import { type FoldState, foldDue } from "../log/compaction.ts";
import type { CheckpointManifest } from "../ports/checkpoint-store.ts";
import type { OutputStore, PublishedSegment } from "../ports/output-store.ts";
import type { StateStore } from "../ports/state-store.ts";
import { type JobTables, writeTableVersions } from "../tables/publish-tables.ts";

/** Partitions published (and compacted) at once. */
const PUBLISH_CONCURRENCY = 8;

/** What one publication did. */
export interface PublishResult {
  /** Sink records published. */
  readonly records: number;
  /** Dead letters published. */
  readonly deadLetters: number;
  /** Segments folded into the base by compaction. */
  readonly compacted: number;
}

/**
 * Publishes everything up to `manifest`'s cut that is not yet published (and, with
 * `tables`, the versions of the job's dynamic tables, tagged with the checkpoint),
 * then compacts behind it.
 */
export async function publishCompleted(
  plan: Plan,
  state: StateStore,
  output: OutputStore,
  manifest: CheckpointManifest,
  tables?: JobTables,
): Promise<PublishResult> {
  const marks = await output.publishedThrough(plan.job);
  let records = 0;
  let deadLetters = 0;
  let compacted = 0;
  const raised: Record<string, number> = {};
  /** The base each partition's read found (a store with `readLog`): the fold check needs no read of its own. */
  const bases = new Map<string, FoldState>();
  // The partitions of the checkpoint's cut, at its parallelism: a restore at another
  // parallelism publishes what the last run committed before it rewrites the logs.
  // Each partition's output is its own items, so the partitions publish concurrently.
  const partitions = cutPartitions(manifest);
  await mapLimit(partitions, PUBLISH_CONCURRENCY, async ({ key, task, partition, cut }) => {
    const after = marks[key] ?? 0;
    if (cut <= after) return;
    const batch: PublishedSegment[] = [];
    const read = state.readLog
      ? await state.readLog(task, partition, after)
      : { through: undefined, segments: await state.readSegments(task, partition, after) };
    if (read.through !== undefined) {
      const baseAt = "baseAt" in read ? read.baseAt : undefined;
      bases.set(key, {
        base: read.through,
        ...(baseAt !== undefined ? { baseAt } : read.through === 0 ? { baseAt: 0 } : {}),
      });
    }
    for (const seg of read.segments) {
      if (seg.n > cut) break;
      if (!seg.sink && !seg.deadLetters) continue;
      const sink = seg.sink ?? {};
      for (const values of Object.values(sink)) records += values.length;
      deadLetters += seg.deadLetters?.length ?? 0;
      batch.push({ task, partition, segment: seg.n, generation: seg.gen, sink, deadLetters: seg.deadLetters ?? [] });
    }
    if (batch.length > 0) await output.publish(plan.job, batch);
    if (tables && batch.length > 0) await writeTableVersions(tables, plan.job, manifest.id, batch);
    raised[key] = cut;
  });
  // Durable marks first; only then may the log behind the cut go.
  if (Object.keys(raised).length > 0) await output.setPublished(plan.job, raised);
  // A base read before the marks went up may be behind a concurrent compaction's: then
  // the fold finds nothing to do, or (a restore's) holds the lease. Folding is for size only.
  await mapLimit(partitions, PUBLISH_CONCURRENCY, async ({ key, task, partition, cut }) => {
    const fold = bases.get(key) ?? { base: (await state.readBase(task, partition))?.through ?? 0 };
    const now = manifest.completedAt ?? 0;
    if (!foldDue(state.foldPolicy, manifest.id, manifest.final === true, fold, cut, now)) return;
    // The final checkpoint seals the log (`seal.ts`): nothing folds after it.
    const upTo =
      manifest.final === true && state.seal
        ? await state.seal(task, partition, cut)
        : await compactOrSkip(state, task, partition, cut);
    compacted += Math.max(0, upTo - fold.base);
  });
  return { records, deadLetters, compacted };
}

/**
 * True once everything up to `manifest`'s cut is published: every partition's
 * published mark has reached its cut. A completed checkpoint's output becomes
 * visible only then (the complete step publishes it after the poll completed it).
 */
export async function isPublished(plan: Plan, output: OutputStore, manifest: CheckpointManifest): Promise<boolean> {
  const marks = await output.publishedThrough(plan.job);
  return cutPartitions(manifest).every(({ key, cut }) => (marks[key] ?? 0) >= cut);
}

/** Every partition of `manifest`'s cut (`task#partition` → segment). */
function cutPartitions(manifest: CheckpointManifest) {
  return Object.entries(manifest.cut ?? {}).map(([key, cut]) => {
    const i = key.lastIndexOf("#");
    return { key, task: key.slice(0, i), partition: Number(key.slice(i + 1)), cut };
  });
}

/**
 * Compacts, unless another compaction of the partition holds its lease right now
 * (the coordinator's Complete step and a restore may overlap): that one folds the
 * log, and compaction is never needed for correctness, only for size.
 */
async function compactOrSkip(state: StateStore, task: string, partition: number, cut: number): Promise<number> {
  try {
    return await state.compact(task, partition, cut);
  } catch (e) {
    if (e instanceof RiffleError && e.reason === "compaction-busy") return 0;
    throw e;
  }
}
