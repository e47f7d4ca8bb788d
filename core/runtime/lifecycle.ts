/**
 * The embedded runtime's checkpoint driver: it calls the coordinator's steps
 * ({@link CoordinatorSteps}) as the Step Functions machine's round does (`round.ts`:
 * {@link settle} each checkpoint in flight — poll, then complete or abort — restore,
 * trigger), between batches instead of between Wait states. It decides only *when* to call a step (the trigger interval, as the
 * machine's Wait state does); every decision about checkpoints is the steps'.
 */

import type { CheckpointConfig } from "../checkpoint/config.ts";
import type { CoordinatorEvent } from "../checkpoint/coordinator.ts";
import { decideTrigger } from "../checkpoint/decider.ts";
import { failedReason, failJob } from "../checkpoint/job-failure.ts";
import { settle } from "../checkpoint/round.ts";
import { type CoordinatorSteps, JobFailedError, type RestoreAnswer } from "../checkpoint/steps.ts";
import { AbortReason, type CheckpointManifest, type CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";

/** What a turn of the driver found. */
export interface TurnResult {
  /** Checkpoints completed (and published) in this turn, ascending. */
  readonly completed: readonly CheckpointManifest[];
  /** Set when the job must fail over (too many checkpoints failed). */
  readonly failover?: string;
  /** Set when autoscaling rescaled the job after a completion: the new generation to launch. */
  readonly rescaled?: number;
}

/** Drives the shared checkpoint lifecycle from the embedded scheduler. */
export class CheckpointDriver {
  private readonly steps: CoordinatorSteps;
  private readonly checkpoints: CheckpointStore;
  private readonly job: string;
  private readonly config: CheckpointConfig;
  private readonly clock: Clock;
  private readonly onEvent: (e: CoordinatorEvent) => void;
  /** Runs a settle, restore or autoscale call (the simulation's coordinator crashes and retries). */
  private readonly call: <T>(call: () => Promise<T>) => Promise<T>;
  /** Checkpoints this driver triggered that have not completed or aborted yet. */
  private pending: number[] = [];
  private lastTriggerAt: number | undefined;
  private lastCompletedAt: number | undefined;

  constructor(options: {
    steps: CoordinatorSteps;
    checkpoints: CheckpointStore;
    job: string;
    config: CheckpointConfig;
    clock: Clock;
    onEvent?: (e: CoordinatorEvent) => void;
    /** Runs each settle, restore and autoscale call (default: as it is); see `EmbeddedOptions.simulation`. */
    call?: <T>(call: () => Promise<T>) => Promise<T>;
  }) {
    this.steps = options.steps;
    this.checkpoints = options.checkpoints;
    this.job = options.job;
    this.config = options.config;
    this.clock = options.clock;
    this.onEvent = options.onEvent ?? (() => {});
    this.call = options.call ?? ((call) => call());
  }

  /** Checkpoints in flight. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Triggers a checkpoint when the interval says one is due (the machine's WaitInterval → Trigger). */
  async maybeTrigger(): Promise<void> {
    const now = this.clock.now();
    const state = {
      pending: this.pending.length,
      lastTriggerAt: this.lastTriggerAt,
      lastCompletedAt: this.lastCompletedAt,
    };
    if (decideTrigger(state, this.config, now).trigger) await this.trigger();
  }

  /** Triggers a checkpoint now (a savepoint, a stop); returns its id, if the step triggered one. */
  async trigger(abortInFlight?: AbortReason): Promise<number | undefined> {
    this.lastTriggerAt = this.clock.now();
    const t = await this.steps.trigger(abortInFlight ? { abortInFlight } : {});
    if (t.failed) throw new JobFailedError(t.failed);
    if (abortInFlight) this.pending = [];
    if (t.checkpoint === null || t.inFlight) return undefined;
    this.pending.push(t.checkpoint);
    return t.checkpoint;
  }

  /**
   * Polls the checkpoints in flight (or, with `allFinished`, lets the final checkpoint
   * complete), publishes each completion, and aborts what timed out.
   */
  async turn(allFinished: boolean): Promise<TurnResult> {
    const completed: CheckpointManifest[] = [];
    const ids: (number | undefined)[] = this.pending.length > 0 ? [...this.pending] : allFinished ? [undefined] : [];
    for (const id of ids) {
      const s = await this.call(() => settle(this.steps, id));
      if (s.status === "pending") continue;
      if (s.status === "completed") {
        completed.push(await this.completed(s.completed));
        this.pending = this.pending.filter((p) => p > s.completed);
        continue;
      }
      if (id !== undefined) this.pending = this.pending.filter((p) => p !== id);
      if (s.status === "timeout" && id !== undefined) {
        this.onEvent({ kind: "aborted", id, reason: AbortReason.Timeout });
        if (s.failover) return { completed, failover: "checkpoints kept timing out" };
      } else if (s.status === "aborted" && id !== undefined) {
        const m = await this.checkpoints.getManifest(this.job, id);
        this.onEvent({ kind: "aborted", id, reason: m?.reason ?? AbortReason.Declined });
      } else if (s.status === "failover") {
        return { completed, failover: "too many checkpoints in a row failed" };
      }
    }
    // The autoscale round, as the AWS coordinator's round runs it (rate-limited by the step).
    const scaled = await this.call(() => this.steps.autoscale());
    if (scaled.rescaled && scaled.generation !== undefined) {
      this.pending = [];
      return { completed, rescaled: scaled.generation };
    }
    return { completed };
  }

  /** Checkpoint `id` was completed and published (by {@link settle}): its manifest, announced. */
  private async completed(id: number): Promise<CheckpointManifest> {
    const manifest = (await this.checkpoints.getManifest(this.job, id)) as CheckpointManifest;
    this.lastCompletedAt = this.clock.now();
    this.onEvent({ kind: "completed", manifest });
    return manifest;
  }

  /**
   * Fails the job for good for a mistake in its code (a `JobCodeError`; `why`
   * names the partition), as the task Lambda does on AWS: marks the job record
   * failed ({@link failJob}), so `riffle checkpoints` and `GET /jobs` say why, and
   * throws {@link JobFailedError} with the record's reason.
   */
  async fail(why: string, error: unknown): Promise<never> {
    throw new JobFailedError(await failJob(this.checkpoints, this.job, failedReason(this.job, why)), error);
  }

  /** Fails the job over (the machine's Restore); throws {@link JobFailedError} once the attempts are used up. */
  async failover(reason: string, error?: unknown): Promise<RestoreAnswer> {
    const r = await this.call(() => this.steps.restore(reason));
    if (r.failed) throw new JobFailedError(r.failed, error);
    this.onEvent({ kind: "failover", reason });
    this.pending = [];
    return r;
  }

  /** Forgets checkpoints in flight (after a restore, which aborted them). */
  reset(): void {
    this.pending = [];
  }
}
