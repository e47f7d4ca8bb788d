/**
 * Failing a job for good, one way for every writer: the coordinator's restore step
 * once the restart strategy's attempts are used up, and a task that hit a mistake
 * in the job's code ({@link failsJob}). Both set the job record's `failed` reason
 * with {@link failJob}; every round then answers `failed` (`steps.ts` `trigger`), so
 * the state machine ends in JobFailed and `GET /jobs/{job}` says why.
 */

import { describeCause, RiffleError } from "../errors.ts";
import type { CheckpointStore, JobRecord } from "../ports/checkpoint-store.ts";

/** Attempts of a read-modify-write of the job record before it gives up (the record kept changing). */
const RECORD_ATTEMPTS = 100;

/**
 * Rewrites `job`'s record with `change` (`undefined`: leave it as it is), retrying
 * while another writer changes it under the conditional write. Returns the record
 * as it stands afterwards.
 */
export async function updateJobRecord(
  checkpoints: CheckpointStore,
  job: string,
  change: (r: JobRecord) => JobRecord | undefined,
): Promise<JobRecord> {
  for (let i = 0; i < RECORD_ATTEMPTS; i++) {
    const r = await checkpoints.loadJob(job);
    if (!r) throw new RiffleError("job-not-started", `job '${job}' has no record yet`);
    const next = change(r);
    if (next === undefined) return r;
    if (await checkpoints.saveJob(next, { generation: r.generation, nextCheckpoint: r.nextCheckpoint })) return next;
  }
  throw new RiffleError("job-record-busy", `job '${job}': the job record kept changing`, { retryable: true });
}

/** Why partition `task[partition]` failed the job: `<task>[<partition>]: <error>`. */
export function partitionFailure(task: string, partition: number, error: unknown): string {
  return `${task}[${partition}]: ${describeCause(error)}`;
}

/**
 * The `failed` reason of job `job`: `job '<job>' failed: <why>`, or, when the restart
 * strategy's attempts are used up, `job '<job>' failed after <n> restarts: <why>`.
 */
export function failedReason(job: string, why: string, restarts?: number): string {
  return restarts === undefined
    ? `job '${job}' failed: ${why}`
    : `job '${job}' failed after ${restarts} restarts: ${why}`;
}

/**
 * Marks `job` failed for good with `reason` (see {@link failedReason}). Idempotent:
 * a job already failed keeps its first reason, and nothing is written. The write
 * skips one checkpoint id, as a wake does (`sleep.ts`): every job-record write is
 * conditional on the generation and the checkpoint counter, so a writer that read
 * the record before the mark (a restore, an autoscale round, a trigger) fails its
 * write and reads the failed record, instead of writing the mark away. Returns the
 * reason the record holds.
 */
export async function failJob(checkpoints: CheckpointStore, job: string, reason: string): Promise<string> {
  const record = await updateJobRecord(checkpoints, job, (r) =>
    r.failed ? undefined : { ...r, failed: reason, nextCheckpoint: r.nextCheckpoint + 1 },
  );
  return record.failed ?? reason;
}
