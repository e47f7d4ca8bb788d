/**
 * Step 2 of a batch: runs consumed envelopes through the operator chain. Stops
 * right after an envelope that ends a checkpoint epoch (so the epoch's segment
 * holds exactly its records), defers envelopes of channels that a barrier blocked,
 * and in isolation mode rolls back and dead-letters single failing records.
 */

import { type Envelope, IDLE_WATERMARK } from "../envelope.ts";
import { describeCause, OperatorError } from "../errors.ts";
import type { Aligning, DeadLetter } from "../ports/state-store.ts";
import type { Consumed } from "./intake.ts";
import type { Live } from "./partition-loader.ts";
import { emptyRun, type SliceInput, type SliceRun, type SplitChunk, snapshot } from "./slice-run.ts";
import { afterPoll } from "./source-wake.ts";

/** Processes consumed envelopes until the end, a failure, or the end of an epoch. */
export function processSlice(input: SliceInput): SliceRun {
  return new SliceProcessor(input).process();
}

/** One run of {@link processSlice}: the slice's input, the run it fills in, and the channels a barrier blocked. */
class SliceProcessor {
  private readonly input: SliceInput;
  private readonly live: Live;
  private readonly run: SliceRun = emptyRun();
  /** Channels whose barrier arrived while the alignment is incomplete: their envelopes are deferred. */
  private readonly blocked: Set<string>;

  constructor(input: SliceInput) {
    this.input = input;
    this.live = input.live;
    this.blocked = new Set(input.live.view.aligning?.channels ?? []);
    this.live.writes.map = this.run.opState;
  }

  /** Runs the slice: resumes polling on a start signal, then handles envelopes until one ends the slice. */
  process(): SliceRun {
    this.resumePolling();
    const n = this.input.consumed.length;
    for (let i = 0; i < n; i++) if (!this.envelope(i)) break;
    this.flushHeld();
    return this.run;
  }

  /**
   * Ends the slice's records: the chain hands on what it held across envelopes (a keyed
   * operator's mini-batch of each key's records, `keyed-process.ts`), and watermark generators
   * emit. Also done before each signal; a failure counts as the last envelope's.
   */
  private flushHeld(): void {
    const { run } = this;
    if (run.failedAt !== undefined || run.handled === 0) return;
    try {
      this.live.chain.head.flush?.();
    } catch (error) {
      run.failedAt = run.handled - 1;
      run.error = error;
    }
  }

  /**
   * A resuming source partition (`resumesPolling`: a start signal after a restore or
   * while parked, or a wake-up time that passed) unparks; the poll the runner put at
   * the front of the slice (`inlinePoll`) reads, and decides what comes next.
   */
  private resumePolling(): void {
    const { input, run } = this;
    if (input.lingerUntil !== undefined) run.opState.set("lingerUntil", input.lingerUntil);
    if (!input.resumed) return;
    run.opState.set("pollGen", input.generation);
    if (this.live.view.opState.get("parked") === true) run.opState.set("parked", false);
  }

  /**
   * Handles consumed envelope `i`: defers it behind a barrier, or processes its
   * records and signal. False when the slice ends with it: it ended an epoch, or
   * it failed (in isolation mode, with its effects rolled back).
   */
  private envelope(i: number): boolean {
    const { input, run } = this;
    const { env, msg } = input.consumed[i] as Consumed;
    if (this.blocked.has(env.from)) {
      run.deferred.push(env);
      run.handled = i + 1;
      return true;
    }
    const attempts = input.attempts[msg] ?? 1;
    const undo = input.isolate ? mark(this.live) : undefined;
    const saved = input.isolate ? snapshot(run) : undefined;
    try {
      this.deliver(env, i, attempts);
      return run.endsEpoch === undefined;
    } catch (error) {
      run.failedAt = i;
      run.error = error;
      if (input.isolate) {
        undo?.();
        Object.assign(run, saved);
        this.live.writes.map = run.opState;
      }
      return false;
    }
  }

  /** Runs envelope `i`'s records through the chain, records its position, then acts on its signal. */
  private deliver(env: Envelope, i: number, attempts: number): void {
    const { chain } = this.live;
    this.records(env, env.records, env.times, chain.inputOf(env.from), attempts);
    const sig = env.signal;
    // What the chain holds goes on before a signal (timers, a barrier, the end see it), else at the
    // slice's end. A channel's watermark that leaves the partition's where it was changes nothing
    // the chain could see: its held records wait for the other channels' (a two-input keyed
    // function then gets both inputs' records of the slice together, `bundleFirst`).
    const held = sig?.kind === "watermark" && this.advancedBy(env.from, sig.t) === undefined;
    if (sig && !held) chain.head.flush?.();
    this.run.positions.set(env.from, env.seq);
    this.run.handled = i + 1;
    if (!sig) return;
    switch (sig.kind) {
      case "watermark":
        this.run.watermarks.set(env.from, sig.t);
        advance(this.live, this.input.channels, this.run);
        break;
      case "end":
        this.end(env);
        break;
      case "poll":
        this.poll(env, attempts);
        break;
      case "barrier":
        this.barrier(env, sig.n);
        break;
      case "tick":
      case "start":
        break;
    }
  }

  /** Processes records of `env` (its own, or a source chunk it polled) on chain input `inp`. */
  private records(
    env: Envelope,
    vals: readonly unknown[],
    times: readonly number[] | undefined,
    inp: number,
    attempts: number,
  ): void {
    const head = this.live.chain.head;
    const isolate = this.input.isolate;
    head.startRecords?.(vals);
    for (let r = 0; r < vals.length; r++) {
      const t = times?.[r];
      // Untimed records sit as NaN (null once serialized) in a timed envelope.
      const time = typeof t === "number" && !Number.isNaN(t) ? t : undefined;
      if (isolate) this.isolated(env, vals[r], time, inp, attempts);
      else head.processRecord(vals[r], time, inp);
    }
    this.run.records += vals.length;
  }

  /**
   * Processes one record on its own. If its operator fails on the record's last
   * attempt, its effects are rolled back and it becomes a dead letter; any other
   * failure propagates.
   */
  private isolated(env: Envelope, value: unknown, time: number | undefined, inp: number, attempts: number): void {
    const undo = mark(this.live);
    try {
      this.live.chain.head.processRecord(value, time, inp);
    } catch (error) {
      undo();
      if (!(error instanceof OperatorError) || attempts < this.input.maxRecordAttempts) throw error;
      const s = this.live.services;
      s.deadLetters.push({
        operator: error.operator,
        value,
        error: describeCause(error.cause),
        attempts,
        channel: env.from,
        seq: env.seq,
        time: s.now,
      } satisfies DeadLetter);
    }
  }

  /** The partition's watermark once channel `from` is at `t`, when that advances it. */
  private advancedBy(from: string, t: number): number | undefined {
    const { run } = this;
    return advancedTo(this.live, this.input.channels, new Map(run.watermarks).set(from, t), run.ended);
  }

  /** An input channel ended: the input ends when every channel has; an alignment may complete without it. */
  private end(env: Envelope): void {
    const { run, live } = this;
    const { view } = live;
    const channels = this.input.channels;
    run.ended.add(env.from);
    if (channels.every((c) => view.ended.has(c) || run.ended.has(c)) && !view.finished) {
      live.chain.head.endInput();
      run.finished = true;
    } else advance(live, channels, run);
    if (alignmentComplete(view, channels, run)) {
      const al = (run.aligning ?? view.aligning) as Aligning;
      this.endEpoch(al.n, live.services.now - al.since);
    }
  }

  /** A poll: processes the source chunk read for it, and schedules the next poll, parks, or ends the input. */
  private poll(env: Envelope, attempts: number): void {
    const c = this.input.chunk;
    if (!c) return;
    const { run, live } = this;
    const head = live.chain.head;
    for (const { split, chunk } of c.reads) {
      this.records(env, chunk.records, chunk.times, 0, attempts);
      run.opState.set(`split:${split}`, { position: chunk.position, done: chunk.done });
    }
    head.flush?.();
    run.chunkUsed = true;
    run.opState.set("cursor", c.cursor);
    if (c.allDone && !live.view.finished) {
      head.endInput();
      run.finished = true;
    } else this.nextPoll(c);
  }

  /** After a poll: poll again at once, or park (see `source-wake.ts`). */
  private nextPoll(c: SplitChunk): void {
    const { run, live } = this;
    const committed = live.view.opState.get("backoff");
    const backoff = ((run.opState.has("backoff") ? run.opState.get("backoff") : committed) as number | undefined) ?? 0;
    const linger = (
      run.opState.has("lingerUntil") ? run.opState.get("lingerUntil") : live.view.opState.get("lingerUntil")
    ) as number | undefined;
    const { poll, writes } = afterPoll(c, backoff, live.services.now, linger);
    for (const [k, v] of writes) run.opState.set(k, v);
    if (poll) {
      run.poll = true;
      run.opState.set("pollGen", this.input.generation);
    }
  }

  /** Barrier `n` on `env`'s channel: a source ends the epoch at once; other partitions align their channels first. */
  private barrier(env: Envelope, n: number): void {
    if (this.input.isSource) {
      this.snapshotReaders(n);
      this.endEpoch(n, 0);
      return;
    }
    const { run, live } = this;
    const now = live.services.now;
    const cur = run.aligning ?? live.view.aligning;
    const al: Aligning =
      cur && cur.n === n ? { ...cur, channels: [...cur.channels, env.from] } : { n, channels: [env.from], since: now };
    run.aligning = al;
    if (alignmentComplete(live.view, this.input.channels, run)) this.endEpoch(al.n, now - al.since);
    else this.blocked.add(env.from);
  }

  /** Tells each open split reader where epoch `n` ends: its split's position before this barrier. */
  private snapshotReaders(n: number): void {
    const { run, live } = this;
    for (const [id, reader] of live.view.readers) {
      if (!reader.snapshotState) continue;
      const key = `split:${id}`;
      const st = (run.opState.has(key) ? run.opState.get(key) : live.view.opState.get(key)) as
        | { position: unknown }
        | undefined;
      reader.snapshotState(n, st?.position);
    }
  }

  /** Ends epoch `n` with this slice: clears the alignment and forwards the barrier. */
  private endEpoch(n: number, alignmentMs: number): void {
    const run = this.run;
    run.endsEpoch = n;
    run.alignmentMs = alignmentMs;
    if ((run.aligning ?? this.live.view.aligning) !== undefined) run.aligning = null;
    this.live.chain.head.prepareSnapshotPreBarrier?.(n);
    this.live.router.broadcastSignal({ kind: "barrier", n });
  }
}

/** True when every input channel has delivered the pending barrier or ended. */
function alignmentComplete(view: Live["view"], channels: readonly string[], run: SliceRun): boolean {
  const al = run.aligning === undefined ? view.aligning : run.aligning;
  if (!al) return false;
  return channels.every((c) => al.channels.includes(c) || view.ended.has(c) || run.ended.has(c));
}

/** Recomputes the combined watermark and, when it advanced, passes it down the chain. */
function advance(live: Live, channels: readonly string[], run: SliceRun): void {
  const wm = advancedTo(live, channels, run.watermarks, run.ended);
  if (wm === undefined) return;
  live.services.watermark = wm;
  live.chain.head.processWatermark(wm);
}

/** The partition's watermark over `watermarks` when it is past the current one; undefined when it is not (or every live channel is idle). */
function advancedTo(
  live: Live,
  channels: readonly string[],
  watermarks: ReadonlyMap<string, number>,
  ended: ReadonlySet<string>,
): number | undefined {
  const wm = live.view.watermarkOver(channels, watermarks, ended);
  return wm < IDLE_WATERMARK && wm > live.services.watermark ? wm : undefined;
}

/** A rollback point over keyed state, operator state, routed output, sink records and dead letters. */
function mark(live: Live): () => void {
  const s = live.services;
  const ops = new Map(live.writes.map);
  const bm = s.backend?.mark() ?? 0;
  const rm = live.router.mark();
  const sinks = [...s.sinks.values(), ...s.staged.values()];
  const sm = sinks.map((a) => a.length);
  const dl = s.deadLetters.length;
  const wm = s.watermark;
  return () => {
    s.backend?.rollback(bm);
    live.router.rollback(rm);
    sinks.forEach((a, i) => {
      a.length = sm[i] ?? 0;
    });
    s.deadLetters.length = dl;
    s.watermark = wm;
    live.writes.map.clear();
    for (const [k, v] of ops) live.writes.map.set(k, v);
  };
}
