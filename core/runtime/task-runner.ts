/**
 * The TaskRunner: runs one batch of one task partition, end to end —
 * dedup, process, pack, commit a segment, send, ack. Both runtimes run this code;
 * only the ports differ. See "One batch, end to end" in DESIGN.md.
 *
 * A batch normally commits one segment. A barrier that completes its alignment
 * ends the segment there (the segment "ends the epoch"); the rest of the batch
 * continues in the next segment.
 */

import type { SourceContext } from "../api/source.ts";
import { channelId, type Envelope, IDLE_WATERMARK, type OutboxEntry, POLL_CHANNEL, TICK_CHANNEL } from "../envelope.ts";
import { OperatorError, ProtocolError, SegmentConflictError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import { inputChannels, taskById } from "../graph/planner.ts";
import { keyGroupOf } from "../keys.ts";
import type { PartitionView } from "../log/view.ts";
import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { IngestLog } from "../ports/ingest-log.ts";
import type { Queue } from "../ports/queue.ts";
import type { Segment, StateRef, StateStore } from "../ports/state-store.ts";
import type { TimerHints } from "../ports/timer-hints.ts";
import { processSlice, type SliceRun, type SplitChunk } from "./batch-processor.ts";
import { type Consumed, intake } from "./intake.ts";
import { type Live, loadPartition } from "./partition-loader.ts";
import { TimerReporter } from "./timer-report.ts";

/** A message handed to the runner, with its delivery count. */
export interface InboundMessage {
  readonly body: Envelope;
  /** Receives of this message so far, this one included. */
  readonly receiveCount: number;
}

/** Outcome of one batch. */
export interface BatchResult {
  /** Index of the first message that failed; it and all later ones must be retried. `undefined`: all succeeded. */
  readonly failedFrom: number | undefined;
  /** Why the batch (or its tail) failed. */
  readonly error?: unknown;
  /** The last segment this batch committed, if any. */
  readonly segment?: Segment;
}

/** Where a TaskRunner runs and what it talks to. */
export interface TaskRunnerOptions {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly task: string;
  readonly partition: number;
  readonly queue: Queue;
  readonly store: StateStore;
  readonly clock: Clock;
  /** Current job generation; envelopes of older generations are dropped. */
  readonly generation: number;
  /** Where acks of epochs and of end-of-input go. Without it, none are written. */
  readonly checkpoints?: CheckpointStore;
  /** The log behind ingest sources (required by jobs that have one). */
  readonly ingest?: IngestLog;
  /** Where to record the partition's next processing-time timer, for a coordinator that cannot see this runner (AWS). */
  readonly timers?: TimerHints;
}

/** Counters of one runner. */
export interface RunnerStats {
  batches: number;
  recordsIn: number;
  recordsOut: number;
  segments: number;
  duplicates: number;
  deadLetters: number;
}

/** Runs batches of one task partition. */
export class TaskRunner {
  readonly task: TaskPlan;
  readonly partition: number;
  readonly generation: number;
  readonly stats: RunnerStats = { batches: 0, recordsIn: 0, recordsOut: 0, segments: 0, duplicates: 0, deadLetters: 0 };
  private readonly o: TaskRunnerOptions;
  private readonly channels: readonly string[];
  private readonly channelSet: ReadonlySet<string>;
  private readonly where: string;
  private readonly sourceContext: SourceContext;
  private live: Live | undefined;
  /** Bytes the store wrote for this partition since its last epoch ended (best effort: memory only). */
  private epochBytes = 0;
  /** Bytes of each epoch-ending segment not yet acked. */
  private readonly bytesByEpoch = new Map<number, number>();
  private readonly timerReporter: TimerReporter | undefined;
  /** The newest checkpoint the chain was told about (a redelivered or retried signal is not repeated). */
  private notifiedThrough = 0;

  constructor(options: TaskRunnerOptions) {
    this.o = options;
    this.task = taskById(options.plan, options.task);
    this.partition = options.partition;
    this.generation = options.generation;
    if (!Number.isInteger(this.partition) || this.partition < 0 || this.partition >= this.task.parallelism) {
      throw new ProtocolError(
        `task '${this.task.id}' has no partition ${this.partition} (parallelism ${this.task.parallelism})`,
      );
    }
    this.channels = inputChannels(options.plan, this.task, this.partition).map((c) => c.id);
    this.channelSet = new Set(this.channels);
    this.where = `${this.task.id}[${this.partition}]`;
    this.sourceContext = { job: options.plan.job, ...(options.ingest ? { ingest: options.ingest } : {}) };
    const { timers: hints, plan } = options;
    this.timerReporter =
      hints && this.task.keyed
        ? new TimerReporter({ hints, job: plan.job, task: this.task.id, partition: this.partition })
        : undefined;
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

  /** The earliest pending processing-time timer of a warm partition, if any. */
  nextProcessingTimer(): number | undefined {
    return this.live?.chain.keyed?.timers.next("p");
  }

  /** Forgets everything in memory, as a crashed container would. */
  crash(): void {
    this.live = undefined;
  }

  /** Runs one batch. Never throws for a failed batch: the result says which messages to retry. */
  async handle(messages: readonly InboundMessage[]): Promise<BatchResult> {
    this.stats.batches++;
    try {
      return await this.run(messages);
    } catch (error) {
      this.live = undefined;
      if (error instanceof SegmentConflictError) {
        try {
          return await this.run(messages);
        } catch (again) {
          this.live = undefined;
          return { failedFrom: 0, error: again };
        }
      }
      return { failedFrom: 0, error };
    }
  }

  /** Runs the batch, then records the partition's next processing-time timer if it changed. */
  private async run(messages: readonly InboundMessage[]): Promise<BatchResult> {
    const result = await this.attempt(messages, false);
    if (this.timerReporter && this.live) {
      const ticked = messages.some((m) => m.body.from === TICK_CHANNEL);
      await this.timerReporter.report(this.live, this.nextProcessingTimer(), ticked);
    }
    return result;
  }

  /** Commits slices until the batch is done; each slice is one segment. */
  private async attempt(messages: readonly InboundMessage[], isolate: boolean): Promise<BatchResult> {
    let last: Segment | undefined;
    for (let first = true; ; first = false) {
      const r = await this.slice(messages, isolate, first);
      if (r === "isolate") return this.attempt(messages, true);
      if (r.segment) last = r.segment;
      if (r.failedFrom !== undefined || !r.more) {
        const out: BatchResult = { failedFrom: r.failedFrom };
        return { ...out, ...(r.error !== undefined ? { error: r.error } : {}), ...(last ? { segment: last } : {}) };
      }
    }
  }

  private async slice(
    messages: readonly InboundMessage[],
    isolate: boolean,
    first: boolean,
  ): Promise<"isolate" | { failedFrom: number | undefined; error?: unknown; segment?: Segment; more: boolean }> {
    const live = await this.load();
    const { view } = live;
    if (view.unsent.length > 0) await this.flush(view);

    // 1. Dedup and order.
    const taken = intake(
      messages.map((m) => m.body),
      view,
      this.generation,
      this.channelSet,
      this.where,
    );
    this.stats.duplicates += first ? taken.dropped : 0;
    // Checkpoint-complete signals: tell the chain (its functions' `notifyCheckpointComplete`), once per runner.
    if (first && taken.completed !== undefined && taken.completed > this.notifiedThrough) {
      this.notifiedThrough = taken.completed;
      live.chain.head.notifyCheckpointComplete?.(taken.completed);
    }
    const now = this.o.clock.now();
    const tick = first && taken.tick;
    const start = first && taken.start;
    const timersDue = live.chain.keyed?.timers.due("p", now) ?? false;
    if (taken.consumed.length === 0 && taken.buffer.length === 0 && !tick && !start && !timersDue) {
      return { failedFrom: undefined, more: false };
    }

    // 2. Prefetch: the source chunk and the keyed state the batch touches.
    const chunk = await this.readSource(live, taken.consumed);
    await this.prefetch(live, taken.consumed);

    // 3. Process.
    const s = live.services;
    s.now = now;
    if (isolate) s.backend?.startJournal();
    const run = processSlice({
      live,
      channels: this.channels,
      isSource: this.task.isSource,
      generation: this.generation,
      maxRecordAttempts: this.o.graph.config.maxRecordAttempts,
      consumed: taken.consumed,
      attempts: messages.map((m) => m.receiveCount),
      chunk,
      isolate,
      start,
    });
    if (run.failedAt !== undefined && !isolate) {
      const exhausted = taken.consumed.some(
        (c) => (messages[c.msg]?.receiveCount ?? 0) >= this.o.graph.config.maxRecordAttempts,
      );
      const deadLetter = this.o.graph.config.recordFailure === "dead-letter";
      if (!(run.error instanceof OperatorError) || !exhausted || !deadLetter) throw run.error;
      this.live = undefined; // discard the failed attempt; rerun record by record
      return "isolate";
    }
    if (run.endsEpoch === undefined && (tick || timersDue)) live.chain.head.processTime(now);
    const failedFrom = run.failedAt === undefined ? undefined : (taken.consumed[run.failedAt] as Consumed).msg;

    // 4. Pack and commit one segment.
    const segment = this.segment(live, now, taken.buffer, run);
    this.epochBytes += await this.o.store.append(this.task.id, this.partition, segment);
    if (segment.endsEpoch !== undefined) {
      this.bytesByEpoch.set(segment.n, this.epochBytes);
      this.epochBytes = 0;
    }
    this.stats.segments++;
    this.stats.recordsOut += live.router.recordsOut;
    live.router.recordsOut = 0;
    this.stats.recordsIn += run.records;
    this.stats.deadLetters += s.deadLetters.length;
    s.deadLetters.length = 0;
    for (const arr of s.sinks.values()) arr.length = 0;
    s.backend?.commit();
    view.apply(segment);
    const wm = view.watermarkOver(this.channels);
    if (wm < IDLE_WATERMARK) s.watermark = wm;
    // Input read from the source but not committed: reopen readers at the committed positions.
    if (chunk && !run.chunkUsed) view.readers.clear();

    // 5. Send, then ack.
    try {
      await this.flush(view);
    } catch (error) {
      return { failedFrom: 0, error, segment, more: false };
    }
    if (failedFrom !== undefined) return { failedFrom, error: run.error, segment, more: false };
    return { failedFrom: undefined, segment, more: run.endsEpoch !== undefined };
  }

  private segment(live: Live, now: number, early: readonly Envelope[], run: SliceRun): Segment {
    const { view, services: s } = live;
    const { entries, seqs } = live.router.pack(
      this.generation,
      channelId(this.task.id, this.partition),
      this.o.graph.config.maxRecordsPerEnvelope,
      (k) => view.outSeqs.get(k) ?? 0,
    );
    const outbox: OutboxEntry[] = entries;
    if (run.poll) {
      // The next poll follows the last one consumed on the partition's own poll channel.
      const seq = (run.positions.get(POLL_CHANNEL) ?? view.positions.get(POLL_CHANNEL) ?? 0) + 1;
      outbox.push({
        to: { task: this.task.id, partition: this.partition },
        envelope: { gen: this.generation, from: POLL_CHANNEL, seq, records: [], signal: { kind: "poll" } },
      });
    }
    const positions = Object.fromEntries(run.positions);
    // Buffer what arrived early or was blocked, unless already buffered or consumed after all.
    const buffered = [...early, ...run.deferred].filter(
      (e, i, all) =>
        e.seq > (run.positions.get(e.from) ?? view.positions.get(e.from) ?? 0) &&
        !view.buffered(e.from, e.seq) &&
        all.findIndex((x) => x.from === e.from && x.seq === e.seq) === i,
    );
    const sink: Record<string, unknown[]> = {};
    for (const [name, arr] of s.sinks) if (arr.length > 0) sink[name] = arr.slice();
    return {
      n: view.lastSegment + 1,
      gen: this.generation,
      time: now,
      positions,
      outSeqs: seqs,
      changes: s.backend?.changes() ?? [],
      outbox,
      sentThrough: view.sentThrough,
      ...(buffered.length > 0 ? { buffered } : {}),
      ...(run.opState.size > 0 ? { opState: Object.fromEntries(run.opState) } : {}),
      ...(run.watermarks.size > 0 ? { watermarks: Object.fromEntries(run.watermarks) } : {}),
      ...(run.ended.size > 0 ? { ended: [...run.ended] } : {}),
      ...(run.finished ? { finished: true as const } : {}),
      ...(Object.keys(sink).length > 0 ? { sink } : {}),
      ...(s.deadLetters.length > 0 ? { deadLetters: s.deadLetters.slice() } : {}),
      ...(run.endsEpoch !== undefined ? { endsEpoch: run.endsEpoch, alignmentMs: run.alignmentMs ?? 0 } : {}),
      ...(run.aligning !== undefined ? { aligning: run.aligning } : {}),
    };
  }

  /** Sends the outboxes of committed segments not yet confirmed sent, then writes their acks. */
  private async flush(view: PartitionView): Promise<void> {
    const segs = view.unsent;
    if (segs.length === 0) return;
    const entries = segs.length === 1 ? (segs[0] as Segment).outbox : segs.flatMap((s) => s.outbox);
    if (entries.length > 0) await this.o.queue.send(entries);
    const cp = this.o.checkpoints;
    if (cp) {
      for (const seg of segs) {
        if (seg.endsEpoch !== undefined) {
          await cp.ack(this.o.plan.job, {
            checkpoint: seg.endsEpoch,
            task: this.task.id,
            partition: this.partition,
            segment: seg.n,
            alignmentMs: seg.alignmentMs ?? 0,
            bytes: this.bytesByEpoch.get(seg.n) ?? 0,
            time: seg.time,
          });
        }
        if (seg.finished) {
          await cp.finished(this.o.plan.job, {
            task: this.task.id,
            partition: this.partition,
            segment: seg.n,
            generation: this.generation,
          });
        }
      }
    }
    view.sentThrough = (segs[segs.length - 1] as Segment).n;
    view.unsent = [];
    this.bytesByEpoch.clear();
  }

  /** For a poll, reads about `sourceBatchSize` records: an equal share from each unfinished split. */
  private async readSource(live: Live, consumed: readonly Consumed[]): Promise<SplitChunk | undefined> {
    const source = live.chain.source;
    if (!source || !consumed.some((c) => c.env.signal?.kind === "poll")) return undefined;
    const { view } = live;
    const P = this.task.parallelism;
    const splits = source.splits(P).filter((_, i) => i % P === this.partition);
    const done = (id: string) => (view.opState.get(`split:${id}`) as { done?: boolean } | undefined)?.done === true;
    const open = splits.filter((sp) => !done(sp.id));
    const reads: SplitChunk["reads"][number][] = [];
    // Every open split reads the same share, so their event times advance together
    // (a split that lags would make its records late).
    const share = Math.max(1, Math.ceil(this.o.graph.config.sourceBatchSize / Math.max(1, open.length)));
    let cursor = open.length ? ((view.opState.get("cursor") as number | undefined) ?? 0) % open.length : 0;
    let stillOpen = open.length;
    for (let visited = 0; visited < open.length; visited++) {
      const split = open[cursor] as (typeof open)[number];
      let reader = view.readers.get(split.id);
      if (!reader) {
        const st = view.opState.get(`split:${split.id}`) as { position: unknown } | undefined;
        reader = source.reader(split, st?.position, this.sourceContext);
        view.readers.set(split.id, reader);
      }
      const chunk = await reader.read(share);
      reads.push({ split: split.id, chunk });
      if (chunk.done) stillOpen--;
      cursor = (cursor + 1) % open.length;
    }
    return { reads, allDone: stillOpen === 0, cursor };
  }

  /** On a cold cache, batch-reads the keyed state of every key the batch touches. */
  private async prefetch(live: Live, consumed: readonly Consumed[]): Promise<void> {
    const keyed = live.chain.keyed;
    const backend = live.services.backend;
    if (!keyed || !backend || backend.complete) return;
    const refs: StateRef[] = [];
    const seen = new Set<string>();
    const max = this.o.plan.maxParallelism;
    for (const { env } of consumed) {
      const input = live.chain.inputOf(env.from);
      for (const v of env.records) {
        let enc: string;
        try {
          enc = keyed.keyOf(v, input).enc;
        } catch {
          continue; // surfaces as an operator error when processed
        }
        if (seen.has(enc)) continue;
        seen.add(enc);
        for (const s of keyed.stateIds) if (!backend.has(s, enc)) refs.push({ s, k: enc, g: keyGroupOf(enc, max) });
      }
    }
    if (refs.length > 0) backend.load(refs, await this.o.store.getState(this.task.id, refs));
  }

  /** The live partition: kept warm, or rebuilt from the store. */
  private async load(): Promise<Live> {
    if (!this.live) {
      const { plan, graph, store, clock } = this.o;
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
    }
    return this.live;
  }
}
