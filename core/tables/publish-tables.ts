/**
 * The dynamic tables' part of a publication (`core/checkpoint/publish.ts`): the
 * versions a partition's newly committed segments make, tagged with the checkpoint
 * being published, then the seal that makes the checkpoint readable, then retention.
 *
 * Why a seal: a publication that crashes midway leaves some versions tagged n; the
 * next publication (n or a later checkpoint m) writes every segment after the
 * published marks again, tagged with its own checkpoint. Reads happen only at sealed
 * checkpoints, and a checkpoint is sealed only once every version up to its cut is
 * written with a tag at most it, so every table read at one sealed checkpoint sees
 * the same cut.
 */

import type { SealedCheckpoint, TableSpec, TableStore } from "../ports/table-store.ts";
import { foldChanges, type SegmentChanges } from "./fold.ts";

/** Snapshots of the newest checkpoints kept for time travel (besides every savepoint's). */
export const TABLE_SNAPSHOTS_KEPT = 10;

/** What a publication needs to keep a job's dynamic tables. */
export interface JobTables {
  readonly store: TableStore;
  /** The dynamic tables by sink name. */
  readonly specs: ReadonlyMap<string, TableSpec>;
}

/** One committed segment's sink records (sink name → records). */
export interface SegmentSinks {
  readonly task: string;
  readonly partition: number;
  readonly generation: number;
  readonly segment: number;
  readonly sink: Readonly<Record<string, readonly unknown[]>>;
}

/** Writes the versions `segments` (one partition's, in log order) make, tagged `checkpoint`. */
export async function writeTableVersions(
  tables: JobTables,
  job: string,
  checkpoint: number,
  segments: readonly SegmentSinks[],
): Promise<void> {
  for (const [sink, spec] of tables.specs) {
    const changes: SegmentChanges[] = [];
    for (const s of segments) {
      const records = s.sink[sink];
      if (records && records.length > 0) changes.push({ ...s, records });
    }
    if (changes.length === 0) continue;
    await tables.store.write(job, spec.name, checkpoint, foldChanges(spec, changes));
  }
}

/**
 * Seals `checkpoint` (everything up to its cut is written), then, when more than twice
 * {@link TABLE_SNAPSHOTS_KEPT} snapshots are sealed, drops those neither among the newest
 * nor a savepoint's (`savepoints`: their checkpoints).
 */
export async function sealTables(
  tables: JobTables,
  job: string,
  checkpoint: number,
  now: number,
  savepoints: () => Promise<readonly number[]>,
): Promise<void> {
  if (tables.specs.size === 0) return;
  const sealed: SealedCheckpoint = { checkpoint, time: now, tables: [...tables.specs.values()] };
  await tables.store.seal(job, sealed);
  const all = (await tables.store.sealed(job)).map((s) => s.checkpoint);
  if (all.length <= 2 * TABLE_SNAPSHOTS_KEPT) return;
  const saved = new Set(await savepoints());
  const newest = all.slice(-TABLE_SNAPSHOTS_KEPT);
  await tables.store.retain(
    job,
    all.filter((c) => saved.has(c) || newest.includes(c)),
  );
}
