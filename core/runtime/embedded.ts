/**
 * The embedded runtime: every task partition's TaskRunner in one process, fed by
 * in-memory FIFO queues through a scheduler that behaves like the Lambda SQS event
 * source mapping — one in-flight batch per group, at most 10 envelopes a batch,
 * visibility timeout and redelivery, partial batch failures that fail the rest of
 * the group, and a dead-letter queue after `maxReceiveCount` receives.
 */

import { buildGraph, type Job } from "../api/environment.ts";
import { POLL_CHANNEL } from "../envelope.ts";
import { describeCause, RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import { planJob } from "../graph/planner.ts";
import { InMemoryQueue } from "../memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../memory/in-memory-state-store.ts";
import { type Clock, SystemClock } from "../ports/clock.ts";
import type { Queue, QueueDeadLetter } from "../ports/queue.ts";
import type { DeadLetter, StateStore } from "../ports/state-store.ts";
import { TaskRunner } from "./task-runner.ts";

/** Uncompacted segments a partition may accumulate before the runtime folds them. */
const COMPACT_EVERY = 64;

/** Most envelopes in one batch, as with the SQS event source mapping. */
export const MAX_BATCH = 10;

/** Options of {@link EmbeddedRuntime}. */
export interface EmbeddedOptions {
  /** Default parallelism (overrides the job's). */
  readonly parallelism?: number;
  /** Processing clock; the scheduler also waits on it. Default: the system clock. */
  readonly clock?: Clock;
  /** State store. Default: a new in-memory store. */
  readonly store?: StateStore;
  /** Queue. Default: a new in-memory queue on `clock`. */
  readonly queue?: Queue & Pick<InMemoryQueue, "nextVisibleAt" | "backlog" | "deadLetters">;
  /** Delay before a failed batch is retried. Default 100 ms. */
  readonly retryDelayMs?: number;
  /** Called with every record committed to a sink, in commit order per partition. */
  readonly onOutput?: (sink: string, values: readonly unknown[], task: string, partition: number) => void;
  /** Called before every batch; tests use it to inject faults (e.g. `runner.crash()`). */
  readonly beforeBatch?: (runner: TaskRunner) => void;
  /** Stops an unbounded job; the runtime finishes its current batch and returns. */
  readonly signal?: AbortSignal;
}

/** A dead letter together with where it happened. */
export interface TaskDeadLetter extends DeadLetter {
  readonly task: string;
  readonly partition: number;
}

/** The job stopped making progress with work left (e.g. a channel lost an envelope to the DLQ). */
export class JobStalledError extends RiffleError {
  constructor(message: string) {
    super("job-stalled", message);
  }
}

/** Per-task figures for progress reporting. */
export interface TaskProgress {
  readonly task: string;
  readonly backlog: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
}

/** Runs a job in this process. */
export class EmbeddedRuntime {
  readonly graph: JobGraph;
  readonly plan: Plan;
  readonly store: StateStore;
  readonly clock: Clock;
  private readonly queue: NonNullable<EmbeddedOptions["queue"]>;
  private readonly runners: TaskRunner[] = [];
  private readonly byAddress = new Map<string, TaskRunner>();
  private readonly published = new Map<TaskRunner, number>();
  private readonly compacted = new Map<TaskRunner, number>();
  private readonly o: EmbeddedOptions;
  /** Records set aside by operators after repeated failures. */
  readonly deadLetters: TaskDeadLetter[] = [];
  private started = false;

  constructor(job: Job, options: EmbeddedOptions = {}) {
    this.o = options;
    this.graph = buildGraph(job, options.parallelism === undefined ? {} : { parallelism: options.parallelism });
    this.plan = planJob(this.graph);
    this.clock = options.clock ?? new SystemClock();
    this.store = options.store ?? new InMemoryStateStore();
    this.queue = options.queue ?? new InMemoryQueue(this.clock);
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
          generation: 1,
        });
        this.runners.push(runner);
        this.byAddress.set(`${task.id}#${p}`, runner);
        this.published.set(runner, 0);
      }
    }
  }

  /** True when every partition of every task has finished (bounded input fully processed). */
  get finished(): boolean {
    return this.runners.every((r) => r.finished);
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

  /** Records read from sources so far. */
  sourceRecords(): number {
    let n = 0;
    for (const r of this.runners) if (r.task.isSource) n += r.stats.recordsIn;
    return n;
  }

  /** Envelopes that the queues dead-lettered after too many receives. */
  queueDeadLetters(): QueueDeadLetter[] {
    return this.plan.tasks.flatMap((t) => [...this.queue.deadLetters(t.id)]);
  }

  /** Every runner. */
  get taskRunners(): readonly TaskRunner[] {
    return this.runners;
  }

  /**
   * Runs until bounded input is fully processed, or until `signal` aborts.
   * Throws {@link JobStalledError} when work is left but nothing can move.
   */
  async run(): Promise<void> {
    if (!this.started) {
      this.started = true;
      const polls = this.plan.tasks
        .filter((t) => t.isSource)
        .flatMap((t) =>
          Array.from({ length: t.parallelism }, (_, p) => ({
            to: { task: t.id, partition: p },
            envelope: { gen: 1, from: POLL_CHANNEL, seq: 1, records: [], signal: { kind: "poll" as const } },
          })),
        );
      await this.queue.send(polls);
    }
    // Downstream tasks first, so the pipeline drains before sources read more.
    const order = [...this.plan.tasks].reverse();
    let yielded = performance.now();
    while (!this.finished && !this.o.signal?.aborted) {
      // In-memory ports resolve in microtasks; let timers and signals (Ctrl-C, progress) run now and then.
      if (performance.now() - yielded > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
      let progressed = false;
      for (const task of order) {
        for (let i = 0; task.isSource ? i < task.parallelism : true; i++) {
          if (!(await this.step(task))) break;
          progressed = true;
          if (this.o.signal?.aborted) return;
        }
      }
      if (progressed) continue;
      const next = this.queue.nextVisibleAt();
      if (next === undefined) {
        const dlq = this.queueDeadLetters();
        throw new JobStalledError(
          `job '${this.plan.job}' stalled: no messages left but ${this.runners.filter((r) => !r.finished).length} partitions have not finished` +
            (dlq.length ? `; ${dlq.length} envelopes were dead-lettered, first: ${dlq[0]?.error}` : ""),
        );
      }
      await this.clock.sleep(Math.max(1, next - this.clock.now()));
    }
  }

  /** Receives and runs one batch of `task`; false when nothing was deliverable. */
  private async step(task: TaskPlan): Promise<boolean> {
    const msgs = await this.queue.receive(task.id, MAX_BATCH);
    const first = msgs[0];
    if (!first) return false;
    const runner = this.byAddress.get(`${task.id}#${first.group}`);
    if (!runner) throw new Error(`no runner for ${task.id}[${first.group}]`);
    this.o.beforeBatch?.(runner);
    const result = await runner.handle(msgs.map((m) => ({ body: m.body, receiveCount: m.receiveCount })));
    const ok = result.failedFrom ?? msgs.length;
    if (ok > 0)
      await this.queue.ack(
        task.id,
        msgs.slice(0, ok).map((m) => m.receipt),
      );
    if (ok < msgs.length) {
      await this.queue.nack(
        task.id,
        msgs.slice(ok).map((m) => m.receipt),
        this.o.retryDelayMs ?? 100,
        describeCause(result.error),
      );
    }
    await this.publish(runner);
    return true;
  }

  /** Hands newly committed sink records and dead letters of `runner`'s partition to the listeners. */
  private async publish(runner: TaskRunner): Promise<void> {
    const after = this.published.get(runner) ?? 0;
    const segs = await this.store.readSegments(runner.task.id, runner.partition, after);
    for (const seg of segs) {
      if (seg.sink && this.o.onOutput) {
        for (const [name, values] of Object.entries(seg.sink))
          this.o.onOutput(name, values, runner.task.id, runner.partition);
      }
      for (const d of seg.deadLetters ?? [])
        this.deadLetters.push({ ...d, task: runner.task.id, partition: runner.partition });
    }
    const last = segs[segs.length - 1];
    if (!last) return;
    this.published.set(runner, last.n);
    // Keep the in-memory log short: fold what is published and proven sent.
    const compacted = this.compacted.get(runner) ?? 0;
    if (last.n - compacted >= COMPACT_EVERY) {
      const through = Math.min(last.n, runner.sentThrough);
      this.compacted.set(runner, await this.store.compact(runner.task.id, runner.partition, through));
    }
  }
}

/** Runs a bounded job to completion in memory and returns each sink's committed records. */
export async function runToCompletion(job: Job, options: EmbeddedOptions = {}): Promise<Map<string, unknown[]>> {
  const out = new Map<string, unknown[]>();
  const onOutput = options.onOutput;
  const rt = new EmbeddedRuntime(job, {
    ...options,
    onOutput: (sink, values, task, partition) => {
      let arr = out.get(sink);
      if (!arr) {
        arr = [];
        out.set(sink, arr);
      }
      for (const v of values) arr.push(v);
      onOutput?.(sink, values, task, partition);
    },
  });
  await rt.run();
  return out;
}
