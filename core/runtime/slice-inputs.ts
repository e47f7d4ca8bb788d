/**
 * What a slice reads before it processes (step 2 of a batch): the source chunk a
 * poll consumes, and the keyed state of every key the slice touches, read in one
 * batch on a cold cache; and, when a read went uncommitted, the dropping of the
 * readers, which the next poll reopens at the committed positions.
 */

import type { SourceContext, SplitReader } from "../api/source.ts";
import type { JobConfig } from "../graph/graph.ts";
import type { TaskPlan } from "../graph/plan.ts";
import { keyGroupOf } from "../keys.ts";
import type { PartitionView } from "../log/view.ts";
import type { StateRef, StateStore } from "../ports/state-store.ts";
import type { Consumed } from "./intake.ts";
import type { Live } from "./partition-loader.ts";
import type { SplitChunk } from "./slice-run.ts";

/** Where a source partition reads from. */
export interface SourceRead {
  readonly task: TaskPlan;
  readonly partition: number;
  /** The job's settings (`sourceBatchSize`: records per poll, shared among the open splits). */
  readonly config: Pick<JobConfig, "sourceBatchSize">;
  readonly context: SourceContext;
}

/** For a poll, reads about `sourceBatchSize` records: an equal share from each unfinished split. */
export async function readSource(
  live: Live,
  consumed: readonly Consumed[],
  where: SourceRead,
): Promise<SplitChunk | undefined> {
  const source = live.chain.source;
  if (!source || !consumed.some((c) => c.env.signal?.kind === "poll")) return undefined;
  const { view } = live;
  const P = where.task.parallelism;
  const splits = source.splits(P).filter((_, i) => i % P === where.partition);
  const done = (id: string) => (view.opState.get(`split:${id}`) as { done?: boolean } | undefined)?.done === true;
  const open = splits.filter((sp) => !done(sp.id));
  const reads: SplitChunk["reads"][number][] = [];
  // Every open split reads the same share, so their event times advance together
  // (a split that lags would make its records late).
  const share = Math.max(1, Math.ceil(where.config.sourceBatchSize / Math.max(1, open.length)));
  let cursor = open.length ? ((view.opState.get("cursor") as number | undefined) ?? 0) % open.length : 0;
  let stillOpen = open.length;
  for (let visited = 0; visited < open.length; visited++) {
    const split = open[cursor] as (typeof open)[number];
    let reader = view.readers.get(split.id);
    if (!reader) {
      const st = view.opState.get(`split:${split.id}`) as { position: unknown } | undefined;
      reader = source.reader(split, st?.position, where.context);
      view.readers.set(split.id, reader);
    }
    const chunk = await reader.read(share);
    reads.push({ split: split.id, chunk });
    if (chunk.done) stillOpen--;
    cursor = (cursor + 1) % open.length;
  }
  return { reads, allDone: stillOpen === 0, cursor };
}

/** On a cold cache, batch-reads the keyed state of every key the batch touches. */
export async function prefetchState(
  live: Live,
  consumed: readonly Consumed[],
  store: StateStore,
  task: string,
  maxParallelism: number,
): Promise<void> {
  const keyed = live.chain.keyed;
  const backend = live.services.backend;
  if (!keyed || !backend || backend.complete) return;
  const refs: StateRef[] = [];
  const seen = new Set<string>();
  for (const { env } of consumed) {
    const input = live.chain.inputOf(env.from);
    for (const v of env.records) {
      let enc: string;
      try {
        const k = keyed.keyOf(v, input);
        if (k === undefined) break; // a broadcast input: no keyed state
        enc = k.enc;
      } catch {
        continue; // surfaces as an operator error when processed
      }
      if (seen.has(enc)) continue;
      seen.add(enc);
      for (const s of keyed.stateIds)
        if (!backend.has(s, enc)) refs.push({ s, k: enc, g: keyGroupOf(enc, maxParallelism) });
    }
  }
  if (refs.length > 0) backend.load(refs, await store.getState(task, refs));
}

/** Drops the partition's open readers (input read but not committed): the next poll reopens them at the committed positions. */
export function dropReaders(view: PartitionView): void {
  for (const reader of view.readers.values()) closeQuietly(reader);
  view.readers.clear();
}

/** Closes a reader the runner drops; a failure to close loses nothing committed. */
function closeQuietly(reader: SplitReader<unknown>): void {
  Promise.resolve()
    .then(() => reader.close?.())
    .catch(() => {});
}
