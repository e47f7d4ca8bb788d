/** `riffle checkpoints` and `riffle savepoint`: what a state dir holds, and taking a savepoint. */

import { buildGraph } from "../core/api/environment.ts";
import { CheckpointCoordinator } from "../core/checkpoint/coordinator.ts";
import { checkSavepointName, SavepointError, takeSavepoint } from "../core/checkpoint/savepoint.ts";
import { openStateDir, stateDirJob } from "../core/durable/sqlite-db.ts";
import { planJob } from "../core/graph/planner.ts";
import type { Savepoint } from "../core/ports/checkpoint-store.ts";
import { SystemClock } from "../core/ports/clock.ts";
import { loadJob } from "./load-job.ts";
import {
  alive,
  requestSavepoint,
  runningPid,
  savepointRequestError,
  withdrawSavepointRequest,
} from "./state-dir-lock.ts";

/** Lists checkpoints (and savepoints) of the job in `dir`, and why the job failed if it did. */
export async function checkpointsCommand(dir: string, json: boolean): Promise<void> {
  const job = stateDirJob(dir);
  const sd = openStateDir(dir, { create: false, job, readOnly: true });
  try {
    const manifests = await sd.checkpointStore.listManifests(job);
    const savepoints = await sd.checkpointStore.listSavepoints(job);
    if (json) {
      for (const m of manifests) {
        const { cut: _cut, ...rest } = m;
        process.stdout.write(`${JSON.stringify(rest)}\n`);
      }
      return;
    }
    const rows = manifests.map((m) => [
      String(m.id),
      m.status + (m.final ? " (final)" : ""),
      new Date(m.triggeredAt).toISOString(),
      m.durationMs === undefined ? "" : `${m.durationMs} ms`,
      m.alignmentMs === undefined ? "" : `${m.alignmentMs} ms`,
      m.bytes === undefined ? "" : String(m.bytes),
      m.reason ?? "",
    ]);
    const head = ["id", "status", "triggered", "duration", "alignment", "bytes", "reason"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd();
    process.stdout.write(`job ${job}: ${manifests.length} checkpoint(s)\n`);
    const failed = (await sd.checkpointStore.loadJob(job))?.failed;
    if (failed) process.stdout.write(`failed: ${failed}\n`);
    process.stdout.write(`${line(head)}\n`);
    for (const r of rows) process.stdout.write(`${line(r)}\n`);
    if (savepoints.length > 0) {
      process.stdout.write(`\nsavepoints:\n`);
      for (const s of savepoints) {
        process.stdout.write(
          `  ${s.name}  checkpoint ${s.checkpoint}  ${new Date(s.createdAt).toISOString()}  ${s.values} values  parallelism ${JSON.stringify(s.parallelism)}\n`,
        );
      }
    }
  } finally {
    sd.close();
  }
}

/**
 * Takes savepoint `name` of the job in `dir`: through the running job if one holds
 * the dir (it triggers a fresh checkpoint), else from the last completed checkpoint.
 * The dir's job and the name are checked first: a request that the running job has
 * picked up cannot be taken back.
 */
export async function savepointCommand(file: string, dir: string, name: string, timeoutMs: number): Promise<void> {
  checkSavepointName(name);
  const job = await loadJob(file);
  if (await readSavepoint(dir, job.name, name)) {
    throw new SavepointError(`job '${job.name}' already has a savepoint named '${name}'`);
  }
  const pid = runningPid(dir);
  if (pid !== undefined) {
    await requestFromRunningJob(dir, job.name, name, pid, timeoutMs);
    return;
  }
  const sd = openStateDir(dir, { create: false, job: job.name });
  try {
    const plan = planJob(buildGraph(job));
    const clock = new SystemClock();
    const coordinator = new CheckpointCoordinator({
      plan,
      store: sd.checkpointStore,
      clock,
      config: buildGraph(job).config.checkpoint,
    });
    const last = await coordinator.lastCompleted().catch(() => undefined);
    if (!last)
      throw new SavepointError(`job '${job.name}' has no completed checkpoint in '${dir}' to take a savepoint from`);
    const sp = await takeSavepoint(plan, sd.stateStore, sd.checkpointStore, clock, last, name);
    process.stdout.write(
      `savepoint '${name}' of job '${job.name}' taken from checkpoint ${sp.checkpoint} (${sp.values} values)\n`,
    );
  } finally {
    sd.close();
  }
}

/** Savepoint `name` of `job` in `dir`, read-only; throws when `dir` is not `job`'s state dir. */
async function readSavepoint(dir: string, job: string, name: string): Promise<Savepoint | undefined> {
  const sd = openStateDir(dir, { create: false, job, readOnly: true });
  try {
    return await sd.checkpointStore.getSavepoint(job, name);
  } finally {
    sd.close();
  }
}

/** Asks the job running in `dir` (as `pid`) for savepoint `name` and waits for it. */
async function requestFromRunningJob(
  dir: string,
  job: string,
  name: string,
  pid: number,
  timeoutMs: number,
): Promise<void> {
  requestSavepoint(dir, name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = savepointRequestError(dir, name);
    if (failed) throw new SavepointError(failed);
    const sp = await readSavepoint(dir, job, name);
    if (sp) {
      process.stdout.write(`savepoint '${name}' of job '${job}' taken at checkpoint ${sp.checkpoint} by pid ${pid}\n`);
      return;
    }
    if (runningPid(dir) !== pid && !alive(pid)) {
      if (await readSavepoint(dir, job, name)) continue; // taken just before it exited
      withdrawSavepointRequest(dir, name); // a later run must not take it by surprise
      throw new SavepointError(`the job (pid ${pid}) stopped before it took savepoint '${name}'; nothing was taken`);
    }
    if (Date.now() > deadline)
      throw new SavepointError(`no savepoint '${name}' from pid ${pid} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
