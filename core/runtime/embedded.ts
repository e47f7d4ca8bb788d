/**
 * The embedded runtime: every task partition's TaskRunner in one process, fed by
 * in-memory FIFO queues through a scheduler that behaves like the Lambda SQS event
 * source mapping — one in-flight batch per group, at most 10 envelopes a batch,
 * visibility timeout and redelivery, partial batch failures that fail the rest of
 * the group, and a dead-letter queue after `maxReceiveCount` receives.
 *
 * It also plays the checkpoint coordinator: it injects barriers, completes
 * checkpoints from the partitions' acks, publishes sink output up to each
 * completed cut (two-phase commit), compacts the log behind it, and fails the job
 * over to the last completed checkpoint when a task keeps failing.
 */

import { buildGraph, type Job } from "../api/environment.ts";
import { CheckpointCoordinator } from "../checkpoint/coordinator.ts";
import { checkSameParallelism, restoreToCheckpoint } from "../checkpoint/restore.ts";
import { checkSavepointName, restoreFromSavepoint, SavepointError, takeSavepoint } from "../checkpoint/savepoint.ts";
import { SavepointRequests } from "../checkpoint/savepoint-requests.ts";
import { barrierEntries, startEntries } from "../checkpoint/signals.ts";
import { type OutboxEntry, TICK_CHANNEL } from "../envelope.ts";
import { describeCause } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import { planJob } from "../graph/planner.ts";
import { InMemoryCheckpointStore } from "../memory/in-memory-checkpoint-store.ts";
import { InMemoryQueue } from "../memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../memory/in-memory-state-store.ts";
import {
  AbortReason,
  type CheckpointManifest,
  type CheckpointStore,
  type SavepointInfo,
} from "../ports/checkpoint-store.ts";
import { type Clock, ManualClock, SystemClock } from "../ports/clock.ts";
import type { QueueDeadLetter, ReceivedMessage } from "../ports/queue.ts";
import type { StateStore } from "../ports/state-store.ts";
import {
  type EmbeddedOptions,
  JobFailedError,
  JobStalledError,
  MAX_BATCH,
  type OutputPublisher,
  type TaskDeadLetter,
  type TaskProgress,
} from "./embedded-options.ts";
import { TaskRunner } from "./task-runner.ts";

export {
  type EmbeddedOptions,
  JobFailedError,
  JobStalledError,
  MAX_BATCH,
  type OutputPublisher,
  type TaskDeadLetter,
  type TaskProgress,
};

/** Runs a job in this process. */
export class EmbeddedRuntime {
  readonly graph: JobGraph;
  readonly plan: Plan;
  readonly store: StateStore;
  readonly checkpoints: CheckpointStore;
  readonly clock: Clock;
  readonly coordinator: CheckpointCoordinator;
  private readonly queue: NonNullable<EmbeddedOptions["queue"]>;
  private readonly o: EmbeddedOptions;
  private runners: TaskRunner[] = [];
  private byAddress = new Map<string, TaskRunner>();
  /** Per partition: last segment whose sink output was published. */
  private readonly published = new Map<string, number>();
  /** Per partition: segments folded into the base. */
  private readonly compacted = new Map<string, number>();
  /** Records set aside by operators after repeated failures (published with their checkpoint). */
  readonly deadLetters: TaskDeadLetter[] = [];
  /** Restores done so far. */
  restarts = 0;
  /** Wall time the last restore took (bump generation, cut the logs, relaunch). */
  lastRestoreMs: number | undefined;
  /** Current generation. */
  generation = 0;
  /** The newest completed checkpoint. */
  lastCheckpoint: CheckpointManifest | undefined;
  private done = false;
  private started = false;
  private failoverRequested: string | undefined;
  /** Partitions with a tick in their queue. */
  private readonly ticked = new Set<TaskRunner>();
  /** Savepoints asked for and the checkpoint each waits for. */
  private readonly savepointRequests = new SavepointRequests();
  /** Records read by runners of earlier generations. */
  private sourceRecordsBefore = 0;

  constructor(job: Job, options: EmbeddedOptions = {}) {
    this.o = options;
    this.graph = buildGraph(job, options.parallelism === undefined ? {} : { parallelism: options.parallelism });
    this.plan = planJob(this.graph);
    this.clock = options.clock ?? new SystemClock();
    this.store = options.store ?? new InMemoryStateStore();
    this.checkpoints = options.checkpoints ?? new InMemoryCheckpointStore();
    this.queue = options.queue ?? new InMemoryQueue(this.clock);
    this.coordinator = new CheckpointCoordinator({
      plan: this.plan,
      store: this.checkpoints,
      clock: this.clock,
      config: this.graph.config.checkpoint,
    });
  }

  /** True once bounded input is fully processed and its final checkpoint published. */
  get finished(): boolean {
    return this.done;
  }

  /** Progress per task. */
  progress(): TaskProgress[] {
    return this.plan.tasks.map((t) => {
      const rs = this.runners.filter((r) => r.task.id === t.id);
      return {
        task: t.id,
        backlog: this.queue.backlog(t.id),
        recordsIn: rs.reduce((a, r) => a + r.stats.recordsIn, 0),
        recordsOut: rs.reduce((a, r) => a + r.stats.recordsOut, 0),
      };
    });
  }

  /** Records read from sources so far (re-reads after a restore included). */
  sourceRecords(): number {
    let n = this.sourceRecordsBefore;
    for (const r of this.runners) if (r.task.isSource) n += r.stats.recordsIn;
    return n;
  }

  /** Envelopes that the queues dead-lettered after too many receives. */
  queueDeadLetters(): QueueDeadLetter[] {
    return this.plan.tasks.flatMap((t) => [...this.queue.deadLetters(t.id)]);
  }

  /** Every runner of the current generation. */
  get taskRunners(): readonly TaskRunner[] {
    return this.runners;
  }

  /**
   * Runs until bounded input is fully processed and checkpointed, or until `signal`
   * aborts (then it completes one more checkpoint first). Resumes from the last
   * completed checkpoint when the stores already hold this job.
   */
  async run(): Promise<void> {
    if (!this.started) await this.start();
    const downstreamFirst = [...this.plan.tasks].reverse(); // so the pipeline drains before sources read more
    const sim = this.o.simulation;
    let stopAt: number | undefined;
    let yielded = performance.now();
    while (!this.done) {
      if (this.o.signal?.aborted && stopAt === undefined) {
        await this.coordinator.abortAll(AbortReason.JobStopped);
        stopAt = await this.inject(await this.coordinator.trigger());
      }
      // In-memory ports resolve in microtasks; let timers and signals (Ctrl-C, progress) run now and then.
      if (performance.now() - yielded > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
      if (stopAt === undefined) {
        const id = await this.coordinator.maybeTrigger();
        if (id !== undefined) await this.inject(id);
      }
      let progressed = false;
      let failure: { reason: string; error: unknown } | undefined;
      if (this.failoverRequested) {
        const reason = this.failoverRequested;
        this.failoverRequested = undefined;
        await this.failover(reason, undefined);
        continue;
      }
      for (const task of sim?.order?.(downstreamFirst) ?? downstreamFirst) {
        for (let i = 0; task.isSource ? i < task.parallelism : true; i++) {
          const r = await this.step(task);
          if (r === "idle") break;
          progressed = true;
          if (r !== "ok") {
            failure = r;
            break;
          }
        }
        if (failure) break;
      }
      if (failure) {
        await this.failover(failure.reason, failure.error);
        continue;
      }
      await this.tick();
      for (const e of await this.coordinator.poll()) {
        this.o.onCheckpoint?.(e);
        if (e.kind === "completed") await this.completed(e.manifest);
        else if (e.kind === "failover") await this.failover(e.reason, undefined);
      }
      await this.serveSavepoints();
      if (stopAt !== undefined && (this.lastCheckpoint?.id ?? 0) >= stopAt) {
        if (this.o.stopWithSavepoint && this.lastCheckpoint) {
          const { plan, store, checkpoints, clock } = this;
          await takeSavepoint(plan, store, checkpoints, clock, this.lastCheckpoint, this.o.stopWithSavepoint);
        }
        return;
      }
      if (progressed || this.done) continue;
      const timer = this.nextTimer();
      const visible = this.queue.nextVisibleAt();
      const next = visible === undefined ? timer : timer === undefined ? visible : Math.min(visible, timer);
      if (next === undefined) {
        if (this.runners.every((r) => r.finished)) continue; // the final checkpoint completes on the next poll
        if (this.runners.some((r) => r.parked)) {
          // An ingest source waits for input: idle until an append wakes it (or a checkpoint is due).
          await this.clock.sleep(this.o.idleSleepMs ?? 20);
          continue;
        }
        const dlq = this.queueDeadLetters();
        const reason =
          `job '${this.plan.job}' stalled: no messages left but ${this.runners.filter((r) => !r.finished).length} partitions have not finished` +
          (dlq.length ? `; ${dlq.length} envelopes were dead-lettered, last: ${dlq[dlq.length - 1]?.error}` : "");
        await this.failover(reason, new JobStalledError(reason));
        continue;
      }
      await this.clock.sleep(Math.max(1, next - this.clock.now()));
    }
  }

  /**
   * Takes a savepoint: triggers a checkpoint, waits for it, and materializes it.
   * Resolves while {@link run} is running.
   */
  async savepoint(name: string): Promise<SavepointInfo> {
    checkSavepointName(name);
    if (this.done) throw new SavepointError(`job '${this.plan.job}' has finished; take a savepoint while it runs`);
    return this.savepointRequests.add(name);
  }

  private async serveSavepoints(): Promise<void> {
    await this.savepointRequests.serve({
      inFlight: this.coordinator.inFlight,
      triggerCheckpoint: async () => this.inject(await this.coordinator.trigger()),
      lastCheckpoint: this.lastCheckpoint,
      take: (m, name) => takeSavepoint(this.plan, this.store, this.checkpoints, this.clock, m, name),
    });
  }

  /** Sends envelopes into the job's queues (ingest wake-ups, replays), stamped by the caller. */
  async send(entries: readonly OutboxEntry[]): Promise<void> {
    await this.queue.send(entries);
  }

  /** Sends a tick to every partition whose processing-time timers are due (the coordinator's ticks, in AWS). */
  private async tick(): Promise<void> {
    const now = this.clock.now();
    const due = this.runners.filter((r) => {
      const t = r.nextProcessingTimer();
      return t !== undefined && t <= now && !this.ticked.has(r);
    });
    if (due.length === 0) return;
    for (const r of due) this.ticked.add(r);
    await this.queue.send(
      due.map((r) => ({
        to: { task: r.task.id, partition: r.partition },
        envelope: { gen: this.generation, from: TICK_CHANNEL, seq: 0, records: [], signal: { kind: "tick" as const } },
      })),
    );
  }

  /** The earliest processing-time timer of any partition. */
  private nextTimer(): number | undefined {
    let t: number | undefined;
    for (const r of this.runners) {
      const n = r.nextProcessingTimer();
      if (n !== undefined && (t === undefined || n < t)) t = n;
    }
    return t;
  }

  /** Creates or resumes the job. */
  private async start(): Promise<void> {
    this.started = true;
    const previous = await this.checkpoints.loadJob(this.plan.job);
    const existed = previous !== undefined;
    const record = await this.coordinator.init();
    // The publisher truncates what it wrote after its last commit, and says where it got to.
    const resumed = this.o.publisher ? await this.o.publisher.resume() : undefined;
    if (previous && this.o.fromSavepoint === undefined) checkSameParallelism(this.plan, previous);
    if (this.o.fromSavepoint !== undefined) {
      const sp = await this.checkpoints.getSavepoint(this.plan.job, checkSavepointName(this.o.fromSavepoint));
      if (!sp) {
        const names = (await this.checkpoints.listSavepoints(this.plan.job)).map((x) => x.name);
        throw new SavepointError(
          `job '${this.plan.job}' has no savepoint named '${this.o.fromSavepoint}'` +
            (names.length ? ` (it has: ${names.join(", ")})` : " (it has none)"),
        );
      }
      this.generation = await restoreFromSavepoint(
        this.plan,
        this.graph,
        this.store,
        this.checkpoints,
        this.coordinator,
        sp,
      );
      this.lastCheckpoint = undefined;
    } else if (existed) {
      // Resume: whatever happened after the last completed checkpoint is void.
      this.lastCheckpoint = await this.coordinator.lastCompleted();
      for (const [k, n] of Object.entries((this.o.publisher ? resumed : this.lastCheckpoint?.cut) ?? {})) {
        this.published.set(k, n);
      }
      this.generation = await restoreToCheckpoint(
        this.plan,
        this.store,
        this.checkpoints,
        this.coordinator,
        this.lastCheckpoint,
      );
    } else {
      this.generation = record.generation;
    }
    await this.launch();
    // Publish what the last run completed but did not get to publish.
    if (this.lastCheckpoint) await this.completed(this.lastCheckpoint);
  }

  /** Creates the runners of the current generation and starts the sources. */
  private async launch(): Promise<void> {
    this.sourceRecordsBefore = this.sourceRecords();
    this.runners = [];
    this.byAddress = new Map();
    for (const task of this.plan.tasks) {
      for (let p = 0; p < task.parallelism; p++) {
        const runner = new TaskRunner({
          plan: this.plan,
          graph: this.graph,
          task: task.id,
          partition: p,
          queue: this.queue,
          store: this.store,
          clock: this.clock,
          generation: this.generation,
          checkpoints: this.checkpoints,
          ...(this.o.ingest ? { ingest: this.o.ingest } : {}),
        });
        this.runners.push(runner);
        this.byAddress.set(`${task.id}#${p}`, runner);
      }
    }
    await this.queue.send(startEntries(this.plan, this.generation));
  }

  /** Sends barrier `id` into every source partition; returns `id`. */
  private async inject(id: number): Promise<number> {
    await this.queue.send(barrierEntries(this.plan, this.generation, id));
    return id;
  }

  /** Receives and runs one batch of `task`. */
  private async step(task: TaskPlan): Promise<"idle" | "ok" | { reason: string; error: unknown }> {
    const msgs = await this.queue.receive(task.id, this.o.simulation?.batchSize?.() ?? MAX_BATCH);
    if (msgs.length === 0) return "idle";
    // A receive may span groups, as in SQS: each group is one partition's batch.
    const groups = new Map<number, ReceivedMessage[]>();
    for (const m of msgs) {
      const g = groups.get(m.group);
      if (g) g.push(m);
      else groups.set(m.group, [m]);
    }
    let outcome: "ok" | { reason: string; error: unknown } = "ok";
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
  ): Promise<"ok" | { reason: string; error: unknown }> {
    const runner = this.byAddress.get(`${task.id}#${group}`);
    if (!runner) throw new Error(`no runner for ${task.id}[${group}]`);
    this.o.beforeBatch?.(runner);
    this.ticked.delete(runner);
    const inbound = msgs.map((m) => ({ body: m.body, receiveCount: m.receiveCount }));
    const wrap = this.o.simulation?.wrapBatch;
    const result = await (wrap ? wrap(runner, inbound, () => runner.handle(inbound)) : runner.handle(inbound));
    if (this.o.batchTimeMs && this.clock instanceof ManualClock) this.clock.advance(this.o.batchTimeMs);
    if (this.o.simulation?.deleteAfterBatch?.() === false) return "ok"; // the container died before deleting
    const ok = result.failedFrom ?? msgs.length;
    if (ok > 0)
      await this.queue.ack(
        task.id,
        msgs.slice(0, ok).map((m) => m.receipt),
      );
    if (ok >= msgs.length) return "ok";
    const failed = msgs.slice(ok);
    const error = describeCause(result.error);
    await this.queue.nack(
      task.id,
      failed.map((m) => m.receipt),
      this.o.retryDelayMs ?? 100,
      error,
    );
    const cfg = this.graph.config;
    const limit = cfg.maxRecordAttempts + (cfg.recordFailure === "dead-letter" ? 1 : 0);
    if ((failed[0]?.receiveCount ?? 0) >= limit) {
      return { reason: `${task.id}[${group}] failed ${limit} times: ${error}`, error: result.error };
    }
    return "ok";
  }

  /** A checkpoint completed: publish sink output and dead letters up to its cut, then compact behind it. */
  private async completed(manifest: CheckpointManifest): Promise<void> {
    this.lastCheckpoint = manifest;
    const pub = this.o.publisher;
    for (const runner of this.runners) {
      const key = `${runner.task.id}#${runner.partition}`;
      const cut = manifest.cut?.[key];
      const after = this.published.get(key) ?? 0;
      if (cut === undefined || cut <= after) continue;
      for (const seg of await this.store.readSegments(runner.task.id, runner.partition, after)) {
        if (seg.n > cut) break;
        for (const [name, values] of Object.entries(seg.sink ?? {})) {
          this.o.onOutput?.(name, values, runner.task.id, runner.partition);
          pub?.output(name, values, runner.task.id, runner.partition);
        }
        for (const d of seg.deadLetters ?? []) {
          const letter = { ...d, task: runner.task.id, partition: runner.partition };
          this.deadLetters.push(letter);
          pub?.deadLetter(letter);
        }
      }
      this.published.set(key, cut);
    }
    // Durable first; only then may the log behind the cut go.
    if (pub && manifest.cut) await pub.commit(manifest.id, manifest.cut);
    for (const runner of this.runners) {
      const key = `${runner.task.id}#${runner.partition}`;
      const through = Math.min(manifest.cut?.[key] ?? 0, runner.sentThrough);
      if (through > (this.compacted.get(key) ?? 0)) {
        this.compacted.set(key, await this.store.compact(runner.task.id, runner.partition, through));
      }
      runner.notifyCheckpointComplete(manifest.id);
    }
    if (manifest.final) this.done = true;
  }

  /** Asks the runtime to fail over at its next turn (as if a task had failed). */
  requestFailover(reason: string): void {
    this.failoverRequested = reason;
  }

  /** Restores the job to its last completed checkpoint, per the restart strategy. */
  private async failover(reason: string, error: unknown): Promise<void> {
    const strategy = this.graph.config.restart;
    if (this.restarts >= strategy.attempts) {
      throw new JobFailedError(`job '${this.plan.job}' failed after ${this.restarts} restarts: ${reason}`, error);
    }
    this.restarts++;
    this.o.onCheckpoint?.({ kind: "failover", reason });
    await this.clock.sleep(strategy.delayMs);
    const t0 = performance.now();
    this.generation = await restoreToCheckpoint(
      this.plan,
      this.store,
      this.checkpoints,
      this.coordinator,
      this.lastCheckpoint,
    );
    await this.launch();
    this.lastRestoreMs = performance.now() - t0;
  }
}

export { runToCompletion } from "./run-to-completion.ts";
