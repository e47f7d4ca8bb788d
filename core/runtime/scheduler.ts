/**
 * The embedded runtime's scheduler of partitions: every task partition's
 * TaskRunner in one process, fed by in-memory FIFO queues in the way the Lambda
 * SQS event source mapping feeds them — one in-flight batch per group, at most 10
 * envelopes a batch, visibility timeout and redelivery, partial batch failures that
 * fail the rest of the group, and a dead-letter queue after `maxReceiveCount`
 * receives. It knows nothing of checkpoints beyond passing their envelopes on.
 */

import { partitionFailure } from "../checkpoint/job-failure.ts";
import { tickEntries } from "../checkpoint/signals.ts";
import { describeCause, failsJob, RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import type { CheckpointStore, PartitionReport } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import { ManualClock } from "../ports/clock.ts";
import type { QueueDeadLetter, ReceivedMessage } from "../ports/queue.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { TableStore } from "../ports/table-store.ts";
import { callsOut } from "../remote/targets.ts";
import { ackDone, type BatchFailure, invokeTask, retryFailed } from "./batch-receipts.ts";
import { type EmbeddedOptions, MAX_BATCH, type TaskProgress } from "./embedded-options.ts";
import { Beside, runRound, type StepResult as Step } from "./round.ts";
import {
  backpressured,
  nextWake,
  partitionReports,
  queueDeadLetters,
  sourceRecords,
  taskProgress,
} from "./scheduler-views.ts";
import { TaskRunner } from "./task-runner.ts";

export type { BatchFailure } from "./batch-receipts.ts";

export { BACKPRESSURE_ENVELOPES } from "./scheduler-views.ts";

/** Checkpoint intervals with nothing to run before a job whose partitions run through `invoke` counts as stalled. */
const INVOKE_IDLE_ROUNDS = 50;

type StepResult = Step<BatchFailure>;

/** What the scheduler runs on. */
export interface SchedulerContext {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly store: StateStore;
  readonly checkpoints: CheckpointStore;
  readonly clock: Clock;
  readonly queue: NonNullable<EmbeddedOptions["queue"]>;
  readonly options: EmbeddedOptions;
  /** The dynamic tables (the job's own, and those its table sources read). */
  readonly tables?: TableStore;
}

/** Runs the partitions of one generation; see the module comment. */
export class PartitionScheduler {
  private readonly c: SchedulerContext;
  /** The plan of the current generation (the context's, or a rescale's). */
  private plan: Plan;
  private runners: TaskRunner[] = [];
  private byAddress = new Map<string, TaskRunner>();
  /** Partitions with a tick in their queue. */
  private readonly ticked = new Set<TaskRunner>();
  /** Per task: whether it runs its batch beside the rest of a round. */
  private readonly overlapping = new Map<string, boolean>();
  /** The tasks that run their batches beside the rounds (core/runtime/round.ts). */
  private beside = new Beside<BatchFailure>();
  /** Rounds in a row in which nothing ran (counted with a simulation's `invoke`). */
  private idleRounds = 0;
  /** Records read by runners of earlier generations. */
  private sourceRecordsBefore = 0;

  constructor(context: SchedulerContext) {
    this.c = context;
    this.plan = context.plan;
  }

  /** Every runner of the current generation. */
  get taskRunners(): readonly TaskRunner[] {
    return this.runners;
  }

  /**
   * Drops every runner's chain in an orderly way (rich functions' `close`), before a
   * relaunch or at the end, once the batches running beside the rounds are done.
   */
  async close(): Promise<void> {
    await this.settle();
    for (const r of this.runners) await r.close();
  }

  /**
   * Lets the batches running beside the rounds finish, and starts no next one until
   * the next round: before anything that replaces the partitions (a failover, a
   * restore, a rescale).
   */
  async settle(): Promise<void> {
    await this.beside.settle();
  }

  /**
   * Creates the runners of `generation` (the restore or start step has sent the start
   * signals), at `plan`'s parallelism (default: the one it runs).
   */
  launch(generation: number, plan: Plan = this.plan): void {
    const { graph, queue, store, clock, checkpoints, options, tables } = this.c;
    this.plan = plan;
    this.sourceRecordsBefore = this.sourceRecords();
    this.runners = [];
    this.byAddress = new Map();
    this.ticked.clear();
    this.overlapping.clear();
    this.beside = new Beside(); // the last generation's (settled by close) results are dropped
    for (const task of plan.tasks) {
      for (let p = 0; p < task.parallelism; p++) {
        const runner = new TaskRunner({
          plan,
          graph,
          task: task.id,
          partition: p,
          queue,
          store,
          clock,
          generation,
          checkpoints,
          ...(options.ingest ? { ingest: options.ingest } : {}),
          ...(tables ? { tables } : {}),
          ...(queue.peek && this.overlaps(task) ? { lookAhead: () => queue.peek?.(task.id, p, MAX_BATCH) ?? [] } : {}),
        });
        this.runners.push(runner);
        this.byAddress.set(`${task.id}#${p}`, runner);
      }
    }
  }

  /**
   * What to do after a round that ran nothing: sleep until the next timer or visible
   * message (or a while, for an ingest source waiting for an append, or a checkpoint
   * interval, for partitions that run through the simulation's `invoke`, as on AWS);
   * nothing, once every partition finished (the final checkpoint completes next); or
   * the job stalled, with why.
   */
  whenIdle(): { sleepMs?: number; stalled?: string } {
    const { clock, options, graph } = this.c;
    const plan = this.plan;
    const next = this.nextWake();
    if (next !== undefined) return { sleepMs: Math.max(1, next - clock.now()) };
    if (this.allFinished) return {};
    if (options.simulation?.invoke && this.idleRounds++ < INVOKE_IDLE_ROUNDS) {
      return { sleepMs: graph.config.checkpoint.intervalMs };
    }
    if (this.anyParked) return { sleepMs: options.idleSleepMs ?? 20 };
    const dlq = this.queueDeadLetters();
    return {
      stalled:
        `job '${plan.job}' stalled: no messages left but ${this.unfinished} partitions have not finished` +
        (dlq.length ? `; ${dlq.length} envelopes were dead-lettered, last: ${dlq[dlq.length - 1]?.error}` : ""),
    };
  }

  /**
   * One round over every task, downstream first (core/runtime/round.ts: a task that
   * calls out, {@link callsOut}, runs its batches beside the others, across rounds);
   * says whether anything ran, or which partition failed.
   */
  async round(): Promise<{ progressed: boolean; failure?: BatchFailure }> {
    const downstreamFirst = [...this.plan.tasks].reverse(); // so the pipeline drains before sources read more
    const tasks = this.c.options.simulation?.order?.(downstreamFirst) ?? downstreamFirst;
    const hooks = {
      step: (task: TaskPlan) => this.step(task),
      overlaps: (task: TaskPlan) => this.overlaps(task),
      // Until each overlapping task's queue holds a whole batch beyond the one it runs.
      wantsMore: () => tasks.every((t) => !this.overlaps(t) || this.c.queue.backlog(t.id) < 2 * MAX_BATCH),
      holdsBack: () => backpressured(this.plan, this.c.queue),
    };
    const results = await runRound(tasks, hooks, this.beside);
    const progressed = results.some((r) => r !== "idle");
    if (progressed) this.idleRounds = 0;
    const failure = results.find((r): r is BatchFailure => r !== "ok" && r !== "idle");
    return failure ? { progressed, failure } : { progressed };
  }

  /** True when `task` runs its batch beside the rest of a round (see {@link round}); never under a simulation. */
  private overlaps(task: TaskPlan): boolean {
    let o = this.overlapping.get(task.id);
    if (o === undefined) {
      o = !task.isSource && this.c.options.simulation === undefined && callsOut(this.c.graph, task);
      this.overlapping.set(task.id, o);
    }
    return o;
  }

  /** Runs rounds until nothing is left to run (or a batch fails), at most `maxRounds`. */
  async drain(maxRounds = 100): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      const { progressed, failure } = await this.round();
      if (!progressed || failure) return;
    }
  }

  /** Receives and runs one batch of `task`. */
  private async step(task: TaskPlan): Promise<StepResult> {
    const msgs = await this.c.queue.receive(task.id, this.c.options.simulation?.batchSize?.() ?? MAX_BATCH);
    if (msgs.length === 0) return "idle";
    const invoke = this.c.options.simulation?.invoke;
    if (invoke) return invokeTask(this.c, task, msgs, invoke);
    // A receive may span groups, as in SQS: each group is one partition's batch.
    const groups = new Map<number, ReceivedMessage[]>();
    for (const m of msgs) {
      const g = groups.get(m.group);
      if (g) g.push(m);
      else groups.set(m.group, [m]);
    }
    let outcome: "ok" | BatchFailure = "ok";
    for (const [group, batch] of groups) {
      const r = await this.runBatch(task, group, batch);
      if (r !== "ok" && outcome === "ok") outcome = r;
    }
    return outcome;
  }

  /** Runs one partition's batch, then deletes what succeeded and returns the rest (partial batch failure). */
  private async runBatch(
    task: TaskPlan,
    group: number,
    msgs: readonly ReceivedMessage[],
  ): Promise<"ok" | BatchFailure> {
    const { options, clock, queue } = this.c;
    const runner = this.byAddress.get(`${task.id}#${group}`);
    if (!runner && group >= task.parallelism) {
      // A partition a rescale removed: what is left in its group is of an older generation.
      await queue.ack(
        task.id,
        msgs.map((m) => m.receipt),
      );
      return "ok";
    }
    if (!runner) throw new RiffleError("no-such-partition", `no runner for ${task.id}[${group}]`);
    options.beforeBatch?.(runner);
    this.ticked.delete(runner);
    const inbound = msgs.map((m) => ({ body: m.body, receiveCount: m.receiveCount }));
    const wrap = options.simulation?.wrapBatch;
    const result = await (wrap ? wrap(runner, inbound, () => runner.handle(inbound)) : runner.handle(inbound));
    if (options.batchTimeMs && clock instanceof ManualClock) clock.advance(options.batchTimeMs);
    if (options.simulation?.deleteAfterBatch?.() === false) return "ok"; // the container died before deleting
    const ok = result.failedFrom ?? msgs.length;
    await ackDone(this.c, task, msgs.slice(0, ok));
    if (ok >= msgs.length) return "ok";
    if (failsJob(result.error)) {
      return { reason: partitionFailure(task.id, group, result.error), error: result.error, fatal: true };
    }
    return retryFailed(this.c, task, msgs.slice(ok), describeCause(result.error), result.error);
  }

  /** Sends a tick to every partition whose processing-time timers are due (the coordinator's ticks, on AWS). */
  async tick(generation: number): Promise<void> {
    const now = this.c.clock.now();
    const due = this.runners.filter((r) => {
      const t = r.nextProcessingTimer();
      return t !== undefined && t <= now && !this.ticked.has(r);
    });
    if (due.length === 0) return;
    for (const r of due) this.ticked.add(r);
    await this.c.queue.send(
      tickEntries(
        due.map((r) => ({ task: r.task.id, partition: r.partition })),
        generation,
      ),
    );
  }

  /** The earliest of the next processing-time timer and the next message to become visible. */
  nextWake(): number | undefined {
    return nextWake(this.runners, this.c.queue);
  }

  /** True once every partition forwarded end-of-input. */
  get allFinished(): boolean {
    return this.runners.length > 0 && this.runners.every((r) => r.finished);
  }

  /** Partitions not finished. */
  get unfinished(): number {
    return this.runners.filter((r) => !r.finished).length;
  }

  /** True while some ingest source waits for an append. */
  get anyParked(): boolean {
    return this.runners.some((r) => r.parked);
  }

  /** Progress per task. */
  progress(): TaskProgress[] {
    return taskProgress(this.plan, this.runners, this.c.queue);
  }

  /** Each loaded partition's report, with its backlog, in plan order. */
  partitionReports(): PartitionReport[] {
    return partitionReports(this.runners, this.c.queue, this.c.clock.now());
  }

  /** Records read from sources so far (re-reads after a restore included). */
  sourceRecords(): number {
    return sourceRecords(this.runners, this.sourceRecordsBefore);
  }

  /** Envelopes that the queues dead-lettered after too many receives. */
  queueDeadLetters(): QueueDeadLetter[] {
    return queueDeadLetters(this.plan, this.c.queue);
  }
}
