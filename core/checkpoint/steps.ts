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
import { isScalable, rescaledPlan } from "../graph/rescale.ts";
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
import type { TaskScaler } from "../ports/task-scaler.ts";
import type { TimerHints } from "../ports/timer-hints.ts";
import { CheckpointCoordinator } from "./coordinator.ts";
import { decideTrigger } from "./decider.ts";
import { failedReason, failJob, updateJobRecord } from "./job-failure.ts";
import { type PublishResult, publishCompleted } from "./publish.ts";
import { applyConcurrency, autoscaleEveryMs, autoscaleRound, rescaleAt } from "./rescale.ts";
import { restoreToCheckpoint } from "./restore.ts";
import { findSavepoint, restoreFromSavepoint, SavepointError } from "./savepoint.ts";
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
  /** Measures task queues and applies concurrency (autoscaling); without one, nothing autoscales. */
  readonly scaler?: TaskScaler;
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

/** Answer of the rescale step. */
export interface RescaleAnswer {
  /** True when the job now runs at the new parallelism. */
  readonly rescaled: boolean;
  /** The new generation. */
  readonly generation?: number;
  /** The checkpoint it was rescaled at. */
  readonly checkpoint?: number;
}

/** Answer of the autoscale step. */
export interface AutoscaleAnswer extends Partial<RescaleAnswer> {
  /** False when no round ran (no autoscale, not due, restoring, sleeping). */
  readonly checked: boolean;
  /** Each task's parallelism after the round. */
  readonly parallelism?: Readonly<Record<string, number>>;
  /** Per scalable task: why it stays or changes, and what was measured. */
  readonly reasons?: Readonly<Record<string, string>>;
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

/** How often the autoscale round sets every scalable task's concurrency again, changed or not. */
export const REAPPLY_CONCURRENCY_MS = 5 * 60_000;

/** The job failed for good: its restart attempts are used up, or its code has a mistake. */
export class JobFailedError extends RiffleError {
  constructor(message: string, cause?: unknown) {
    super("job-failed", message, { cause });
  }
}

/** The coordinator's steps for one job. */
export class CoordinatorSteps {
  /** The context as deployed. */
  private readonly deployed: StepContext;
  /** The context with the plan the job runs now (autoscaling changes it; {@link sync}). */
  private context: StepContext;
  /** True once this instance rescaled the job (without `autoscale`: a test's or the simulation's rescale). */
  private rescaled = false;

  constructor(context: StepContext) {
    this.deployed = context;
    this.context = context;
  }

  /** The plan the job runs now: the deployed one at the job record's parallelism. */
  get plan(): Plan {
    return this.context.plan;
  }

  /**
   * Reads the job record's parallelism into the plan the steps work with. Only a job
   * with `autoscale` (or one this instance rescaled) changes its parallelism, so only
   * such a job pays the read.
   */
  private async sync(): Promise<void> {
    if (!this.deployed.graph.config.aws.autoscale && !this.rescaled) return;
    const record = await this.deployed.checkpoints.loadJob(this.deployed.plan.job);
    const plan = rescaledPlan(this.deployed.plan, record?.parallelism);
    if (plan !== this.context.plan) this.context = { ...this.deployed, plan };
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
    await this.sync();
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
    const quietable =
      this.context.waker && options.whenDue && last && last.generation === record.generation && !this.aboveMin();
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
    await this.sync();
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
    await this.sync();
    const last = await (await this.coordinator()).lastCompleted();
    if (!last) return { checkpoint: null, records: 0, deadLetters: 0, compacted: 0 };
    const { plan, state, output } = this.context;
    const r = await publishCompleted(plan, state, output, last);
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
    await this.sync();
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
    await this.sync();
    const record = await this.record();
    if (record.failed) return { generation: record.generation, checkpoint: null, failed: record.failed };
    const { attempts } = this.context.graph.config.restart;
    const restarts = record.restarts ?? 0;
    if (restarts >= attempts) {
      const { job } = this.context.plan;
      const failed = await failJob(this.context.checkpoints, job, failedReason(job, reason, restarts));
      return { generation: record.generation, checkpoint: null, failed };
    }
    return this.restoreLast(() => ({ restarts: restarts + 1 }));
  }

  /**
   * An operator's resume of a stopped or crashed job (same flags): like a failover,
   * but not counted against the restart strategy (its count starts again).
   */
  async resume(): Promise<RestoreAnswer> {
    await this.sync();
    return this.restoreLast(() => ({ restarts: 0 }));
  }

  private async restoreLast(update: (r: JobRecord) => Partial<JobRecord>): Promise<RestoreAnswer> {
    const { plan, state, checkpoints } = this.context;
    // A savepoint restore that died midway is finished, never cut back to a checkpoint
    // over its half-installed state (some tasks the savepoint's, others the old job's).
    const record = await checkpoints.loadJob(plan.job);
    const from = record?.restoredFrom;
    if (record?.restoring && from?.generation === record.generation) {
      return { ...(await this.restoreSavepoint(from.savepoint)), checkpoint: null };
    }
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
    await this.sync();
    const { plan, graph, state, checkpoints, output } = this.context;
    const sp = await findSavepoint(checkpoints, plan.job, name);
    const record = await checkpoints.loadJob(plan.job);
    if (sp.inPlace && !(record?.restoring && record.restoredFrom?.savepoint === sp.name)) {
      throw new SavepointError(`savepoint '${name}' of job '${plan.job}' is a rescale's; it cannot be restored`);
    }
    if (sp.inPlace) {
      // Finishing a rescale that died midway: at the parallelism it wrote into the record.
      this.rescaled = true;
      await this.sync();
    }
    if (record && !record.restoring) await this.complete();
    const coordinator = await this.coordinator();
    // A rescale's savepoint restores at the parallelism it set in the record; any other at the plan's.
    const target = sp.inPlace ? this.context.plan : this.deployed.plan;
    // The new log starts again: the published marks go with the old one, before the job runs on.
    const generation = await restoreFromSavepoint(target, graph, state, checkpoints, coordinator, sp, () =>
      output.resetPublished(plan.job),
    );
    if (sp.inPlace) await checkpoints.deleteSavepoint(plan.job, sp.name);
    await this.sync();
    await this.context.queue.send(startEntries(this.context.plan, generation));
    return { generation };
  }

  /**
   * Rescales the job at its newest completed checkpoint (of the running generation)
   * so that the tasks in `parallelism` run at that many partitions ({@link rescaleAt}).
   * Publishes that checkpoint's output first. Does nothing while a restore runs, before
   * a checkpoint of this generation completed, or when nothing would change.
   */
  async rescale(parallelism: Readonly<Record<string, number>>): Promise<RescaleAnswer> {
    await this.sync();
    const record = await this.record();
    const target = rescaledPlan(this.deployed.plan, { ...record.parallelism, ...parallelism });
    if (target === this.context.plan || record.restoring || record.failed) return { rescaled: false };
    if (target.tasks.every((t, i) => t.parallelism === this.context.plan.tasks[i]?.parallelism)) {
      return { rescaled: false };
    }
    await this.complete();
    const coordinator = await this.coordinator();
    const last = await coordinator.lastCompleted();
    if (!last?.cut || last.final || last.generation !== record.generation) return { rescaled: false };
    this.rescaled = true;
    const generation = await rescaleAt(this.context, coordinator, last, target);
    await this.sync();
    await this.context.queue.send(startEntries(this.context.plan, generation));
    return { rescaled: true, generation, checkpoint: last.id };
  }

  /**
   * The autoscale round (`rescale.ts`), when the job has `autoscale` and a
   * {@link StepContext.scaler}, at most every {@link autoscaleEveryMs}: measures the
   * scalable tasks, rescales those whose parallelism should change, and sets every
   * such task's event-source concurrency to its parallelism.
   */
  async autoscale(): Promise<AutoscaleAnswer> {
    const config = this.deployed.graph.config.aws.autoscale;
    const { scaler, clock } = this.deployed;
    if (!config || !scaler) return { checked: false };
    await this.sync();
    const record = await this.record();
    const now = clock.now();
    if (record.restoring || record.failed || record.sleeping) return { checked: false };
    if (record.autoscale && now - record.autoscale.at < autoscaleEveryMs(config)) return { checked: false };
    const round = await autoscaleRound(this.context.plan, this.context.state, scaler, config, record, now);
    const keep = (r: JobRecord) => ({ applied: r.autoscale?.applied ?? {}, appliedAt: r.autoscale?.appliedAt });
    await this.saveRecord((r) => ({ ...r, autoscale: { ...round.memory, ...keep(r) } }));
    const changed = Object.keys(round.changes).length > 0;
    const r = changed ? await this.rescale(round.changes) : { rescaled: false as const };
    // Applied again now and then: a redeploy puts the stack's MaximumConcurrency back.
    const before = (await this.record()).autoscale;
    const stale = now - (before?.appliedAt ?? 0) >= REAPPLY_CONCURRENCY_MS;
    const applied = await applyConcurrency(this.context.plan, scaler, stale ? {} : (before?.applied ?? {}));
    if (stale || JSON.stringify(applied) !== JSON.stringify(before?.applied ?? {})) {
      const appliedAt = stale ? now : before?.appliedAt;
      await this.saveRecord((x) => ({ ...x, autoscale: { ...(x.autoscale ?? round.memory), applied, appliedAt } }));
    }
    const parallelism = Object.fromEntries(this.context.plan.tasks.map((t) => [t.id, t.parallelism]));
    const reasons = Object.fromEntries(
      Object.entries(round.decisions).map(([t, d]) => [
        t,
        `${d.reason} (backlog ${d.backlog}, rate ${d.rate === undefined ? "?" : d.rate.toFixed(1)}/s)`,
      ]),
    );
    return { checked: true, ...r, parallelism, reasons };
  }

  /**
   * True while autoscaling may still scale a task in: the coordinator must stay awake
   * for it (on AWS the Trigger has no scaler; Poll and Complete, which scale, do).
   */
  private aboveMin(): boolean {
    const config = this.deployed.graph.config.aws.autoscale;
    if (!config) return false;
    return this.context.plan.tasks.some((t) => isScalable(this.context.plan, t) && t.parallelism > config.min);
  }

  private async record(): Promise<JobRecord> {
    const r = await this.context.checkpoints.loadJob(this.context.plan.job);
    if (!r) throw new RiffleError("job-not-started", `job '${this.context.plan.job}' has no record yet`);
    return r;
  }

  /** Rewrites the job record with `change`, retrying while the counter moves under it. */
  private async saveRecord(change: (r: JobRecord) => JobRecord): Promise<void> {
    await updateJobRecord(this.context.checkpoints, this.context.plan.job, change);
  }
}
