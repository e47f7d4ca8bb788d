/**
 * The TaskRunner: runs one batch of one task partition, end to end —
 * dedup, process, pack, commit one segment, send. Both runtimes run this code;
 * only the ports differ. See "One batch, end to end" in DESIGN.md.
 */

import type { SourceChunk } from "../api/source.ts";
import { channelId, type Envelope, type OutboxEntry, POLL_CHANNEL, TICK_CHANNEL } from "../envelope.ts";
import { describeCause, OperatorError, ProtocolError, SegmentConflictError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import { inputChannels, taskById } from "../graph/planner.ts";
import { decodeKey, keyGroupOf, keyGroupRange } from "../keys.ts";
import type { TaskServices } from "../operators/operator.ts";
import type { Clock } from "../ports/clock.ts";
import type { Queue } from "../ports/queue.ts";
import type { DeadLetter, Segment, StateRef, StateStore } from "../ports/state-store.ts";
import { buildChain, type Chain } from "./chain.ts";
import { KeyedBackend } from "./keyed-backend.ts";
import { PartitionView } from "./partition-view.ts";
import { Router } from "./router.ts";
import type { KeyTimers } from "./timers.ts";

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
  /** The segment this batch committed, if any. */
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

interface Live {
  readonly view: PartitionView;
  readonly chain: Chain;
  readonly router: Router;
  readonly services: TaskServices;
}

interface Consumed {
  readonly env: Envelope;
  /** Index of the message that delivered it (or released it from the buffer). */
  readonly msg: number;
}

/** Runs batches of one task partition. */
export class TaskRunner {
  readonly task: TaskPlan;
  readonly partition: number;
  readonly stats: RunnerStats = { batches: 0, recordsIn: 0, recordsOut: 0, segments: 0, duplicates: 0, deadLetters: 0 };
  private readonly o: TaskRunnerOptions;
  private readonly channels: readonly string[];
  private readonly channelSet: ReadonlySet<string>;
  private live: Live | undefined;

  constructor(options: TaskRunnerOptions) {
    this.o = options;
    this.task = taskById(options.plan, options.task);
    this.partition = options.partition;
    if (!Number.isInteger(this.partition) || this.partition < 0 || this.partition >= this.task.parallelism) {
      throw new ProtocolError(
        `task '${this.task.id}' has no partition ${this.partition} (parallelism ${this.task.parallelism})`,
      );
    }
    this.channels = inputChannels(options.plan, this.task, this.partition).map((c) => c.id);
    this.channelSet = new Set(this.channels);
  }

  /** Segments up to this number are committed and their outboxes confirmed sent. */
  get sentThrough(): number {
    return this.live?.view.sentThrough ?? 0;
  }

  /** True when this partition has forwarded end-of-input. */
  get finished(): boolean {
    return this.live?.view.finished ?? false;
  }

  /** Forgets everything in memory, as a crashed container would. */
  crash(): void {
    this.live = undefined;
  }

  /** Runs one batch. Never throws for a failed batch: the result says which messages to retry. */
  async handle(messages: readonly InboundMessage[]): Promise<BatchResult> {
    this.stats.batches++;
    try {
      return await this.attempt(messages, false);
    } catch (error) {
      this.live = undefined;
      if (error instanceof SegmentConflictError) {
        try {
          return await this.attempt(messages, false);
        } catch (again) {
          this.live = undefined;
          return { failedFrom: 0, error: again };
        }
      }
      return { failedFrom: 0, error };
    }
  }

  private async attempt(messages: readonly InboundMessage[], isolate: boolean): Promise<BatchResult> {
    const live = await this.load();
    const { view } = live;
    if (view.unsent.length > 0) await this.flush(view);

    // 1. Dedup and order.
    const pending = new Map<string, number>();
    const consumed: Consumed[] = [];
    const early: Envelope[] = [];
    let tick = false;
    for (let i = 0; i < messages.length; i++) {
      const e = (messages[i] as InboundMessage).body;
      if (e.from === TICK_CHANNEL) {
        tick = true;
        continue;
      }
      if (e.gen < this.o.generation) {
        this.stats.duplicates++;
        continue;
      }
      if (e.gen > this.o.generation) {
        throw new ProtocolError(`envelope of generation ${e.gen} reached a runner of generation ${this.o.generation}`);
      }
      if (!this.channelSet.has(e.from)) {
        throw new ProtocolError(`${this.task.id}[${this.partition}] has no input channel '${e.from}'`);
      }
      let pos = pending.get(e.from) ?? view.positions.get(e.from) ?? 0;
      if (e.seq <= pos) {
        this.stats.duplicates++;
        continue;
      }
      if (e.seq > pos + 1) {
        if (!view.buffered(e.from, e.seq) && !early.some((x) => x.from === e.from && x.seq === e.seq)) early.push(e);
        continue;
      }
      consumed.push({ env: e, msg: i });
      pos = e.seq;
      for (;;) {
        const next = view.buffered(e.from, pos + 1) ?? early.find((x) => x.from === e.from && x.seq === pos + 1);
        if (!next) break;
        consumed.push({ env: next, msg: i });
        pos++;
      }
      pending.set(e.from, pos);
    }
    const buffered = early.filter((e) => e.seq > (pending.get(e.from) ?? view.positions.get(e.from) ?? 0));
    const now = this.o.clock.now();
    const timersDue = live.chain.keyed?.timers.due("p", now) ?? false;
    if (consumed.length === 0 && buffered.length === 0 && !tick && !timersDue) return { failedFrom: undefined };

    // 2. Prefetch: source chunks and keyed state the batch touches.
    const chunks = await this.readSources(live, consumed);
    await this.prefetch(live, consumed);

    // 3. Process.
    const s = live.services;
    s.now = now;
    if (isolate) live.services.backend?.startJournal();
    const run = this.process(live, messages, consumed, chunks, isolate);
    if (run.failedAt !== undefined && !isolate) {
      const canIsolate =
        run.error instanceof OperatorError &&
        consumed.some((c) => (messages[c.msg]?.receiveCount ?? 0) >= this.o.graph.config.maxRecordAttempts);
      if (!canIsolate) throw run.error;
      this.live = undefined; // discard the failed attempt, rerun record by record
      return this.attempt(messages, true);
    }
    if (tick || timersDue) live.chain.head.processTime(now);
    const done = run.failedAt === undefined ? consumed : consumed.slice(0, run.failedAt);
    const failedFrom = run.failedAt === undefined ? undefined : (consumed[run.failedAt] as Consumed).msg;
    const positions: Record<string, number> = {};
    for (const { env } of done) positions[env.from] = env.seq;

    // 4. Pack and commit one segment.
    const { entries, seqs } = live.router.pack(
      this.o.generation,
      channelId(this.task.id, this.partition),
      this.o.graph.config.maxRecordsPerEnvelope,
      (k) => view.outSeqs.get(k) ?? 0,
    );
    if (run.poll) {
      // The next poll follows the one just consumed on the partition's own poll channel.
      const seq = (positions[POLL_CHANNEL] ?? view.positions.get(POLL_CHANNEL) ?? 0) + 1;
      const to = { task: this.task.id, partition: this.partition };
      entries.push({
        to,
        envelope: { gen: this.o.generation, from: POLL_CHANNEL, seq, records: [], signal: { kind: "poll" } },
      });
    }
    const segment = this.segment(view, live, now, positions, seqs, entries, buffered, run);
    await this.o.store.append(this.task.id, this.partition, segment);
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
    if (wm !== Number.POSITIVE_INFINITY) s.watermark = wm;
    // A failed tail may have read source input that was not committed: reopen readers at the committed positions.
    if (run.failedAt !== undefined) view.readers.clear();

    // 5. Send.
    try {
      await this.flush(view);
    } catch (error) {
      return { failedFrom: 0, error, segment };
    }
    return failedFrom === undefined ? { failedFrom, segment } : { failedFrom, error: run.error, segment };
  }

  private segment(
    view: PartitionView,
    live: Live,
    now: number,
    positions: Record<string, number>,
    outSeqs: Record<string, number>,
    outbox: OutboxEntry[],
    buffered: Envelope[],
    run: ProcessRun,
  ): Segment {
    const s = live.services;
    const sink: Record<string, unknown[]> = {};
    for (const [name, arr] of s.sinks) if (arr.length > 0) sink[name] = arr.slice();
    return {
      n: view.lastSegment + 1,
      gen: this.o.generation,
      time: now,
      positions,
      outSeqs,
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
    };
  }

  /** Sends the outboxes of committed segments not yet confirmed sent. */
  private async flush(view: PartitionView): Promise<void> {
    const segs = view.unsent;
    if (segs.length === 0) return;
    const entries = segs.length === 1 ? (segs[0] as Segment).outbox : segs.flatMap((s) => s.outbox);
    if (entries.length > 0) await this.o.queue.send(entries);
    view.sentThrough = (segs[segs.length - 1] as Segment).n;
    view.unsent = [];
  }

  private process(
    live: Live,
    messages: readonly InboundMessage[],
    consumed: readonly Consumed[],
    chunks: Map<string, SourceChunk<unknown>>,
    isolate: boolean,
  ): ProcessRun {
    const { view, chain, services: s } = live;
    const head = chain.head;
    const backend = s.backend;
    const router = live.router;
    const run: ProcessRun = {
      failedAt: undefined,
      error: undefined,
      records: 0,
      poll: false,
      finished: false,
      watermark: undefined,
      opState: new Map(),
      watermarks: new Map(),
      ended: new Set(),
    };
    const maxAttempts = this.o.graph.config.maxRecordAttempts;
    const records = (
      env: Envelope,
      vals: readonly unknown[],
      times: readonly number[] | undefined,
      input: number,
      attempts: number,
    ) => {
      for (let r = 0; r < vals.length; r++) {
        const t = times?.[r];
        const time = t === undefined || Number.isNaN(t) ? undefined : t;
        if (!isolate) {
          head.processRecord(vals[r], time, input);
          continue;
        }
        const bm = backend?.mark() ?? 0;
        const rm = router.mark();
        const sm = [...s.sinks.values()].map((a) => a.length);
        try {
          head.processRecord(vals[r], time, input);
        } catch (error) {
          backend?.rollback(bm);
          router.rollback(rm);
          [...s.sinks.values()].forEach((a, i) => {
            a.length = sm[i] ?? 0;
          });
          if (!(error instanceof OperatorError) || attempts < maxAttempts) throw error;
          s.deadLetters.push({
            operator: error.operator,
            value: vals[r],
            error: describeCause(error.cause),
            attempts,
            channel: env.from,
            seq: env.seq,
            time: s.now,
          } satisfies DeadLetter);
        }
      }
      run.records += vals.length;
    };

    for (let i = 0; i < consumed.length; i++) {
      const { env, msg } = consumed[i] as Consumed;
      const attempts = messages[msg]?.receiveCount ?? 1;
      const bm = backend?.mark() ?? 0;
      const rm = router.mark();
      const sm = [...s.sinks.values()].map((a) => a.length);
      const dl = s.deadLetters.length;
      const saved = {
        poll: run.poll,
        finished: run.finished,
        records: run.records,
        watermark: run.watermark,
        opState: new Map(run.opState),
        watermarks: new Map(run.watermarks),
        ended: new Set(run.ended),
      };
      try {
        const input =
          env.from === POLL_CHANNEL ? 0 : (chain.inputIndex.get(env.from.slice(0, env.from.lastIndexOf("#"))) ?? 0);
        records(env, env.records, env.times, input, attempts);
        const sig = env.signal;
        if (!sig) continue;
        switch (sig.kind) {
          case "watermark": {
            run.watermarks.set(env.from, sig.t);
            this.advance(live, run);
            break;
          }
          case "end": {
            run.ended.add(env.from);
            if (this.channels.every((c) => view.ended.has(c) || run.ended.has(c)) && !view.finished) {
              head.endInput();
              run.finished = true;
            } else this.advance(live, run);
            break;
          }
          case "poll": {
            let allDone = true;
            for (const [splitId, chunk] of chunks) {
              records(env, chunk.records, chunk.times, 0, attempts);
              run.opState.set(`split:${splitId}`, { position: chunk.position, done: chunk.done });
              if (!chunk.done) allDone = false;
            }
            if (allDone && !view.finished) {
              head.endInput();
              run.finished = true;
            } else run.poll = !allDone;
            break;
          }
          case "barrier":
            throw new ProtocolError("checkpoint barriers are not supported by this runtime yet");
          case "tick":
            break;
        }
      } catch (error) {
        if (!isolate) {
          run.failedAt = i;
          run.error = error;
          return run;
        }
        backend?.rollback(bm);
        router.rollback(rm);
        [...s.sinks.values()].forEach((a, j) => {
          a.length = sm[j] ?? 0;
        });
        s.deadLetters.length = dl;
        Object.assign(run, saved);
        run.failedAt = i;
        run.error = error;
        return run;
      }
    }
    return run;
  }

  /** Recomputes the combined watermark and, when it advanced, passes it down the chain. */
  private advance(live: Live, run: ProcessRun): void {
    const wm = live.view.watermarkOver(this.channels, run.watermarks, run.ended);
    const current = run.watermark ?? live.services.watermark;
    if (wm > current && wm !== Number.POSITIVE_INFINITY) {
      run.watermark = wm;
      live.services.watermark = wm;
      live.chain.head.processWatermark(wm);
    }
  }

  /** Reads the next chunk of every unfinished split when the batch carries a poll. */
  private async readSources(live: Live, consumed: readonly Consumed[]): Promise<Map<string, SourceChunk<unknown>>> {
    const chunks = new Map<string, SourceChunk<unknown>>();
    const source = live.chain.source;
    if (!source || !consumed.some((c) => c.env.signal?.kind === "poll")) return chunks;
    const { view } = live;
    const splits = source.splits(this.task.parallelism).filter((_, i) => i % this.task.parallelism === this.partition);
    for (const split of splits) {
      const st = view.opState.get(`split:${split.id}`) as { position: unknown; done: boolean } | undefined;
      if (st?.done) continue;
      let reader = view.readers.get(split.id);
      if (!reader) {
        reader = source.reader(split, st?.position);
        view.readers.set(split.id, reader);
      }
      chunks.set(split.id, await reader.read(this.o.graph.config.sourceBatchSize));
    }
    return chunks;
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
      const input = live.chain.inputIndex.get(env.from.slice(0, env.from.lastIndexOf("#"))) ?? 0;
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
    if (this.live) return this.live;
    const { plan, graph, store } = this.o;
    const base = await store.readBase(this.task.id, this.partition);
    const segments = await store.readSegments(this.task.id, this.partition, base?.through ?? 0);
    const view = PartitionView.fromBase(base);
    for (const seg of segments) view.apply(seg);
    const empty = base === undefined && segments.length === 0;
    const keyGroups = keyGroupRange(this.partition, this.task.parallelism, plan.maxParallelism);
    const backend = this.task.keyed ? new KeyedBackend(empty) : undefined;
    const services: TaskServices = {
      backend,
      sinks: new Map(),
      deadLetters: [],
      now: this.o.clock.now(),
      watermark: Number.NEGATIVE_INFINITY,
      keyGroups,
      maxParallelism: plan.maxParallelism,
    };
    const wm = view.watermarkOver(this.channels);
    if (wm !== Number.POSITIVE_INFINITY) services.watermark = wm;
    const router = new Router(plan, graph, this.task, this.partition);
    const chain = buildChain(graph, this.task, router, services);
    if (chain.keyed && backend && !empty) {
      const keyed = chain.keyed;
      const stored = await store.scanState(this.task.id, keyed.timers.stateId, keyGroups.start, keyGroups.end);
      const refs: StateRef[] = [];
      for (const [enc] of stored) {
        for (const s of keyed.stateIds) refs.push({ s, k: enc, g: keyGroupOf(enc, plan.maxParallelism) });
      }
      if (refs.length > 0) backend.load(refs, await store.getState(this.task.id, refs));
      keyed.timers.restore(
        stored.map(([enc, t]) => [enc, keyGroupOf(enc, plan.maxParallelism), decodeKey(enc), t as KeyTimers] as const),
      );
    }
    this.live = { view, chain, router, services };
    return this.live;
  }
}

interface ProcessRun {
  /** Index in `consumed` of the envelope that failed. */
  failedAt: number | undefined;
  error: unknown;
  records: number;
  /** Whether the source has more to read (schedule another poll). */
  poll: boolean;
  finished: boolean;
  watermark: number | undefined;
  opState: Map<string, unknown>;
  watermarks: Map<string, number>;
  ended: Set<string>;
}
