/**
 * The checkpoint lifecycle as stateless steps: start, trigger, poll, complete,
 * abort, restore (failover), resume and savepoint restore. Each step loads what it
 * needs from the stores, does one thing, and returns a small JSON answer. The Step
 * Functions machine (`asl.ts`) runs them as Lambda tasks; the embedded runtime's
 * driver (`core/runtime/lifecycle.ts`) calls the very same steps in its loop.
 */

import { describeCause, RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import { AbortReason, type CheckpointManifest, type JobRecord } from "../ports/checkpoint-store.ts";
import { sealTables } from "../tables/publish-tables.ts";
import { tableSpecs } from "../tables/specs.ts";
import { CheckpointCoordinator } from "./coordinator.ts";
import { decideTrigger } from "./decider.ts";
import { type PublishResult, publishCompleted } from "./publish.ts";
import { flushMarks } from "./published-marks.ts";
import {
  finishStaleRestore,
  type RestoreAnswer,
  restoreLast,
  restoreSavepointStep,
  restoreStep,
} from "./restore-steps.ts";
import { type AutoscaleAnswer, aboveMin, autoscaleStep, type RescaleAnswer, rescaleStep } from "./scale-steps.ts";
import { sealLogs } from "./seal.ts";
import { barrierEntries, notifyEntries, startEntries } from "./signals.ts";
import { trySleep, wasBusy } from "./sleep.ts";
import { type StepContext, StepScope } from "./step-scope.ts";
import { sendDueTicks } from "./ticks.ts";

export { type RestoreAnswer, STALE_RESTORE_MS } from "./restore-steps.ts";
export type { AutoscaleAnswer, RescaleAnswer } from "./scale-steps.ts";
export { REAPPLY_CONCURRENCY_MS } from "./scale-steps.ts";
export type { StepContext } from "./step-scope.ts";

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

/** How long a checkpoint waits for its sources' acks before its barriers are sent again. */
export const BARRIER_RESEND_MS = 5_000;

/** The job failed for good: its restart attempts are used up, or its code has a mistake. */
export class JobFailedError extends RiffleError {
  constructor(message: string, cause?: unknown) {
    super("job-failed", message, { cause });
  }
}

/** The coordinator's steps for one job. */
export class CoordinatorSteps {
  private readonly s: StepScope;
  /** The barriers' send a trigger with `sendLater` started ({@link sent} awaits it). */
  private sending: Promise<void> | undefined;

  constructor(context: StepContext) {
    this.s = new StepScope(context);
  }

  /** The plan the job runs now: the deployed one at the job record's parallelism. */
  get plan(): Plan {
    return this.s.context.plan;
  }

  /**
   * Creates the job record and starts the sources, if the job never ran. Returns
   * the generation. Idempotent: a job that exists is left as it is.
   */
  async start(): Promise<{ generation: number; created: boolean }> {
    const existing = await this.s.context.checkpoints.loadJob(this.s.context.plan.job);
    if (existing) return { generation: existing.generation, created: false };
    const { plan, checkpoints, clock, graph } = this.s.context;
    const record = await new CheckpointCoordinator({
      plan,
      store: checkpoints,
      clock,
      config: graph.config.checkpoint,
    }).init();
    await this.s.context.queue.send(startEntries(plan, record.generation));
    return { generation: record.generation, created: true };
  }

  /**
   * Triggers a checkpoint and sends its barriers, unless one is in flight or the job
   * ended. `abortInFlight` first aborts what is in flight (a stop), so one is triggered now.
   * `whenDue` (the machine's rounds) triggers only once the checkpoint interval (and
   * min pause) has passed since the last trigger (and completion), as the store says.
   * Its record write includes what a deferred completion left (see {@link poll}).
   * `sendLater` (the round): the barriers' send is started, not awaited; the round
   * publishes meanwhile and then awaits it ({@link sent}).
   */
  async trigger(
    options: { abortInFlight?: AbortReason; whenDue?: boolean; sendLater?: boolean } = {},
  ): Promise<TriggerAnswer> {
    try {
      return await this.triggerOnce(options);
    } finally {
      await this.s.flush(); // a completion's record change, when no trigger wrote it
    }
  }

  private async triggerOnce(options: {
    abortInFlight?: AbortReason;
    whenDue?: boolean;
    sendLater?: boolean;
  }): Promise<TriggerAnswer> {
    await this.s.sync(true);
    await this.start();
    const record = await this.s.record();
    if (record.failed) return { checkpoint: null, failed: record.failed };
    if (record.restoring) {
      await finishStaleRestore(this.s, () => this.complete(), record);
      return { checkpoint: null };
    }
    const coordinator = await this.s.coordinator();
    const last = await coordinator.lastCompleted();
    if (last?.final && last.generation === record.generation) return { checkpoint: null, finished: true };
    if (options.abortInFlight) await coordinator.abortAll(options.abortInFlight);
    if (coordinator.inFlight >= this.s.context.graph.config.checkpoint.maxConcurrent) {
      await this.resendLostBarriers(coordinator, record.generation);
      return { checkpoint: coordinator.pendingIds[0] ?? null, inFlight: true };
    }
    if (options.whenDue && !this.due(record, last)) return { checkpoint: null };
    const quietable =
      this.s.context.waker && options.whenDue && last && last.generation === record.generation && !aboveMin(this.s);
    if (quietable && !(await this.busy(last)) && (await trySleep(this.s.context, record, last))) {
      return { checkpoint: null, sleeping: true };
    }
    const id = await coordinator.trigger();
    const sending = this.s.context.queue.send(barrierEntries(this.s.context.plan, record.generation, id));
    if (!options.sendLater) await sending;
    else {
      sending.catch(() => {}); // seen by `sent`
      this.sending = sending;
    }
    return { checkpoint: id };
  }

  /**
   * Awaits the barriers' send a trigger with `sendLater` started, if any; throws if it
   * failed (the round fails and runs again: the checkpoint is in flight, and barriers a
   * source never got are sent again after {@link BARRIER_RESEND_MS}).
   */
  async sent(): Promise<void> {
    const sending = this.sending;
    this.sending = undefined;
    await sending;
  }

  /** Whether the interval has passed since the last trigger, and the min pause since `last` completed. */
  private due(record: JobRecord, last: CheckpointManifest | undefined): boolean {
    const state = { pending: 0, lastTriggerAt: record.lastTriggeredAt, lastCompletedAt: last?.completedAt };
    return decideTrigger(state, this.s.context.graph.config.checkpoint, this.s.context.clock.now()).trigger;
  }

  /** Whether the job was busy in `last`'s epoch ({@link wasBusy}; in a round the manifest before it was read already). */
  private async busy(last: CheckpointManifest): Promise<boolean> {
    const previous = last.id > 1 ? await this.s.context.checkpoints.getManifest(last.job, last.id - 1) : undefined;
    const sources = this.s.context.plan.tasks
      .filter((t) => t.isSource)
      .flatMap((t) => Array.from({ length: t.parallelism }, (_, p) => `${t.id}#${p}`));
    return wasBusy(last, previous, sources);
  }

  /**
   * Seals the logs (`seal.ts`) of a job whose coordinator stops for good (it failed),
   * folding nothing: its newest completed checkpoint may not be published yet.
   */
  async seal(): Promise<void> {
    const { plan, state, output, marks } = this.s.context;
    await flushMarks(output, plan.job, marks);
    await sealLogs(plan, state, undefined);
  }

  /** Sends the ticks of due processing-time timers ({@link sendDueTicks}); none without `timers`. */
  async tick(): Promise<{ ticked: number }> {
    const { timers, plan, checkpoints, queue, clock } = this.s.context;
    if (!timers) return { ticked: 0 };
    return { ticked: await sendDueTicks({ job: plan.job, timers, checkpoints, queue, clock }) };
  }

  /**
   * Sends the barriers of a checkpoint in flight again to the source partitions that
   * have not acked it after {@link BARRIER_RESEND_MS}: a trigger that died between
   * recording the checkpoint and sending its barriers (a killed coordinator) would
   * otherwise leave it pending until it times out. A barrier that did arrive is
   * dropped as a duplicate (the control channel is sequenced by checkpoint id).
   */
  private async resendLostBarriers(coordinator: CheckpointCoordinator, generation: number): Promise<void> {
    const { plan, checkpoints, clock, queue } = this.s.context;
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
   * `defer`: a completion's job-record change waits for the next trigger, which writes
   * it with its own (the round: one record write per checkpoint); every other step
   * writes it first.
   */
  async poll(id?: number, options: { defer?: boolean } = {}): Promise<{ status: PollStatus; completed?: number }> {
    await this.s.sync();
    const coordinator = await this.s.coordinator(options.defer === true);
    const events = await coordinator.poll({ abortTimeouts: false });
    if (events.some((e) => e.kind === "failover")) return { status: "failover" };
    const done = events.filter((e) => e.kind === "completed").map((e) => e.manifest);
    const newest = done[done.length - 1];
    if (newest) return { status: "completed", completed: newest.id };
    if (id === undefined) return this.finalCompleted(coordinator);
    if (events.some((e) => e.kind === "timeout" && e.id === id)) return { status: "timeout" };
    const m = await this.s.context.checkpoints.getManifest(this.s.context.plan.job, id);
    if (m?.status === "completed") return { status: "completed", completed: id };
    if (m?.status === "aborted") return { status: "aborted" };
    const last = await coordinator.lastCompleted();
    if (last?.final) return { status: "finished" };
    return { status: "pending" };
  }

  /**
   * Without a checkpoint to follow (the embedded driver, once every partition
   * finished): "completed" when the final checkpoint of the running generation
   * completed earlier, so that a completion whose publication died (a coordinator
   * crash) is published again and the job ends; otherwise "pending".
   */
  private async finalCompleted(
    coordinator: CheckpointCoordinator,
  ): Promise<{ status: PollStatus; completed?: number }> {
    const last = await coordinator.lastCompleted();
    if (!last?.final || last.generation !== (await coordinator.record()).generation) return { status: "pending" };
    return { status: "completed", completed: last.id };
  }

  /**
   * Publishes the output of the newest completed checkpoint and compacts behind it,
   * then tells the partitions whose chain has a `notifyCheckpointComplete` (once per
   * checkpoint: the manifest remembers it). The notification is best effort: when it
   * cannot be sent, the answer says why in `notifyError` (and the next completion
   * tries again); it never fails the publication.
   *
   * `holdMarks` (the round's completion, {@link settle}): with the context's
   * `marks`, the published marks may wait for a later publication (`published-marks.ts`).
   * Every other caller (restore, rescale, savepoint restore) writes them.
   */
  async complete(options: { holdMarks?: boolean } = {}): Promise<CompleteAnswer> {
    await this.s.sync();
    const last = await (await this.s.coordinator()).lastCompleted();
    if (!last) return { checkpoint: null, records: 0, deadLetters: 0, compacted: 0 };
    const { plan, state, output, dynamicTables, graph, checkpoints, clock, marks } = this.s.context;
    const jobTables = dynamicTables ? { store: dynamicTables, specs: tableSpecs(graph) } : undefined;
    const publishMarks = marks ? { lazy: marks, hold: options.holdMarks === true } : undefined;
    const r = await publishCompleted(plan, state, output, last, jobTables, publishMarks);
    if (jobTables)
      await sealTables(jobTables, plan.job, last.id, clock.now(), async () =>
        (await checkpoints.listSavepoints(plan.job)).map((s) => s.checkpoint),
      );
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
    const entries = notifyEntries(this.s.context.plan, this.s.context.graph, manifest.generation, manifest.id);
    if (entries.length === 0) return;
    await this.s.context.queue.send(entries);
    await this.s.context.checkpoints.putManifest({ ...manifest, notified: true });
  }

  /** Aborts checkpoint `id` (timed out); says whether the job must now fail over. */
  async abort(id: number): Promise<{ failover: boolean }> {
    await this.s.sync();
    const coordinator = await this.s.coordinator();
    await coordinator.abort(id, AbortReason.Timeout);
    const record = await coordinator.record();
    return { failover: record.failures > this.s.context.graph.config.checkpoint.tolerableFailures };
  }

  /**
   * Fails the job over, per the restart strategy: a new generation, every log cut
   * back to the newest completed checkpoint (its output published first), sources
   * restarted from its positions. Once the strategy's attempts are used up, the job
   * is marked failed instead and nothing is restored.
   */
  restore(reason = "failover"): Promise<RestoreAnswer> {
    return restoreStep(this.s, () => this.complete(), reason);
  }

  /**
   * An operator's resume of a stopped or crashed job (same flags): like a failover,
   * but not counted against the restart strategy (its count starts again).
   */
  async resume(): Promise<RestoreAnswer> {
    await this.s.sync();
    return restoreLast(
      this.s,
      () => this.complete(),
      () => ({ restarts: 0 }),
    );
  }

  /**
   * Restores the job from savepoint `name`, at the plan's parallelism. The output of
   * the newest completed checkpoint is published first, so nothing committed is lost.
   * A retry of an unfinished restore of the same savepoint picks it up (same generation).
   */
  restoreSavepoint(name: string): Promise<{ generation: number }> {
    return restoreSavepointStep(this.s, () => this.complete(), name);
  }

  /**
   * Rescales the job at its newest completed checkpoint (of the running generation)
   * so that the tasks in `parallelism` run at that many partitions (`rescaleAt`).
   * Publishes that checkpoint's output first. Does nothing while a restore runs, before
   * a checkpoint of this generation completed, or when nothing would change.
   */
  rescale(parallelism: Readonly<Record<string, number>>): Promise<RescaleAnswer> {
    return rescaleStep(this.s, () => this.complete(), parallelism);
  }

  /**
   * The autoscale round (`rescale.ts`), when the job has `autoscale` and a
   * {@link StepContext.scaler}, at most every `autoscaleEveryMs`: measures the
   * scalable tasks, rescales those whose parallelism should change, and sets every
   * such task's event-source concurrency to its parallelism.
   */
  autoscale(): Promise<AutoscaleAnswer> {
    return autoscaleStep(this.s, () => this.complete());
  }
}
