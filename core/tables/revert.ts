/**
 * Dynamic tables on a savepoint restore. The job goes back to the savepoint's checkpoint
 * s and produces its output after s again, so every table must go back to its snapshot
 * at s first: for each key whose newest version is newer than s, the version at s (or a
 * deletion, when it had none) is written again, tagged `tag`, a checkpoint id above
 * every existing one and at most the next checkpoint's (the job record's next id), so the
 * next sealed checkpoint reads the table as at s plus what the restored job publishes.
 * Without it an append table would hold the rows after s twice, and an upsert table
 * keys only the old run wrote. Running it again writes the same versions.
 */

import type { TableStore, TableVersion } from "../ports/table-store.ts";

/** Reverts every table of `job` sealed so far to its snapshot at `checkpoint`; the versions go in at `tag`. */
export async function revertTables(store: TableStore, job: string, checkpoint: number, tag: number): Promise<number> {
  const names = new Set((await store.sealed(job)).flatMap((s) => s.tables.map((t) => t.name)));
  let reverted = 0;
  for (const table of names) {
    const then = new Map((await store.scan(job, table, checkpoint)).map((v) => [v.key, v]));
    const writes: TableVersion[] = [];
    for (const now of await store.scan(job, table, Number.MAX_SAFE_INTEGER)) {
      if (now.checkpoint <= checkpoint) continue;
      writes.push({ key: now.key, row: then.get(now.key)?.row ?? null });
    }
    if (writes.length > 0) await store.write(job, table, tag, writes);
    reverted += writes.length;
  }
  return reverted;
}
