/**
 * A job's state dir as `riffle run` and `riffle dev` use it: checked, opened, locked
 * against a second riffle, and read for the run to resume.
 */

import type { DatabaseSync } from "node:sqlite";
import { checkSameParallelism } from "../core/checkpoint/restore.ts";
import { findSavepoint } from "../core/checkpoint/savepoint.ts";
import { openStateDir } from "../core/durable/sqlite-db.ts";
import type { Plan } from "../core/graph/plan.ts";
import type { CheckpointStore, JobRecord } from "../core/ports/checkpoint-store.ts";
import type { StateStore } from "../core/ports/state-store.ts";
import type { TableStore } from "../core/ports/table-store.ts";
import { checkStateIntact, lockStateDir } from "./state-dir-lock.ts";

/** An open, locked state dir. */
export interface JobStateDir {
  readonly dir: string;
  readonly db: DatabaseSync;
  readonly stores: { readonly store: StateStore; readonly checkpoints: CheckpointStore; readonly tables: TableStore };
  /** The job's record when this run resumes it (not when it starts from a new savepoint). */
  readonly resuming: JobRecord | undefined;
  /** Unlocks and closes the dir. */
  release(): void;
}

/**
 * Opens `dir` for job `job`. A refusal (a deleted `riffle.db`, another job's dir, a
 * dir in use) is a one-line usage error and creates nothing.
 */
export async function openJobStateDir(dir: string, job: string, fromSavepoint?: string): Promise<JobStateDir> {
  checkStateIntact(dir, job); // before opening: a refusal creates nothing
  const sd = openStateDir(dir, { create: true, job });
  let unlock: () => void;
  try {
    unlock = lockStateDir(dir);
  } catch (e) {
    sd.close();
    throw e;
  }
  let record: JobRecord | undefined;
  let resumes: boolean | undefined;
  try {
    record = await sd.checkpointStore.loadJob(job);
    resumes = record && (!fromSavepoint || record.restoredFrom?.savepoint === fromSavepoint);
    // Before anything starts (a server, a progress line), so the refusal is the only line.
    if (fromSavepoint !== undefined && !resumes) await findSavepoint(sd.checkpointStore, job, fromSavepoint);
  } catch (e) {
    unlock();
    sd.close();
    throw e;
  }
  return {
    dir,
    db: sd.db,
    stores: { store: sd.stateStore, checkpoints: sd.checkpointStore, tables: sd.tableStore },
    resuming: resumes ? record : undefined,
    release() {
      unlock();
      sd.close();
    },
  };
}

/**
 * Refuses to resume at another parallelism (one line, before anything is said or
 * changed), then says what the run resumes.
 */
export function announceResume(state: JobStateDir, plan: Plan, log: (line: string) => void): void {
  if (!state.resuming) return;
  try {
    checkSameParallelism(plan, state.resuming);
  } catch (e) {
    state.release();
    throw e;
  }
  log(`resuming '${plan.job}' from checkpoint ${state.resuming.lastCompleted} in ${state.dir}`);
}
