/**
 * Another job's dynamic table as a source: the stream side of the table, so layers of a
 * warehouse can be separate jobs, each fed by the table of the layer below.
 *
 * The reader starts at the table's newest sealed snapshot (every row an `+I`), then
 * follows it one step per newly sealed checkpoint: the difference between the snapshots
 * at the last checkpoint read and the newest as retract changes (`+I`, `-U` old row then
 * `+U` new row, `-D`), each key once, keys in order; a key whose row did not change
 * makes nothing. Its position (the checkpoint read up to, and within a step the
 * checkpoint it goes to and how many changes it passed on) is committed with the
 * reading job's checkpoints, so a restored reader emits exactly the changes its cut had
 * not passed on yet: sealed snapshots never change.
 *
 * **Replays.** A reader opened with a `replay` tag other than the one its restored
 * position was taken with drops that position and starts again at the newest snapshot.
 * That is how a corrected job recomputes its layer from the retained input below it
 * (an `INSERT OVERWRITE` of the layer): the rows it writes again overwrite its upsert
 * table by key, and jobs reading that table get the corrections as retractions.
 *
 * The table store is the runtime's (`SourceContext.tables`). A reader whose checkpoint is
 * no longer kept (more than the retained snapshots behind) moves on when nothing was
 * written since; when something was, it fails rather than guess the old rows.
 */

import type { Source, SourceContext, SplitReader } from "../api/source.ts";
import { RiffleError } from "../errors.ts";
import type { TableStore, TaggedVersion } from "../ports/table-store.ts";
import type { ChangeRecord } from "../sql/changelog.ts";

/** Options of {@link riffleTableSource}. */
export interface RiffleTableSourceOptions {
  /** A restored position taken under another tag is dropped: the table is read again from its newest snapshot. */
  readonly replay?: string;
  /** How long an idle reader waits before looking for a newer sealed checkpoint (ms; default 50). */
  readonly pollMs?: number;
}

/** Where a reader is: `at` read completely (0: nothing yet); within a step to `to`, `done` changes passed on. */
interface Position {
  readonly replay: string | null;
  readonly at: number;
  readonly to?: number;
  readonly done?: number;
}

/** Why a table source cannot read. */
export class TableSourceError extends RiffleError {
  constructor(message: string) {
    super("table-source", message);
  }
}

/** The changes from the snapshot at `at` (0: none) to the one at `to`, each key once, in key order. */
export async function snapshotDiff(
  store: TableStore,
  job: string,
  table: string,
  at: number,
  to: number,
  versions?: readonly TaggedVersion[],
): Promise<ChangeRecord[]> {
  const now = new Map<string, TaggedVersion>();
  versions ??= at === 0 ? await store.scan(job, table, to) : await store.changes(job, table, at, to);
  for (const v of versions) {
    const seen = now.get(v.key);
    if (!seen || seen.checkpoint <= v.checkpoint) now.set(v.key, v);
  }
  const out: ChangeRecord[] = [];
  for (const key of [...now.keys()].sort()) {
    const row = (now.get(key) as TaggedVersion).row;
    const old = at === 0 ? null : ((await store.get(job, table, key, at))?.row ?? null);
    if (old !== null && row !== null && JSON.stringify(old) === JSON.stringify(row)) continue;
    if (old !== null) out.push({ kind: row === null ? "-D" : "-U", row: old });
    if (row !== null) out.push({ kind: old === null ? "+I" : "+U", row });
  }
  return out;
}

/** Table `table` of job `job` as a source of retract changes (one split; see the module doc). */
export function riffleTableSource(
  job: string,
  table: string,
  options: RiffleTableSourceOptions = {},
): Source<ChangeRecord> {
  const replay = options.replay ?? null;
  const pollMs = options.pollMs ?? 50;
  return {
    name: `table(${job}.${table})`,
    bounded: false,
    fixedParallelism: 1,
    splits: () => [{ id: `${job}.${table}` }],
    reader: (_split, restored, context): SplitReader<ChangeRecord> => {
      const store = context?.tables;
      if (!store) throw new TableSourceError(`the runtime gives no table store to read '${job}.${table}' from`);
      let pos: Position = { replay, at: 0 };
      const r = restored as Position | undefined;
      if (r && r.replay === replay) pos = r;
      let step: { at: number; to: number; changes: ChangeRecord[] } | undefined;
      return {
        async read(max) {
          if (pos.to === undefined) {
            const sealed = (await store.sealed(job)).map((s) => s.checkpoint);
            const newest = sealed[sealed.length - 1];
            if (newest === undefined || newest <= pos.at) return idle(pos, context, pollMs);
            pos = { replay, at: pos.at, to: newest, done: 0 };
          }
          const to = pos.to as number;
          if (step?.at !== pos.at || step.to !== to) {
            const versions = pos.at === 0 ? undefined : await store.changes(job, table, pos.at, to);
            // Nothing written since `at`: no change, whether or not `at` is still kept.
            if (versions?.length === 0) {
              pos = { replay, at: to };
              return idle(pos, context, pollMs);
            }
            if (pos.at !== 0 && !(await store.sealed(job)).some((s) => s.checkpoint === pos.at))
              throw new TableSourceError(
                `table '${job}.${table}' changed after checkpoint ${pos.at}, where this reader is, and no longer keeps that checkpoint's snapshot to tell the changes from; replay it`,
              );
            step = { at: pos.at, to, changes: await snapshotDiff(store, job, table, pos.at, to, versions) };
          }
          const from = pos.done ?? 0;
          const records = step.changes.slice(from, from + max);
          const done = from + records.length;
          pos = done >= step.changes.length ? { replay, at: to } : { replay, at: pos.at, to, done };
          return { records, position: pos, done: false };
        },
      };
    },
  };
}

function idle(pos: Position, context: SourceContext | undefined, pollMs: number) {
  const now = context?.currentProcessingTime?.();
  return {
    records: [],
    position: pos,
    done: false,
    idle: true,
    ...(now === undefined ? {} : { wakeAt: now + pollMs }),
  };
}
