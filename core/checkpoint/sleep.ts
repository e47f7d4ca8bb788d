/**
 * Scale to zero: a job with no input makes no checkpoint rounds. When a checkpoint
 * is due, the trigger step first asks whether anything happened since the last
 * completed checkpoint: no partition committed a segment past its cut, no
 * checkpoint is in flight, and no processing-time timer waits. Then there is
 * nothing to checkpoint, and the coordinator goes to sleep (its execution ends)
 * instead of triggering.
 *
 * Before it sleeps, the coordinator seals the logs (`seal.ts`): nothing folds while it sleeps.
 *
 * Waking without a lost wake-up: the coordinator (1) marks the job record `sleeping`,
 * then (2) looks at the logs once more, and stays awake if anything arrived. Every
 * writer that can bring new work — an ingest append, a restore, a task that committed
 * a segment — (1) writes, then (2) reads the record, and wakes a sleeping job. Each
 * side's second step sees the other's first, so work is never left with the
 * coordinator asleep. A wake is one conditional write of the record (clear
 * `sleeping`, count the wake, and skip one checkpoint id, since the record's
 * conditional writes compare its generation and checkpoint counter), so of
 * concurrent wakers exactly one starts the next execution, under `<job>-w<wakes>`.
 * Falling asleep skips an id too, so no writer that read the record awake (a
 * completion published by a savepoint, a failure count) can write it back over
 * `sleeping`: the record would say awake with no execution running, and no
 * writer of new work would wake it.
 */

import type { Plan } from "../graph/plan.ts";
import type { CheckpointManifest, CheckpointStore, JobRecord } from "../ports/checkpoint-store.ts";
import type { CoordinatorWaker } from "../ports/coordinator-waker.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { TimerHints } from "../ports/timer-hints.ts";
import { flushMarks, type LazyMarks } from "./published-marks.ts";
import { sealLogs } from "./seal.ts";

/** What the quiet check reads. */
export interface QuietContext {
  readonly plan: Plan;
  readonly state: StateStore;
  readonly checkpoints: CheckpointStore;
  readonly timers?: TimerHints;
  /** The published marks' store: the seal before sleeping folds through them (without one it folds nothing). */
  readonly output?: Pick<OutputStore, "publishedThrough" | "setPublished">;
  /** Marks a warm container holds (`published-marks.ts`): written before the seal reads the store's. */
  readonly marks?: LazyMarks;
}

/**
 * True when nothing happened since `last` (a completed checkpoint of the running
 * generation): every partition's log ends at its cut, and no processing-time timer waits.
 */
export async function isQuiet(c: QuietContext, last: CheckpointManifest): Promise<boolean> {
  if (!last.cut) return false;
  // The logs first: in a busy job the first one read says it is not quiet.
  for (const task of c.plan.tasks) {
    for (let p = 0; p < task.parallelism; p++) {
      const cut = last.cut[`${task.id}#${p}`];
      if (cut === undefined) return false;
      if ((await c.state.readSegments(task.id, p, cut, "none")).length > 0) return false;
    }
  }
  return !(c.timers && (await c.timers.list(c.plan.job)).length > 0);
}

/**
 * True when a source partition committed more than its barrier's segment between
 * `previous` and `last` (consecutive completed checkpoints of one generation): input
 * arrived in `last`'s epoch, so the coordinator does not look for quiet yet (an idle
 * source adds one segment an epoch, the barrier's; other partitions may add one per
 * input channel). Only saves the quiet check's reads in a busy job: a job that goes
 * quiet sleeps a checkpoint later.
 */
export function wasBusy(
  last: CheckpointManifest,
  previous: CheckpointManifest | undefined,
  sources: readonly string[],
): boolean {
  if (previous?.status !== "completed" || previous.generation !== last.generation) return false;
  const before = previous.cut ?? {};
  const after = last.cut ?? {};
  return sources.some((k) => before[k] !== undefined && after[k] !== undefined && after[k] - before[k] >= 2);
}

/**
 * Puts the job to sleep if it is quiet; see the module comment. Returns true when it
 * sleeps, or when work arrived meanwhile and a waker already woke it (and started the
 * next execution): either way the caller ends the coordinator's execution.
 */
export async function trySleep(c: QuietContext, record: JobRecord, last: CheckpointManifest): Promise<boolean> {
  if (!(await isQuiet(c, last))) return false;
  // Nothing folds while it sleeps: seal first (`seal.ts`). It folds through the published
  // marks, not `last`'s cut: in a round the trigger runs before `last`'s output is
  // published, and only published segments may fold. What is left to seal is then small.
  if (c.output) await flushMarks(c.output, c.plan.job, c.marks);
  await sealLogs(c.plan, c.state, c.output ? await c.output.publishedThrough(c.plan.job) : undefined);
  // Work that landed during the seal woke nobody (the record did not say `sleeping` yet):
  // look again, so that it keeps the coordinator awake here rather than un-sleep it below.
  if (!(await isQuiet(c, last))) return false;
  const expected = { generation: record.generation, nextCheckpoint: record.nextCheckpoint };
  // The write also skips a checkpoint id: every writer's condition compares the generation and
  // the counter, so one that read the record awake cannot write it back and clear `sleeping`.
  const asleep = { ...record, sleeping: true as const, nextCheckpoint: record.nextCheckpoint + 1 };
  if (!(await c.checkpoints.saveJob(asleep, expected))) return false;
  if (await isQuiet(c, last)) return true;
  // Something arrived while it fell asleep: stay awake, unless a waker got there first.
  // That waker started the next execution, so this one must end (answer as asleep):
  // two executions would run two coordinators.
  for (let attempt = 0; attempt < UNSLEEP_ATTEMPTS; attempt++) {
    const now = await c.checkpoints.loadJob(c.plan.job);
    if (!now?.sleeping) return true;
    const expected = { generation: now.generation, nextCheckpoint: now.nextCheckpoint };
    if (await c.checkpoints.saveJob(awake(now), expected)) return false;
  }
  return false;
}

/** Tries to clear its own `sleeping` while other writers keep changing the record. */
const UNSLEEP_ATTEMPTS = 10;

/**
 * Wakes `job`'s coordinator if it sleeps: exactly one of concurrent callers wins the
 * conditional write and starts the next execution. Returns true for that caller.
 */
export async function wakeIfSleeping(
  checkpoints: CheckpointStore,
  job: string,
  waker: CoordinatorWaker,
): Promise<boolean> {
  // A lost conditional write is not proof that another waker won: a restore or the
  // falling-asleep coordinator may have changed the record and left it sleeping. Read again.
  for (let attempt = 0; attempt < WAKE_ATTEMPTS; attempt++) {
    const record = await checkpoints.loadJob(job);
    if (!record?.sleeping) return false;
    const woken = awake(record);
    const expected = { generation: record.generation, nextCheckpoint: record.nextCheckpoint };
    if (await checkpoints.saveJob(woken, expected)) {
      await waker.start(`${job}-w${woken.wakes ?? 0}`);
      return true;
    }
  }
  return false;
}

/** How often a waker tries its conditional write while other writers change a sleeping job's record. */
const WAKE_ATTEMPTS = 10;

/** The record without `sleeping`, its wake counted, one checkpoint id skipped (see the module comment). */
function awake(record: JobRecord): JobRecord {
  const { sleeping: _sleeping, ...rest } = record;
  return { ...rest, wakes: (record.wakes ?? 0) + 1, nextCheckpoint: record.nextCheckpoint + 1 };
}
