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
import type { Segment, StateStore } from "../ports/state-store.ts";
import { type JobTables, writeTableVersions } from "../tables/publish-tables.ts";
import type { LazyMarks } from "./published-marks.ts";

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

/** How a publication treats the published marks ({@link LazyMarks}, `published-marks.ts`). */
export interface PublishMarks {
  /** The marks this container keeps: read from it when it knows them, and told what was raised. */
  readonly lazy: LazyMarks;
  /**
   * True (the round's own completion): the raised marks may wait in `lazy` unless a fold,
   * the final checkpoint or `lazy`'s count says to write them. False: written now, with
   * every mark `lazy` still holds.
   */
  readonly hold: boolean;
}

/**
 * Publishes everything up to `manifest`'s cut that is not yet published (and, with
 * `tables`, the versions of the job's dynamic tables, tagged with the checkpoint),
 * then compacts behind it. With `marks`, the marks may be written lazily (see
 * {@link PublishMarks}); a fold or seal always finds them durable first.
 */
export async function publishCompleted(
  plan: Plan,
  state: StateStore,
  output: OutputStore,
  manifest: CheckpointManifest,
  tables?: JobTables,
  marks?: PublishMarks,
): Promise<PublishResult> {
  const job = plan.job;
  const known = marks?.lazy.known(job, manifest.generation);
  const published = known ?? (await output.publishedThrough(job));
  if (marks && !known) marks.lazy.learned(job, manifest.generation, published);
  let records = 0;
  let deadLetters = 0;
  const raised: Record<string, number> = {};
  /** The base each partition's read found (a store with `readLog`): the fold check needs no read of its own. */
  const bases = new Map<string, FoldState>();
  // The partitions of the checkpoint's cut, at its parallelism: a restore at another
  // parallelism publishes what the last run committed before it rewrites the logs.
  // Each partition's output is its own items, so the partitions publish concurrently.
  const partitions = cutPartitions(manifest);
  await mapLimit(partitions, PUBLISH_CONCURRENCY, async ({ key, task, partition, cut }) => {
    const after = published[key] ?? 0;
    if (cut <= after) return;
    const read = state.readLog
      ? await state.readLog(task, partition, after)
      : { through: undefined, segments: await state.readSegments(task, partition, after) };
    if (read.through !== undefined) bases.set(key, foldStateOf(read));
    const batch = publishedSegments(task, partition, cut, read.segments);
    for (const seg of batch) {
      for (const values of Object.values(seg.sink)) records += values.length;
      deadLetters += seg.deadLetters.length;
    }
    if (batch.length > 0) await output.publish(job, batch);
    if (tables && batch.length > 0) await writeTableVersions(tables, job, manifest.id, batch);
    raised[key] = cut;
  });
  // A base read before the marks went up may be behind a concurrent compaction's: then
  // the fold finds nothing to do, or (a restore's) holds the lease. Folding is for size only.
  const now = manifest.completedAt ?? 0;
  const final = manifest.final === true;
  const folds = (
    await mapLimit(partitions, PUBLISH_CONCURRENCY, async (p) => {
      const fold = bases.get(p.key) ?? { base: (await state.readBase(p.task, p.partition))?.through ?? 0 };
      return foldDue(state.foldPolicy, manifest.id, final, fold, p.cut, now) ? { ...p, fold } : undefined;
    })
  ).filter((f) => f !== undefined);
  // Durable marks first; only then may the log behind the cut go.
  await writeMarks(output, job, manifest.generation, raised, marks, final || folds.length > 0);
  let compacted = 0;
  await mapLimit(folds, PUBLISH_CONCURRENCY, async ({ task, partition, cut, fold }) => {
    // The final checkpoint seals the log (`seal.ts`): nothing folds after it.
    const upTo =
      final && state.seal ? await state.seal(task, partition, cut) : await compactOrSkip(state, task, partition, cut);
    compacted += Math.max(0, upTo - fold.base);
  });
  return { records, deadLetters, compacted };
}

/** The fold state a log read found: its base's `through` and, when known, when the base was written. */
function foldStateOf(read: { through?: number; baseAt?: number }): FoldState {
  const through = read.through ?? 0;
  const baseAt = read.baseAt;
  return { base: through, ...(baseAt !== undefined ? { baseAt } : through === 0 ? { baseAt: 0 } : {}) };
}

/** The output of `segments` (read after the partition's mark) up to `cut`: those with sink records or dead letters. */
function publishedSegments(task: string, partition: number, cut: number, segments: readonly Segment[]) {
  const batch: PublishedSegment[] = [];
  for (const seg of segments) {
    if (seg.n > cut) break;
    if (!seg.sink && !seg.deadLetters) continue;
    batch.push({
      task,
      partition,
      segment: seg.n,
      generation: seg.gen,
      sink: seg.sink ?? {},
      deadLetters: seg.deadLetters ?? [],
    });
  }
  return batch;
}

/**
 * Raises the published marks: now (without `marks`, when `must`, or when `marks`
 * says they are due, with every mark it still holds), or later (held in `marks.lazy`).
 */
async function writeMarks(
  output: OutputStore,
  job: string,
  generation: number,
  raised: Readonly<Record<string, number>>,
  marks: PublishMarks | undefined,
  must: boolean,
): Promise<void> {
  if (!marks) {
    if (Object.keys(raised).length > 0) await output.setPublished(job, raised);
    return;
  }
  const write = marks.lazy.raise(job, generation, raised, must || !marks.hold);
  if (!write || Object.keys(write).length === 0) return;
  await output.setPublished(job, write);
  marks.lazy.saved(job, write);
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
