/**
 * The TaskRunner: runs one batch of one task partition, end to end —
 * dedup, process, pack, commit a segment, send, ack. Both runtimes run this code;
 * only the ports differ. See "One batch, end to end" in DESIGN.md.
 *
 * A batch normally commits one segment. A barrier that completes its alignment
 * ends the segment there (the segment "ends the epoch"); the rest of the batch
 * continues in the next segment.
 */

import { type Envelope, IDLE_WATERMARK, TICK_CHANNEL } from "../envelope.ts";
import { describeCause, ProtocolError, SegmentConflictError } from "../errors.ts";
import type { TaskPlan } from "../graph/plan.ts";
import { inputChannels, taskById } from "../graph/planner.ts";
import type { PartitionView } from "../log/view.ts";
import type { Segment } from "../ports/state-store.ts";
import { processSlice } from "./batch-processor.ts";
import { type Live, loadPartition } from "./partition-loader.ts";
import { type PartitionError, type PartitionReport, partitionReport } from "./partition-stats.ts";
import { type RunnerParts, runnerParts } from "./runner-parts.ts";
import type { BatchResult, InboundMessage, RunnerStats, TaskRunnerOptions } from "./runner-types.ts";
import { buildSegment } from "./segment-builder.ts";
import { dropReaders, prefetchState, readSource } from "./slice-inputs.ts";
import {
  isolatable,
  type SliceOutcome,
  type SliceRun,
  type SliceStep,
  type SplitChunk,
  sliceOutcome,
} from "./slice-run.ts";
import { parkedWakeAt } from "./source-wake.ts";

export type { BatchResult, InboundMessage, RunnerStats, TaskRunnerOptions } from "./runner-types.ts";

/** Runs batches of one task partition. */
export class TaskRunner {
  readonly task: TaskPlan;
  readonly partition: number;
  readonly generation: number;
  readonly stats: RunnerStats = { batches: 0, recordsIn: 0, recordsOut: 0, segments: 0, duplicates: 0, deadLetters: 0 };
  private readonly options: TaskRunnerOptions;
  private readonly channels: readonly string[];
  private readonly parts: RunnerParts;
  private live: Live | undefined;
  /** The live chain was closed: the next batch rebuilds the partition. */
  private closed = false;
  /** The last failed batch's error, while this runner lives (a dead letter's is committed instead). */
  private failure: PartitionError | undefined;
  /** The committed view of the last live partition: a failed batch drops the partition, its report stays. */
  private lastView: PartitionView | undefined;

  constructor(options: TaskRunnerOptions) {
    this.options = options;
    this.task = taskById(options.plan, options.task);
    this.partition = options.partition;
    this.generation = options.generation;
    if (!Number.isInteger(this.partition) || this.partition < 0 || this.partition >= this.task.parallelism) {
      throw new ProtocolError(
        `task '${this.task.id}' has no partition ${this.partition} (parallelism ${this.task.parallelism})`,
      );
    }
    this.channels = inputChannels(options.plan, this.task, this.partition).map((c) => c.id);
    this.parts = runnerParts(options, {
      task: this.task,
      partition: this.partition,
      generation: this.generation,
      channels: this.channels,
      stats: this.stats,
      report: (at) => this.report(at),
    });
  }

  /** True when this source partition stopped polling for lack of input (an ingest source waiting). */
  get parked(): boolean {
    return this.live?.view.opState.get("parked") === true;
  }

  /** Segments up to this number are committed and their outboxes confirmed sent. */
  get sentThrough(): number {
    return this.live?.view.sentThrough ?? 0;
  }

  /** True when this partition has forwarded end-of-input. */
  get finished(): boolean {
    return this.live?.view.finished ?? false;
  }

  /**
   * The earliest pending processing-time timer of a warm partition, if any: a keyed
   * timer, or the time a parked source partition wakes up to poll again.
   */
  nextProcessingTimer(): number | undefined {
    const t = this.live?.chain.keyed?.timers.nextProcessing();
    const w = this.live ? parkedWakeAt(this.live.view) : undefined;
    if (w === undefined) return t;
    return t === undefined ? w : Math.min(t, w);
  }

  /**
   * This partition's report (records in and out, last segment, watermark, keys, last
   * error) from its committed view, as of `at`; `undefined` before the partition was loaded.
   */
  report(at: number = this.options.clock.now()): PartitionReport | undefined {
    const view = this.live?.view ?? this.lastView;
    if (!view) return undefined;
    return partitionReport(
      { task: this.task.id, partition: this.partition, channels: this.channels },
      view,
      at,
      this.failure,
    );
  }

  /** Forgets everything in memory, as a crashed container would (no `close` is called). */
  crash(): void {
    this.live = undefined;
    this.lastView = undefined;
  }

  /**
   * Closes the partition's chain in an orderly way (its rich functions' `close`
   * runs); the committed view stays readable, and the next batch builds a new chain.
   */
  async close(): Promise<void> {
    const live = this.live;
    if (!live || this.closed) return;
    this.closed = true;
    await live.chain.close();
  }

  /** Drops the live partition after a failure, closing its chain. */
  private async drop(): Promise<void> {
    await this.close();
    this.live = undefined;
  }

  /** Runs one batch. Never throws for a failed batch: the result says which messages to retry. */
  async handle(messages: readonly InboundMessage[]): Promise<BatchResult> {
    this.stats.batches++;
    const result = await this.handleOnce(messages);
    if (result.failedFrom !== undefined)
      this.failure = { message: describeCause(result.error), at: this.options.clock.now() };
    return result;
  }

  private async handleOnce(messages: readonly InboundMessage[]): Promise<BatchResult> {
    try {
      return await this.run(messages);
    } catch (error) {
      await this.drop();
      if (error instanceof SegmentConflictError) {
        try {
          return await this.run(messages);
        } catch (again) {
          await this.drop();
          return { failedFrom: 0, error: again };
        }
      }
      return { failedFrom: 0, error };
    }
  }

  /** Runs the batch, then records the partition's next processing-time timer if it changed. */
  private async run(messages: readonly InboundMessage[]): Promise<BatchResult> {
    const result = await this.attempt(messages, false);
    const { timerReporter } = this.parts;
    if (timerReporter && this.live) {
      const ticked = messages.some((m) => m.body.from === TICK_CHANNEL);
      await timerReporter.report(this.live, this.nextProcessingTimer(), ticked);
    }
    return result;
  }

  /** Commits slices until the batch is done; each slice is one segment. */
  private async attempt(messages: readonly InboundMessage[], isolate: boolean): Promise<BatchResult> {
    let last: Segment | undefined;
    for (let first = true; ; first = false) {
      const outcome = await this.slice(messages, isolate, first);
      switch (outcome.kind) {
        case "isolate":
          return this.attempt(messages, true);
        case "idle":
          return batchResult(undefined, undefined, last);
        case "failed":
          return batchResult(outcome.failedFrom, outcome.error, outcome.segment);
        case "committed":
          last = outcome.segment;
          if (!outcome.more) return batchResult(undefined, undefined, last);
      }
    }
  }

  /** One slice of a batch: dedup, read, process, commit one segment, send. */
  private async slice(messages: readonly InboundMessage[], isolate: boolean, first: boolean): Promise<SliceOutcome> {
    const live = await this.load();
    if (live.view.unsent.length > 0) await this.parts.sender.flush(live.view);
    const step = this.parts.intake.take(live, messages, first);
    if (!step) return { kind: "idle" };
    const chunk = await readSource(live, step.taken.consumed, this.parts.sourceRead);
    await prefetchState(live, step.taken.consumed, this.options.store, this.task.id, this.options.plan.maxParallelism);
    await live.chain.async?.prefetch(step.taken.consumed.map((c) => c.env));
    await this.lookAhead(live);
    await live.chain.keyed?.prefetch(step.taken.consumed.map((c) => c.env));
    const run = this.process(live, messages, step, chunk, isolate);
    if (run.failedAt !== undefined && !isolate) {
      if (!isolatable(run, step.taken, messages, this.options.graph.config)) throw run.error;
      await this.drop(); // discard the failed attempt; rerun record by record
      return { kind: "isolate" };
    }
    if (run.endsEpoch === undefined && (step.tick || step.timersDue)) live.chain.head.processTime(step.now);
    // Steps 3 and 4, pack and commit one segment.
    const segment = buildSegment(live, this.parts.segmentOwner, step.now, step.taken.buffer, run);
    this.parts.sender.wrote(await this.options.store.append(this.task.id, this.partition, segment));
    this.committed(live, segment, run, chunk);
    // Step 5, send, then ack.
    try {
      await this.parts.sender.flush(live.view);
    } catch (error) {
      return { kind: "failed", failedFrom: 0, error, segment };
    }
    return sliceOutcome(step.taken, run, segment);
  }

  /**
   * Once the slice has its answers, starts the head async operator's calls for the
   * envelopes next in line (see `TaskRunnerOptions.lookAhead`; the operator calls ahead
   * again as its calls end), and lets every request written meanwhile go out before the
   * slice's processing holds the thread: a request is written at the end of its tick,
   * and a slice's processing is one chain of microtasks, so without the yield the
   * requests of this tick (these, and those a call that just ended started) would wait
   * for the end of the slice (at batch 1000 riffle's thread was busy 73–76% of a run
   * instead of 87%, the function's server waiting more too).
   */
  private async lookAhead(live: Live): Promise<void> {
    const next = this.options.lookAhead;
    const head = live.chain.async;
    if (!next || !head) return;
    const mine = (e: Envelope) => e.gen === this.generation && e.records.length > 0 && this.channels.includes(e.from);
    head.aheadFrom(() => (this.live === live ? next().filter(mine) : [])); // a dropped chain calls ahead no more
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Step 2, process: runs the consumed envelopes (and a polled chunk) through the chain. */
  private process(
    live: Live,
    messages: readonly InboundMessage[],
    step: SliceStep,
    chunk: SplitChunk | undefined,
    isolate: boolean,
  ): SliceRun {
    const services = live.services;
    services.now = step.now;
    services.isolating = isolate;
    if (isolate) services.backend?.startJournal();
    return processSlice({
      live,
      channels: this.channels,
      isSource: this.task.isSource,
      generation: this.generation,
      maxRecordAttempts: this.options.graph.config.maxRecordAttempts,
      consumed: step.taken.consumed,
      attempts: messages.map((m) => m.receiveCount),
      chunk,
      isolate,
      resumed: step.resumed,
      lingerUntil: step.lingerUntil,
    });
  }

  /** After the commit of `segment`: counts it, and applies it to the live partition. */
  private committed(live: Live, segment: Segment, run: SliceRun, chunk: SplitChunk | undefined): void {
    const { view, services } = live;
    this.parts.sender.committed(segment);
    this.stats.segments++;
    this.stats.recordsOut += live.router.recordsOut;
    live.router.recordsOut = 0;
    this.stats.recordsIn += run.records;
    this.stats.deadLetters += services.deadLetters.length;
    services.deadLetters.length = 0;
    for (const arr of services.sinks.values()) arr.length = 0;
    for (const arr of services.staged.values()) arr.length = 0;
    services.backend?.commit();
    view.apply(segment);
    const wm = view.watermarkOver(this.channels);
    if (wm < IDLE_WATERMARK) services.watermark = wm;
    // Input read from the source but not committed: reopen readers at the committed positions.
    if (chunk && !run.chunkUsed) dropReaders(view);
  }

  /** The live partition: kept warm, or rebuilt from the store. */
  private async load(): Promise<Live> {
    if (!this.live || this.closed) {
      this.closed = false;
      const { plan, graph, store, clock } = this.options;
      this.live = await loadPartition(
        plan,
        graph,
        this.task,
        this.partition,
        store,
        clock,
        this.generation,
        this.channels,
      );
      this.lastView = this.live.view;
    }
    return this.live;
  }
}

/** The result of a batch that ends with a slice's outcome (`segment`: the last one it committed). */
function batchResult(failedFrom: number | undefined, error: unknown, segment: Segment | undefined): BatchResult {
  return { failedFrom, ...(error !== undefined ? { error } : {}), ...(segment ? { segment } : {}) };
}
