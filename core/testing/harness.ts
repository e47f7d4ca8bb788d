/**
 * A test harness that drives one operator (or one chain) through the real
 * TaskRunner: feed records, watermarks and end-of-input, read the committed
 * output, and restart from the committed log as a crashed container would.
 *
 * @example
 * ```ts
 * const h = await OperatorHarness.create((s: DataStream<number>) =>
 *   s.keyBy((n) => n % 2).sum());
 * await h.processElements([1, 2, 3]);
 * h.output(); // [1, 2, 4]
 * await h.restart(); // state survives: it is in the log
 * ```
 */

import { DataStream } from "../api/datastream.ts";
import type { DataStreamSink } from "../api/datastream-sink.ts";
import { buildGraph, defineJob } from "../api/environment.ts";
import { elementsSource } from "../api/source.ts";
import { type Envelope, NOTIFY_CHANNEL, type Signal } from "../envelope.ts";
import { UsageError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import { planJob } from "../graph/planner.ts";
import { InMemoryQueue } from "../memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../memory/in-memory-state-store.ts";
import { ManualClock } from "../ports/clock.ts";
import type { DeadLetter } from "../ports/state-store.ts";
import { type BatchResult, TaskRunner } from "../runtime/task-runner.ts";

const UPSTREAM = "harness-input";
/** The second input of {@link OperatorHarness.createBroadcast}. */
const BROADCAST_UPSTREAM = "harness-broadcast-input";

type Transform = (input: DataStream<unknown>, broadcast?: DataStream<unknown>) => DataStream<unknown> | DataStreamSink;

/** Drives the operators that `transform` adds, as one task with parallelism 1. */
export class OperatorHarness {
  readonly clock = new ManualClock(0);
  readonly store = new InMemoryStateStore({ copy: true });
  readonly queue = new InMemoryQueue(this.clock);
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly task: TaskPlan;
  private runner: TaskRunner;
  /** Per input channel: the last sequence number delivered. */
  private readonly seqs = new Map<string, number>();
  private readonly channel: string;
  /** Every input channel (signals go to all). */
  private readonly channels: readonly string[];
  private outputs: unknown[] = [];
  private taken = 0;
  /** Dead letters committed so far. */
  readonly deadLetters: DeadLetter[] = [];

  private constructor(transform: Transform, broadcast: boolean) {
    const job = defineJob("harness", (env) => {
      // The harness hands over event times and watermarks itself, as an upstream assigner would.
      const upstream = (uid: string) =>
        env
          .fromSource({ ...elementsSource([] as unknown[]), eventTime: true })
          .uid(uid)
          .rebalance();
      const out = transform(upstream(UPSTREAM), broadcast ? upstream(BROADCAST_UPSTREAM) : undefined);
      if (out instanceof DataStream) out.sinkTo("out");
    });
    this.graph = buildGraph(job, { parallelism: 1 });
    this.plan = planJob(this.graph);
    const tasks = this.plan.tasks.filter((t) => !t.isSource);
    if (tasks.length !== 1) {
      throw new UsageError(
        `the harness drives one task, but the transform makes ${tasks.length}: ${tasks.map((t) => t.id).join(", ")}`,
      );
    }
    this.task = tasks[0] as TaskPlan;
    this.channel = `${UPSTREAM}#0`;
    this.channels = broadcast ? [this.channel, `${BROADCAST_UPSTREAM}#0`] : [this.channel];
    this.runner = this.newRunner();
  }

  /**
   * Creates a harness around the operators `transform` applies to its input stream.
   * A returned stream goes to the sink `out` ({@link output}); a returned sink (e.g.
   * `addSink(...)`) is the end itself.
   */
  static async create<I, O>(
    transform: (input: DataStream<I>) => DataStream<O> | DataStreamSink,
  ): Promise<OperatorHarness> {
    return new OperatorHarness(transform as unknown as Transform, false);
  }

  /**
   * A harness with two inputs, for the broadcast state pattern: `transform` gets the
   * main input and a second one to `.broadcast(descriptor)`, fed by
   * {@link processBroadcastElements}. Watermarks, barriers and the end go to both.
   */
  static async createBroadcast<A, B, O>(
    transform: (main: DataStream<A>, broadcast: DataStream<B>) => DataStream<O> | DataStreamSink,
  ): Promise<OperatorHarness> {
    return new OperatorHarness(transform as unknown as Transform, true);
  }

  private newRunner(): TaskRunner {
    return new TaskRunner({
      plan: this.plan,
      graph: this.graph,
      task: this.task.id,
      partition: 0,
      queue: this.queue,
      store: this.store,
      clock: this.clock,
      generation: 1,
    });
  }

  /** Delivers one envelope per channel (by default, the main input) in one batch; throws when the batch fails. */
  private async deliver(
    records: unknown[],
    times?: number[],
    signal?: Signal,
    channels: readonly string[] = [this.channel],
  ): Promise<BatchResult> {
    const envs: Envelope[] = channels.map((from) => ({
      gen: 1,
      from,
      seq: (this.seqs.get(from) ?? 0) + 1,
      records,
      ...(times ? { times } : {}),
      ...(signal ? { signal } : {}),
    }));
    const result = await this.runner.handle(envs.map((body) => ({ body, receiveCount: 1 })));
    if (result.failedFrom !== undefined) throw result.error;
    for (const e of envs) this.seqs.set(e.from, e.seq);
    await this.collect();
    return result;
  }

  private async collect(): Promise<void> {
    const segs = await this.store.readSegments(this.task.id, 0, 0);
    const out: unknown[] = [];
    const dead: DeadLetter[] = [];
    for (const s of segs) {
      for (const v of s.sink?.out ?? []) out.push(v);
      for (const d of s.deadLetters ?? []) dead.push(d);
    }
    this.outputs = out;
    this.deadLetters.splice(0, this.deadLetters.length, ...dead);
  }

  /** Processes records (with optional event times) in one batch. */
  async processElements(records: readonly unknown[], times?: readonly number[]): Promise<void> {
    await this.deliver([...records], times ? [...times] : undefined);
  }

  /** Processes records of the broadcast input (see {@link createBroadcast}) in one batch. */
  async processBroadcastElements(records: readonly unknown[], times?: readonly number[]): Promise<void> {
    const channel = this.channels[1];
    if (channel === undefined) throw new UsageError("processBroadcastElements needs a harness from createBroadcast");
    await this.deliver([...records], times ? [...times] : undefined, undefined, [channel]);
  }

  /** Advances the input watermark (of every input). */
  async processWatermark(t: number): Promise<void> {
    await this.deliver([], undefined, { kind: "watermark", t }, this.channels);
  }

  /** Delivers checkpoint barrier `n` on every input: the operator's epoch ends. */
  async checkpoint(n: number): Promise<void> {
    await this.deliver([], undefined, { kind: "barrier", n }, this.channels);
  }

  /** Tells the operator that checkpoint `n` completed (as the coordinator does, best effort). */
  async notifyCheckpointComplete(n: number): Promise<void> {
    const result = await this.runner.handle([
      {
        body: { gen: 1, from: NOTIFY_CHANNEL, seq: n, records: [], signal: { kind: "checkpoint-complete", n } },
        receiveCount: 1,
      },
    ]);
    if (result.failedFrom !== undefined) throw result.error;
    await this.collect();
  }

  /** Ends the input: fires every remaining timer. */
  async endInput(): Promise<void> {
    await this.deliver([], undefined, { kind: "end" }, this.channels);
  }

  /** Advances processing time by `ms` and fires due processing-time timers. */
  async advanceProcessingTime(ms: number): Promise<void> {
    this.clock.advance(ms);
    const result = await this.runner.handle([
      { body: { gen: 1, from: "$tick", seq: 0, records: [], signal: { kind: "tick" } }, receiveCount: 1 },
    ]);
    if (result.failedFrom !== undefined) throw result.error;
    await this.collect();
  }

  /** Drops the in-memory runner and rebuilds it from the committed log, as after a crash (no `close`). */
  async restart(): Promise<void> {
    this.runner = this.newRunner();
  }

  /** Shuts the runner down in an orderly way: rich functions' `close` runs. The next record opens them again. */
  async close(): Promise<void> {
    await this.runner.close();
  }

  /** All committed output so far. */
  output(): unknown[] {
    return [...this.outputs];
  }

  /** Committed output since the previous `take()`. */
  take(): unknown[] {
    const out = this.outputs.slice(this.taken);
    this.taken = this.outputs.length;
    return out;
  }
}
