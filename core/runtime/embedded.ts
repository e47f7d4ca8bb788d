/**
 * The embedded runtime: a {@link PartitionScheduler} that runs every task partition
 * in this process, and a {@link CheckpointDriver} that runs the shared checkpoint
 * lifecycle — the same coordinator steps the Step Functions machine runs on AWS
 * (trigger, poll, complete, abort, restore). It has no checkpoint logic of its own.
 */

import { buildGraph, type Job } from "../api/environment.ts";
import { checkSavepointName, SavepointError, takeSavepoint } from "../checkpoint/savepoint.ts";
import { RestoreRequests, SavepointRequests } from "../checkpoint/savepoint-requests.ts";
import { notifiedTasks } from "../checkpoint/signals.ts";
import { CoordinatorSteps } from "../checkpoint/steps.ts";
import { replayGroups } from "../control/replay.ts";
import { replayRouter } from "../control/replay-routing.ts";
import type { OutboxEntry } from "../envelope.ts";
import { checkIngestFed } from "../graph/checks.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { planJob } from "../graph/planner.ts";
import { InMemoryCheckpointStore } from "../memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../memory/in-memory-output-store.ts";
import { InMemoryQueue } from "../memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../memory/in-memory-state-store.ts";
import { InMemoryTaskScaler } from "../memory/in-memory-task-scaler.ts";
import {
  AbortReason,
  type CheckpointManifest,
  type CheckpointStore,
  type SavepointInfo,
} from "../ports/checkpoint-store.ts";
import { type Clock, SystemClock } from "../ports/clock.ts";
import type { OutputStore, StoredDeadLetter } from "../ports/output-store.ts";
import type { QueueDeadLetter } from "../ports/queue.ts";
import type { StateStore } from "../ports/state-store.ts";
import {
  type EmbeddedOptions,
  JobFailedError,
  JobStalledError,
  MAX_BATCH,
  type TaskDeadLetter,
  type TaskProgress,
} from "./embedded-options.ts";
import { ObservedOutputStore } from "./embedded-output.ts";
import { coordinatorOf, openJob, StateLostError } from "./embedded-start.ts";
import { CheckpointDriver } from "./lifecycle.ts";
import { type ReplayDone, ReplayError, ReplayInterruptedError, ReplayRequests } from "./replay-requests.ts";
import { type BatchFailure, PartitionScheduler } from "./scheduler.ts";
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
  /** Savepoints asked for and the checkpoint each waits for. */
  private readonly savepointRequests = new SavepointRequests();
  /** Restores from savepoints asked for while the job runs. */
  private readonly restoreRequests = new RestoreRequests();
  /** Dead-letter replays asked for, until they are durable. */
  private readonly replayRequests = new ReplayRequests();

  constructor(job: Job, options: EmbeddedOptions = {}) {
    this.options = options;
    this.graph = buildGraph(job, options.parallelism === undefined ? {} : { parallelism: options.parallelism });
    this.plan = planJob(this.graph);
    if (!options.ingest) checkIngestFed(this.graph);
    this.clock = options.clock ?? new SystemClock();
    this.store = options.store ?? new InMemoryStateStore();
    this.checkpoints = options.checkpoints ?? new InMemoryCheckpointStore();
    const queue = options.queue ?? new InMemoryQueue(this.clock);
    this.output = new ObservedOutputStore(options.output ?? new InMemoryOutputStore(), {
      ...(options.onOutput ? { onOutput: options.onOutput } : {}),
      onDeadLetter: (d) => this.deadLetters.push(d),
    });
    const { plan, graph, store, checkpoints, clock, output } = this;
    const scaler = options.scaler ?? new InMemoryTaskScaler(queue);
    this.steps = new CoordinatorSteps({ plan, graph, state: store, checkpoints, queue, output, clock, scaler });
    this.driver = new CheckpointDriver({
      steps: this.steps,
      checkpoints,
      job: plan.job,
      config: graph.config.checkpoint,
      clock,
      ...(options.onCheckpoint ? { onEvent: options.onCheckpoint } : {}),
    });
    this.scheduler = new PartitionScheduler({ plan, graph, store, checkpoints, clock, queue, options });
    this.queue = queue;
  }

  private readonly queue: NonNullable<EmbeddedOptions["queue"]>;

  /** True once bounded input is fully processed and its final checkpoint published. */
  get finished(): boolean {
    return this.done;
  }

  /** Progress per task. */
  progress(): TaskProgress[] {
    return this.scheduler.progress();
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
      this.restoreRequests.rejectAll(new SavepointError(`job '${this.plan.job}' is no longer running`));
      this.replayRequests.rejectAll(
        new ReplayInterruptedError(`job '${this.plan.job}' ended before the replay was durable`),
      );
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
      await this.serveSavepoints();
      await this.serveReplays(true);
      if (await this.restoreRequests.serve((name) => this.restoreFrom(name))) continue;
      if (stopAt !== undefined && (this.lastCheckpoint?.id ?? 0) >= stopAt) return this.stopped();
      if (progressed || this.done) continue;
      await this.idle();
    }
    // A replay the final checkpoint covers (or that a finished partition refuses) is answered now.
    for (let n = 3 * this.replayRequests.size; n > 0 && this.replayRequests.size > 0; n--)
      await this.serveReplays(false);
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

  /** The stop's checkpoint completed: materialize it as a savepoint if asked, and return. */
  private async stopped(): Promise<void> {
    if (this.options.stopWithSavepoint && this.lastCheckpoint) {
      const { plan, store, checkpoints, clock } = this;
      await takeSavepoint(plan, store, checkpoints, clock, this.lastCheckpoint, this.options.stopWithSavepoint);
    }
  }

  /**
   * Takes a savepoint: triggers a checkpoint, waits for it (and its output to be
   * published), and materializes it. Resolves while {@link run} is running.
   */
  async savepoint(name: string): Promise<SavepointInfo> {
    checkSavepointName(name);
    if (this.done) throw new SavepointError(`job '${this.plan.job}' has finished; take a savepoint while it runs`);
    if (await this.checkpoints.getSavepoint(this.plan.job, name)) {
      throw new SavepointError(`job '${this.plan.job}' already has a savepoint named '${name}'`);
    }
    return this.savepointRequests.add(name);
  }

  private async serveSavepoints(): Promise<void> {
    await this.savepointRequests.serve({
      inFlight: this.driver.inFlight,
      triggerCheckpoint: () => this.driver.trigger(),
      lastCheckpoint: this.lastCheckpoint,
      take: (m, name) => takeSavepoint(this.plan, this.store, this.checkpoints, this.clock, m, name),
    });
  }

  /**
   * Replays dead letters while {@link run} runs; resolves once the replay is durable
   * (`replay-requests.ts`). `now` fixes its sequence numbers: the same letters with
   * the same `now` again (after a crash) are taken at most once.
   */
  async replay(letters: readonly StoredDeadLetter[], now: number): Promise<ReplayDone> {
    if (this.done) throw new ReplayError(`job '${this.plan.job}' has finished; replay while it runs`);
    return this.replayRequests.add(replayGroups(letters, replayRouter(this.plan, this.graph)), now);
  }

  private async serveReplays(trigger: boolean): Promise<void> {
    const { generation, lastCheckpoint, store: state, queue, driver } = this;
    await this.replayRequests.serve({
      generation,
      lastCheckpoint,
      inFlight: driver.inFlight,
      state,
      send: (entries) => queue.send(entries),
      triggerCheckpoint: () => (trigger ? driver.trigger() : Promise.resolve(undefined)),
    });
  }

  /**
   * Restores the job from savepoint `name` (at the job's parallelism) while {@link run}
   * runs: between two batches it runs the shared savepoint-restore step and relaunches
   * every partition at the new generation. Resolves with that generation.
   */
  async restore(name: string): Promise<{ generation: number }> {
    checkSavepointName(name);
    if (this.done || !this.started) {
      throw new SavepointError(`job '${this.plan.job}' is not running; restore a savepoint while it runs`);
    }
    return this.restoreRequests.add(name);
  }

  private async restoreFrom(name: string): Promise<{ generation: number }> {
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
    if (failure.fatal) await this.driver.fail(failure.reason, failure.error);
    const t0 = performance.now();
    const r = await this.driver.failover(failure.reason, failure.error);
    this.restarts++;
    await this.clock.sleep(this.graph.config.restart.delayMs);
    await this.relaunch(r.generation);
    this.lastRestoreMs = performance.now() - t0;
  }
}
