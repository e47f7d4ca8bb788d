/**
 * The embedded runtime: a {@link PartitionScheduler} that runs every task partition
 * in this process, and a {@link CheckpointDriver} that runs the shared checkpoint
 * lifecycle — the same coordinator steps the Step Functions machine runs on AWS
 * (trigger, poll, complete, abort, restore). It has no checkpoint logic of its own.
 */

import type { Job } from "../api/environment.ts";
import { notifiedTasks } from "../checkpoint/signals.ts";
import type { CoordinatorSteps } from "../checkpoint/steps.ts";
import type { OutboxEntry } from "../envelope.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import {
  AbortReason,
  type CheckpointManifest,
  type CheckpointStore,
  type PartitionReport,
  type SavepointInfo,
} from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { OutputStore, StoredDeadLetter } from "../ports/output-store.ts";
import type { QueueDeadLetter } from "../ports/queue.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { TableStore } from "../ports/table-store.ts";
import {
  type EmbeddedOptions,
  JobFailedError,
  JobStalledError,
  MAX_BATCH,
  type TaskDeadLetter,
  type TaskProgress,
} from "./embedded-options.ts";
import { EmbeddedRequests } from "./embedded-requests.ts";
import { coordinatorOf, openJob, StateLostError, wireRuntime } from "./embedded-start.ts";
import type { CheckpointDriver } from "./lifecycle.ts";
import { type ReplayDone, ReplayError, ReplayInterruptedError } from "./replay-requests.ts";
import type { BatchFailure, PartitionScheduler } from "./scheduler.ts";
import type { TaskRunner } from "./task-runner.ts";

export type { EmbeddedOptions, ReplayDone, TaskDeadLetter, TaskProgress };
export { JobFailedError, JobStalledError, MAX_BATCH, ReplayError, ReplayInterruptedError, StateLostError };

/** Runs a job in this process. */
export class EmbeddedRuntime {
  readonly graph: JobGraph;
  /** The plan the job runs now (autoscaling changes its parallelism). */
  plan: Plan;
  readonly store: StateStore;
  readonly checkpoints: CheckpointStore;
  readonly clock: Clock;
  /** Where committed output is published (observed by `onOutput`). */
  readonly output: OutputStore;
  /** Where the job's dynamic tables live. */
  readonly tables: TableStore;
  private readonly options: EmbeddedOptions;
  private readonly steps: CoordinatorSteps;
  private readonly driver: CheckpointDriver;
  private readonly scheduler: PartitionScheduler;
  /** Records set aside by operators after repeated failures (published with their checkpoint). */
  readonly deadLetters: TaskDeadLetter[] = [];
  /** Failovers so far in this run. */
  restarts = 0;
  /** Rescales so far in this run (autoscaling's or requested). */
  rescales = 0;
  /** Wall time the last restore took (bump generation, cut the logs, relaunch). */
  lastRestoreMs: number | undefined;
  /** Current generation. */
  generation = 0;
  /** The newest completed checkpoint. */
  lastCheckpoint: CheckpointManifest | undefined;
  private done = false;
  private started = false;
  private failoverRequested: string | undefined;
  private rescaleRequested: Readonly<Record<string, number>> | undefined;
  /** Savepoints, restores and dead-letter replays asked of the running job. */
  private readonly requests: EmbeddedRequests;

  private readonly queue: NonNullable<EmbeddedOptions["queue"]>;

  /** Builds and plans `job` (a mistake in it throws here) and connects it to the ports of `options`. */
  constructor(job: Job, options: EmbeddedOptions = {}) {
    this.options = options;
    const w = wireRuntime(job, options, (d) => this.deadLetters.push(d));
    ({ graph: this.graph, plan: this.plan, clock: this.clock, store: this.store } = w);
    ({ checkpoints: this.checkpoints, queue: this.queue, output: this.output, tables: this.tables } = w);
    ({ steps: this.steps, driver: this.driver, scheduler: this.scheduler } = w);
    this.requests = new EmbeddedRequests(this, {
      started: () => this.started,
      driver: this.driver,
      restoreFrom: (name) => this.restoreFrom(name),
    });
  }

  /** True once bounded input is fully processed and its final checkpoint published. */
  get finished(): boolean {
    return this.done;
  }

  /** Progress per task. */
  progress(): TaskProgress[] {
    return this.scheduler.progress();
  }

  /** Each loaded partition's report (`core/runtime/partition-stats.ts`), with its backlog. */
  partitionReports(): PartitionReport[] {
    return this.scheduler.partitionReports();
  }

  /** Records read from sources so far (re-reads after a restore included). */
  sourceRecords(): number {
    return this.scheduler.sourceRecords();
  }

  /** Envelopes that the queues dead-lettered after too many receives. */
  queueDeadLetters(): QueueDeadLetter[] {
    return this.scheduler.queueDeadLetters();
  }

  /** Every runner of the current generation. */
  get taskRunners(): readonly TaskRunner[] {
    return this.scheduler.taskRunners;
  }

  /**
   * Runs until bounded input is fully processed and checkpointed, or until `signal`
   * aborts (then it completes one more checkpoint first). Resumes from the last
   * completed checkpoint when the stores already hold this job.
   */
  async run(): Promise<void> {
    try {
      await this.loop();
    } finally {
      await this.scheduler.close();
      this.requests.end();
    }
  }

  private async loop(): Promise<void> {
    if (!this.started) await this.start();
    let stopAt: number | undefined;
    let yielded = performance.now();
    while (!this.done) {
      if (this.options.signal?.aborted && stopAt === undefined) {
        stopAt = (await this.driver.trigger(AbortReason.JobStopped)) ?? this.lastCheckpoint?.id ?? 0;
      }
      // In-memory ports resolve in microtasks; let timers and signals (Ctrl-C, progress) run now and then.
      if (performance.now() - yielded > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
      if (stopAt === undefined) await this.driver.maybeTrigger();
      if (this.rescaleRequested && (await this.rescaleNow())) continue;
      if (this.failoverRequested) {
        const reason = this.failoverRequested;
        this.failoverRequested = undefined;
        await this.failover({ reason, error: undefined });
        continue;
      }
      const { progressed, failure } = await this.scheduler.round();
      if (failure) {
        await this.failover(failure);
        continue;
      }
      await this.scheduler.tick(this.generation);
      if (await this.checkpointTurn()) continue;
      if (await this.requests.serve()) continue;
      if (stopAt !== undefined && (this.lastCheckpoint?.id ?? 0) >= stopAt)
        return this.requests.stopped(this.options.stopWithSavepoint);
      if (progressed || this.done) continue;
      await this.idle();
    }
    await this.requests.finishReplays();
    await this.drain();
  }

  /** The job finished: let the partitions that want them take the checkpoint-complete signals still queued. */
  private async drain(): Promise<void> {
    if (notifiedTasks(this.plan, this.graph).length > 0) await this.scheduler.drain();
  }

  /** One turn of the checkpoint driver; true when the job failed over. */
  private async checkpointTurn(): Promise<boolean> {
    const turn = await this.driver.turn(this.scheduler.allFinished);
    for (const m of turn.completed) {
      this.lastCheckpoint = m;
      if (m.final) this.done = true;
    }
    if (turn.rescaled !== undefined) {
      this.rescales++;
      this.driver.reset();
      await this.relaunch(turn.rescaled);
      return true;
    }
    if (turn.failover === undefined) return false;
    await this.failover({ reason: turn.failover, error: undefined });
    return true;
  }

  /** Nothing ran: sleep until there may be something to do, or fail over a stalled job. */
  private async idle(): Promise<void> {
    const next = this.scheduler.whenIdle();
    if (next.sleepMs !== undefined) await this.clock.sleep(next.sleepMs);
    else if (next.stalled !== undefined) {
      await this.failover({ reason: next.stalled, error: new JobStalledError(next.stalled) });
    }
  }

  /**
   * Takes a savepoint: triggers a checkpoint, waits for it (and its output to be
   * published), and materializes it. Resolves while {@link run} is running.
   */
  savepoint(name: string): Promise<SavepointInfo> {
    return this.requests.savepoint(name);
  }

  /**
   * Replays dead letters while {@link run} runs; resolves once the replay is durable
   * (`replay-requests.ts`). `now` fixes its sequence numbers: the same letters with
   * the same `now` again (after a crash) are taken at most once.
   */
  replay(letters: readonly StoredDeadLetter[], now: number): Promise<ReplayDone> {
    return this.requests.replay(letters, now);
  }

  /**
   * Restores the job from savepoint `name` (at the job's parallelism) while {@link run}
   * runs: between two batches it runs the shared savepoint-restore step and relaunches
   * every partition at the new generation. Resolves with that generation.
   */
  restore(name: string): Promise<{ generation: number }> {
    return this.requests.restore(name);
  }

  private async restoreFrom(name: string): Promise<{ generation: number }> {
    await this.scheduler.settle(); // no batch of the running generation beside the restore
    const { generation } = await this.steps.restoreSavepoint(name);
    this.driver.reset();
    await this.relaunch(generation);
    return { generation };
  }

  /** Runs the partitions of `generation` (a start, a failover, a restore) from the last completed checkpoint. */
  private async relaunch(generation: number): Promise<void> {
    this.generation = generation;
    this.plan = this.steps.plan;
    this.lastCheckpoint = await coordinatorOf(this).lastCompleted();
    await this.scheduler.close();
    this.scheduler.launch(generation, this.plan);
  }

  /** Sends envelopes into the job's queues (ingest wake-ups, replays), stamped by the caller. */
  async send(entries: readonly OutboxEntry[]): Promise<void> {
    await this.queue.send(entries);
  }

  /** Creates, resumes, or restores the job (from a savepoint), then launches its partitions. */
  private async start(): Promise<void> {
    this.started = true;
    const { plan, graph, checkpoints, clock, output, steps, options } = this;
    const { fromSavepoint } = options;
    const durableOutput = options.output !== undefined;
    await this.relaunch(
      await openJob({ plan, graph, checkpoints, clock, output, steps, durableOutput, fromSavepoint }),
    );
  }

  /** Asks the runtime to fail over at its next turn (as if a task had failed). */
  requestFailover(reason: string): void {
    this.failoverRequested = reason;
  }

  /**
   * Asks the runtime to rescale tasks (task id → parallelism) at its next turn, at the
   * newest completed checkpoint (the shared rescale step); it waits for one of the
   * running generation to complete first. Autoscaling does the same by itself.
   */
  requestRescale(parallelism: Readonly<Record<string, number>>): void {
    this.rescaleRequested = parallelism;
  }

  /** Runs a requested rescale once a checkpoint of this generation completed; true when it relaunched. */
  private async rescaleNow(): Promise<boolean> {
    if (this.lastCheckpoint?.generation !== this.generation) return false;
    await this.scheduler.settle();
    const r = await this.steps.rescale(this.rescaleRequested ?? {});
    this.rescaleRequested = undefined;
    if (!r.rescaled || r.generation === undefined) return false;
    this.rescales++;
    this.driver.reset();
    await this.relaunch(r.generation);
    return true;
  }

  /**
   * Restores the job to its last completed checkpoint, per the restart strategy (the
   * shared restore step); a fatal failure (a mistake in the job's code) fails the job instead.
   */
  private async failover(failure: BatchFailure): Promise<void> {
    await this.scheduler.settle(); // the batches still running beside the rounds end first
    if (failure.fatal) await this.driver.fail(failure.reason, failure.error);
    const t0 = performance.now();
    const r = await this.driver.failover(failure.reason, failure.error);
    this.restarts++;
    await this.clock.sleep(this.graph.config.restart.delayMs);
    await this.relaunch(r.generation);
    this.lastRestoreMs = performance.now() - t0;
  }
}
