/**
 * The checkpoint lifecycle as stateless steps: start, trigger, poll, complete,
 * abort, restore (failover), resume and savepoint restore. Each step loads what it
 * needs from the stores, does one thing, and returns a small JSON answer. The Step
 * Functions machine (`asl.ts`) runs them as Lambda tasks; the embedded runtime's
 * driver (`core/runtime/lifecycle.ts`) calls the very same steps in its loop.
 */

import { describeCause, RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import {
  AbortReason,
  type CheckpointManifest,
  type CheckpointStore,
  type JobRecord,
} from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { CoordinatorWaker } from "../ports/coordinator-waker.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { Queue } from "../ports/queue.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { TimerHints } from "../ports/timer-hints.ts";
import { CheckpointCoordinator } from "./coordinator.ts";
import { decideTrigger } from "./decider.ts";
import { type PublishResult, publishCompleted } from "./publish.ts";
import { restoreToCheckpoint } from "./restore.ts";
import { findSavepoint, restoreFromSavepoint } from "./savepoint.ts";
import { barrierEntries, notifyEntries, startEntries } from "./signals.ts";
import { trySleep } from "./sleep.ts";
import { sendDueTicks } from "./ticks.ts";

/** What the steps work on. */
export interface StepContext {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly state: StateStore;
  readonly checkpoints: CheckpointStore;
  /** Only `send` is used. */
  readonly queue: Pick<Queue, "send">;
  readonly output: OutputStore;
  readonly clock: Clock;
  /** Where runners record their next processing-time timer (AWS); without it, {@link CoordinatorSteps.tick} sends nothing. */
  readonly timers?: TimerHints;
  /**
   * Starts the coordinator again after it slept. With one, a quiet job's coordinator
   * goes to sleep instead of triggering checkpoints (scale to zero, `sleep.ts`).
   */
  readonly waker?: CoordinatorWaker;
}

/** Answer of the trigger step. */
export interface TriggerAnswer {
  /**
   * The checkpoint to follow: the one triggered, or (with `inFlight`) the oldest one
   * already in flight; `null` when there is none (a restore runs, the job ended).
   */
  readonly checkpoint: number | null;
  /**
   * True when `checkpoint` was triggered earlier (by an execution that ended, say):
   * the machine polls it again, so it completes or times out instead of blocking
   * every later trigger.
   */
  readonly inFlight?: true;
  /** True when the job was quiet and the coordinator went to sleep: its execution ends until a wake. */
  readonly sleeping?: true;
  /** True once the job finished (bounded input fully processed and published). */
  readonly finished?: boolean;
  /** Set when the job failed for good: why. */
  readonly failed?: string;
}

/** Answer of the complete step. */
export interface CompleteAnswer extends PublishResult {
  /** The checkpoint published; `null` when none completed yet. */
  readonly checkpoint: number | null;
  /** True when it is the final checkpoint of a finished job. */
  readonly final?: boolean;
  /** Why the checkpoint-complete signals could not be sent, if they could not. */
  readonly notifyError?: string;
}

/** Status the poll step reports for a checkpoint. */
export type PollStatus = "pending" | "completed" | "timeout" | "aborted" | "failover" | "finished";

/** Answer of the restore step. */
export interface RestoreAnswer {
  readonly generation: number;
  readonly checkpoint: number | null;
  /** Set when the restart strategy's attempts are used up: the job failed, nothing was restored. */
  readonly failed?: string;
}

/** How long a restore may run before a later round takes it for dead and finishes it (a Lambda runs at most 15 min). */
export const STALE_RESTORE_MS = 15 * 60_000;

/** How long a checkpoint waits for its sources' acks before its barriers are sent again. */
export const BARRIER_RESEND_MS = 5_000;

/** The job failed for good: its restart attempts are used up. */
export class JobFailedError extends RiffleError {
  constructor(message: string, cause?: unknown) {
    super("job-failed", message, { cause });
  }
}

/** The coordinator's steps for one job. */
export class CoordinatorSteps {
  private readonly context: StepContext;

  constructor(context: StepContext) {
    this.context = context;
  }

  private async coordinator(): Promise<CheckpointCoordinator> {
    const { plan, checkpoints, clock, graph } = this.context;
    const coordinator = new CheckpointCoordinator({ plan, store: checkpoints, clock, config: graph.config.checkpoint });
    await coordinator.resume();
    return coordinator;
  }

  /**
   * Creates the job record and starts the sources, if the job never ran. Returns
   * the generation. Idempotent: a job that exists is left as it is.
   */
  async start(): Promise<{ generation: number; created: boolean }> {
    const existing = await this.context.checkpoints.loadJob(this.context.plan.job);
    if (existing) return { generation: existing.generation, created: false };
    const { plan, checkpoints, clock, graph } = this.context;
    const record = await new CheckpointCoordinator({
      plan,
      store: checkpoints,
      clock,
      config: graph.config.checkpoint,
    }).init();
    await this.context.queue.send(startEntries(plan, record.generation));
    return { generation: record.generation, created: true };
  }

  /**
   * Triggers a checkpoint and sends its barriers, unless one is in flight or the job
   * ended. `abortInFlight` first aborts what is in flight (a stop), so one is triggered now.
   * `whenDue` (the machine's rounds) triggers only once the checkpoint interval (and
   * min pause) has passed since the last trigger (and completion), as the store says.
   */
  async trigger(options: { abortInFlight?: AbortReason; whenDue?: boolean } = {}): Promise<TriggerAnswer> {
    await this.start();
    const record = await this.record();
    if (record.failed) return { checkpoint: null, failed: record.failed };
    if (record.restoring) {
      await this.finishStaleRestore(record);
      return { checkpoint: null };
    }
    const coordinator = await this.coordinator();
    const last = await coordinator.lastCompleted();
    if (last?.final && last.generation === record.generation) return { checkpoint: null, finished: true };
    if (options.abortInFlight) await coordinator.abortAll(options.abortInFlight);
    if (coordinator.inFlight >= this.context.graph.config.checkpoint.maxConcurrent) {
      await this.resendLostBarriers(coordinator, record.generation);
      return { checkpoint: coordinator.pendingIds[0] ?? null, inFlight: true };
    }
    if (options.whenDue && !(await this.due(record, last))) return { checkpoint: null };
    const quietable = this.context.waker && options.whenDue && last && last.generation === record.generation;
    if (quietable && (await trySleep(this.context, record, last))) return { checkpoint: null, sleeping: true };
    const id = await coordinator.trigger();
    await this.context.queue.send(barrierEntries(this.context.plan, record.generation, id));
    return { checkpoint: id };
  }

  /** Whether the interval has passed since the last trigger, and the min pause since `last` completed. */
  private async due(record: JobRecord, last: CheckpointManifest | undefined): Promise<boolean> {
    const previous =
      record.nextCheckpoint > 1
        ? await this.context.checkpoints.getManifest(this.context.plan.job, record.nextCheckpoint - 1)
        : undefined;
    const state = { pending: 0, lastTriggerAt: previous?.triggeredAt, lastCompletedAt: last?.completedAt };
    return decideTrigger(state, this.context.graph.config.checkpoint, this.context.clock.now()).trigger;
  }

  /** Sends the ticks of due processing-time timers ({@link sendDueTicks}); none without `timers`. */
  async tick(): Promise<{ ticked: number }> {
    const { timers, plan, checkpoints, queue, clock } = this.context;
    if (!timers) return { ticked: 0 };
    return { ticked: await sendDueTicks({ job: plan.job, timers, checkpoints, queue, clock }) };
  }

  /**
   * Finishes a restore that died midway (a Lambda that timed out or crashed after
   * marking the job `restoring`): once it has been restoring for
   * {@link STALE_RESTORE_MS}, the trigger runs it again — the savepoint restore it
   * was, at the same generation, or a restore to the last completed checkpoint.
   * Without this the job would wait for an operator.
   */
  private async finishStaleRestore(record: JobRecord): Promise<void> {
    if (this.context.clock.now() - (record.restoringSince ?? 0) < STALE_RESTORE_MS) return;
    const from = record.restoredFrom;
    if (from && from.generation === record.generation) await this.restoreSavepoint(from.savepoint);
    else await this.restoreLast(() => ({}));
  }

  /**
   * Sends the barriers of a checkpoint in flight again to the source partitions that
   * have not acked it after {@link BARRIER_RESEND_MS}: a trigger that died between
   * recording the checkpoint and sending its barriers (a killed coordinator) would
   * otherwise leave it pending until it times out. A barrier that did arrive is
   * dropped as a duplicate (the control channel is sequenced by checkpoint id).
   */
  private async resendLostBarriers(coordinator: CheckpointCoordinator, generation: number): Promise<void> {
    const { plan, checkpoints, clock, queue } = this.context;
    for (const [id, since] of coordinator.pendingSince) {
      if (clock.now() - since < BARRIER_RESEND_MS) continue;
      const acked = new Set((await checkpoints.acks(plan.job, id)).map((a) => `${a.task}#${a.partition}`));
      const lost = barrierEntries(plan, generation, id).filter((e) => !acked.has(`${e.to.task}#${e.to.partition}`));
      if (lost.length > 0) await queue.send(lost);
    }
  }

  /**
   * Collects acks: completes what every partition acked, and says how checkpoint `id`
   * stands. Without `id` it only completes (e.g. the final checkpoint of a finished job).
   */
  async poll(id?: number): Promise<{ status: PollStatus; completed?: number }> {
    const coordinator = await this.coordinator();
    const events = await coordinator.poll({ abortTimeouts: false });
    if (events.some((e) => e.kind === "failover")) return { status: "failover" };
    const done = events.filter((e) => e.kind === "completed").map((e) => e.manifest);
    const newest = done[done.length - 1];
    if (newest) return { status: "completed", completed: newest.id };
    if (id === undefined) return { status: "pending" };
    if (events.some((e) => e.kind === "timeout" && e.id === id)) return { status: "timeout" };
    const m = await this.context.checkpoints.getManifest(this.context.plan.job, id);
    if (m?.status === "completed") return { status: "completed", completed: id };
    if (m?.status === "aborted") return { status: "aborted" };
    const last = await coordinator.lastCompleted();
    if (last?.final) return { status: "finished" };
    return { status: "pending" };
  }

  /**
   * Publishes the output of the newest completed checkpoint and compacts behind it,
   * then tells the partitions whose chain has a `notifyCheckpointComplete` (once per
   * checkpoint: the manifest remembers it). The notification is best effort: when it
   * cannot be sent, the answer says why in `notifyError` (and the next completion
   * tries again); it never fails the publication.
   */
  async complete(): Promise<CompleteAnswer> {
    const last = await (await this.coordinator()).lastCompleted();
    if (!last) return { checkpoint: null, records: 0, deadLetters: 0, compacted: 0 };
    const r = await publishCompleted(this.context.plan, this.context.state, this.context.output, last);
    const notifyError = await this.notify(last).then(
      () => undefined,
      (e: unknown) => describeCause(e),
    );
    return {
      checkpoint: last.id,
      ...r,
      ...(last.final ? { final: true } : {}),
      ...(notifyError === undefined ? {} : { notifyError }),
    };
  }

  private async notify(manifest: CheckpointManifest): Promise<void> {
    if (manifest.notified) return;
    const entries = notifyEntries(this.context.plan, this.context.graph, manifest.generation, manifest.id);
    if (entries.length === 0) return;
    await this.context.queue.send(entries);
    await this.context.checkpoints.putManifest({ ...manifest, notified: true });
  }

  /** Aborts checkpoint `id` (timed out); says whether the job must now fail over. */
  async abort(id: number): Promise<{ failover: boolean }> {
    const coordinator = await this.coordinator();
    await coordinator.abort(id, AbortReason.Timeout);
    const record = await coordinator.record();
    return { failover: record.failures > this.context.graph.config.checkpoint.tolerableFailures };
  }

  /**
   * Fails the job over, per the restart strategy: a new generation, every log cut
   * back to the newest completed checkpoint (its output published first), sources
   * restarted from its positions. Once the strategy's attempts are used up, the job
   * is marked failed instead and nothing is restored.
   */
  async restore(reason = "failover"): Promise<RestoreAnswer> {
    const record = await this.record();
    if (record.failed) return { generation: record.generation, checkpoint: null, failed: record.failed };
    const { attempts } = this.context.graph.config.restart;
    const restarts = record.restarts ?? 0;
    if (restarts >= attempts) {
      const failed = `job '${this.context.plan.job}' failed after ${restarts} restarts: ${reason}`;
      await this.saveRecord((r) => ({ ...r, failed }));
      return { generation: record.generation, checkpoint: null, failed };
    }
    return this.restoreLast(() => ({ restarts: restarts + 1 }));
  }

  /**
   * An operator's resume of a stopped or crashed job (same flags): like a failover,
   * but not counted against the restart strategy (its count starts again).
   */
  async resume(): Promise<RestoreAnswer> {
    return this.restoreLast(() => ({ restarts: 0 }));
  }

  private async restoreLast(update: (r: JobRecord) => Partial<JobRecord>): Promise<RestoreAnswer> {
    const { plan, state, checkpoints } = this.context;
    await this.complete(); // nothing the last checkpoint committed may be lost by the restore
    const coordinator = await this.coordinator();
    const last = await coordinator.lastCompleted();
    const generation = await restoreToCheckpoint(plan, state, checkpoints, coordinator, last, update);
    await this.context.queue.send(startEntries(plan, generation));
    return { generation, checkpoint: last?.id ?? null };
  }

  /**
   * Restores the job from savepoint `name`, at the plan's parallelism. The output of
   * the newest completed checkpoint is published first, so nothing committed is lost.
   * A retry of an unfinished restore of the same savepoint picks it up (same generation).
   */
  async restoreSavepoint(name: string): Promise<{ generation: number }> {
    const { plan, graph, state, checkpoints, output } = this.context;
    const sp = await findSavepoint(checkpoints, plan.job, name);
    const record = await checkpoints.loadJob(plan.job);
    if (record && !record.restoring) await this.complete();
    const coordinator = await this.coordinator();
    // The new log starts again: the published marks go with the old one, before the job runs on.
    const generation = await restoreFromSavepoint(plan, graph, state, checkpoints, coordinator, sp, () =>
      output.resetPublished(plan.job),
    );
    await this.context.queue.send(startEntries(plan, generation));
    return { generation };
  }

  private async record(): Promise<JobRecord> {
    const r = await this.context.checkpoints.loadJob(this.context.plan.job);
    if (!r) throw new RiffleError("job-not-started", `job '${this.context.plan.job}' has no record yet`);
    return r;
  }

  /** Rewrites the job record with `change`, retrying while the counter moves under it. */
  private async saveRecord(change: (r: JobRecord) => JobRecord): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await this.record();
      if (
        await this.context.checkpoints.saveJob(change(r), {
          generation: r.generation,
          nextCheckpoint: r.nextCheckpoint,
        })
      )
        return;
    }
    throw new RiffleError("job-record-busy", `job '${this.context.plan.job}': the job record kept changing`, {
      retryable: true,
    });
  }
}
