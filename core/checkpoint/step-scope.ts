/**
 * What every coordinator step works from: the context as deployed, the context with
 * the plan the job runs now (autoscaling changes it), and the small helpers the steps
 * share (the job record, a coordinator resumed from the store). `steps.ts` and
 * `scale-steps.ts` both build on one scope per {@link CoordinatorSteps} instance.
 */

import { RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { rescaledPlan } from "../graph/rescale.ts";
import type { CheckpointStore, JobRecord } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { CoordinatorWaker } from "../ports/coordinator-waker.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { Queue } from "../ports/queue.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { TableStore } from "../ports/table-store.ts";
import type { TaskScaler } from "../ports/task-scaler.ts";
import type { TimerHints } from "../ports/timer-hints.ts";
import { CheckpointCoordinator, DeferredRecord } from "./coordinator.ts";
import { updateJobRecord } from "./job-failure.ts";
import type { LazyMarks } from "./published-marks.ts";

/** What the steps work on. */
export interface StepContext {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly state: StateStore;
  readonly checkpoints: CheckpointStore;
  /** Only `send` is used. */
  readonly queue: Pick<Queue, "send">;
  readonly output: OutputStore;
  /** Where the job's dynamic tables live; without it, a job with dynamic tables keeps none. */
  readonly dynamicTables?: TableStore;
  readonly clock: Clock;
  /** Where runners record their next processing-time timer (AWS); without it, `CoordinatorSteps.tick` sends nothing. */
  readonly timers?: TimerHints;
  /** Measures task queues and applies concurrency (autoscaling); without one, nothing autoscales. */
  readonly scaler?: TaskScaler;
  /**
   * Starts the coordinator again after it slept. With one, a quiet job's coordinator
   * goes to sleep instead of triggering checkpoints (scale to zero, `sleep.ts`).
   */
  readonly waker?: CoordinatorWaker;
  /**
   * The published marks a warm coordinator container keeps between rounds
   * (`published-marks.ts`): the round's completion writes them lazily. Without it,
   * every publication writes its marks.
   */
  readonly marks?: LazyMarks;
}

/** The contexts and shared helpers of one `CoordinatorSteps`; see the module comment. */
export class StepScope {
  /** The context as deployed. */
  readonly deployed: StepContext;
  /** The context with the plan the job runs now (autoscaling changes it; {@link sync}). */
  context: StepContext;
  /** True once this instance rescaled the job (without `autoscale`: a test's or the simulation's rescale). */
  rescaled = false;
  /** A completion's job-record change that the round's trigger writes with its own (`round.ts`). */
  readonly deferred = new DeferredRecord();

  constructor(context: StepContext) {
    this.deployed = context;
    this.context = context;
  }

  /**
   * Reads the job record's parallelism into the plan the steps work with. Only a job
   * with `autoscale` (or one this instance rescaled) changes its parallelism, so only
   * such a job pays the read. First writes what a completion deferred, unless `keepDeferred`
   * (the trigger, which writes it with its own change).
   */
  async sync(keepDeferred = false): Promise<void> {
    if (!keepDeferred) await this.flush();
    if (!this.deployed.graph.config.aws.autoscale && !this.rescaled) return;
    const record = await this.deployed.checkpoints.loadJob(this.deployed.plan.job);
    const plan = rescaledPlan(this.deployed.plan, record?.parallelism);
    if (plan !== this.context.plan) this.context = { ...this.deployed, plan };
  }

  /**
   * A coordinator of the running plan, its checkpoints in flight reloaded from the
   * store. `defer`: its completions leave their job-record change in {@link deferred}
   * (a coordinator with something deferred always sees it, and its next record write
   * includes it).
   */
  async coordinator(defer = false): Promise<CheckpointCoordinator> {
    const { plan, checkpoints, clock, graph } = this.context;
    const deferred = defer || this.deferred.change ? { deferred: this.deferred } : {};
    const config = graph.config.checkpoint;
    const coordinator = new CheckpointCoordinator({ plan, store: checkpoints, clock, config, ...deferred });
    await coordinator.resume();
    return coordinator;
  }

  /** Writes what a completion deferred, if anything ({@link CheckpointCoordinator.flush}). */
  async flush(): Promise<void> {
    if (!this.deferred.change) return;
    const { plan, checkpoints, clock, graph } = this.context;
    const config = graph.config.checkpoint;
    await new CheckpointCoordinator({ plan, store: checkpoints, clock, config, deferred: this.deferred }).flush();
  }

  /** The job record; throws when the job never started. */
  async record(): Promise<JobRecord> {
    const r = await this.context.checkpoints.loadJob(this.context.plan.job);
    if (!r) throw new RiffleError("job-not-started", `job '${this.context.plan.job}' has no record yet`);
    return this.deferred.apply(r);
  }

  /** Rewrites the job record with `change`, retrying while the counter moves under it. */
  async saveRecord(change: (r: JobRecord) => JobRecord): Promise<void> {
    await updateJobRecord(this.context.checkpoints, this.context.plan.job, change);
  }
}
