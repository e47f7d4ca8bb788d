/**
 * Step 2 of a batch: runs consumed envelopes through the operator chain. Stops
 * right after an envelope that ends a checkpoint epoch (so the epoch's segment
 * holds exactly its records), defers envelopes of channels that a barrier blocked,
 * and in isolation mode rolls back and dead-letters single failing records.
 */

import type { SourceChunk } from "../api/source.ts";
import { type Envelope, IDLE_WATERMARK } from "../envelope.ts";
import { describeCause, OperatorError } from "../errors.ts";
import type { Aligning, DeadLetter } from "../ports/state-store.ts";
import type { Consumed } from "./intake.ts";
import type { Live } from "./partition-loader.ts";

/** What one poll read from the partition's splits. */
export interface SplitChunk {
  readonly reads: readonly { readonly split: string; readonly chunk: SourceChunk<unknown> }[];
  /** Every split of the partition is done after these reads. */
  readonly allDone: boolean;
  /** Rotation cursor after these reads. */
  readonly cursor: number;
}

/** What processing a slice did; becomes the segment. */
export interface SliceRun {
  /** Index in `consumed` of the envelope that failed. */
  failedAt: number | undefined;
  error: unknown;
  /** Consumed entries handled (processed or deferred); the rest wait for the next slice. */
  handled: number;
  records: number;
  /** Schedule another poll of the source. */
  poll: boolean;
  /** The poll chunk was processed (else the reader ran ahead and must be reopened). */
  chunkUsed: boolean;
  finished: boolean;
  /** Input channel → last seq processed. */
  positions: Map<string, number>;
  opState: Map<string, unknown>;
  watermarks: Map<string, number>;
  ended: Set<string>;
  /** Envelopes of channels that a barrier in this slice blocked. */
  deferred: Envelope[];
  endsEpoch: number | undefined;
  alignmentMs: number | undefined;
  /** New alignment state: `undefined` unchanged, `null` cleared. */
  aligning: Aligning | null | undefined;
}

/** Inputs of {@link processSlice}. */
export interface SliceInput {
  readonly live: Live;
  /** Input channels of the partition. */
  readonly channels: readonly string[];
  readonly isSource: boolean;
  readonly generation: number;
  readonly maxRecordAttempts: number;
  readonly consumed: readonly Consumed[];
  /** Receive count of each message of the batch. */
  readonly attempts: readonly number[];
  readonly chunk: SplitChunk | undefined;
  readonly isolate: boolean;
  /** A start signal arrived. */
  readonly start: boolean;
}

/** Processes consumed envelopes until the end, a failure, or the end of an epoch. */
export function processSlice(input: SliceInput): SliceRun {
  const { live, channels, consumed, isolate } = input;
  const { view, chain, services: s, router } = live;
  const head = chain.head;
  const run: SliceRun = {
    failedAt: undefined,
    error: undefined,
    handled: 0,
    records: 0,
    poll: false,
    chunkUsed: false,
    finished: false,
    positions: new Map(),
    opState: new Map(),
    watermarks: new Map(),
    ended: new Set(),
    deferred: [],
    endsEpoch: undefined,
    alignmentMs: undefined,
    aligning: undefined,
  };
  const blocked = new Set(view.aligning?.channels ?? []);
  live.writes.map = run.opState;
  const pollGen = () => (run.opState.has("pollGen") ? run.opState.get("pollGen") : view.opState.get("pollGen"));
  const parked = () => (run.opState.has("parked") ? run.opState.get("parked") : view.opState.get("parked")) === true;
  if (input.start && input.isSource && !view.finished && (pollGen() !== input.generation || parked())) {
    run.poll = true;
    run.opState.set("pollGen", input.generation);
    if (parked()) run.opState.set("parked", false);
  }

  const records = (
    env: Envelope,
    vals: readonly unknown[],
    times: readonly number[] | undefined,
    inp: number,
    attempts: number,
  ) => {
    for (let r = 0; r < vals.length; r++) {
      const t = times?.[r];
      // Untimed records sit as NaN (null once serialized) in a timed envelope.
      const time = typeof t === "number" && !Number.isNaN(t) ? t : undefined;
      if (!isolate) {
        head.processRecord(vals[r], time, inp);
        continue;
      }
      const undo = mark(live);
      try {
        head.processRecord(vals[r], time, inp);
      } catch (error) {
        undo();
        if (!(error instanceof OperatorError) || attempts < input.maxRecordAttempts) throw error;
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

  const endEpoch = (n: number, alignmentMs: number) => {
    run.endsEpoch = n;
    run.alignmentMs = alignmentMs;
    if ((run.aligning ?? view.aligning) !== undefined) run.aligning = null;
    router.broadcastSignal({ kind: "barrier", n });
  };

  for (let i = 0; i < consumed.length; i++) {
    const { env, msg } = consumed[i] as Consumed;
    if (blocked.has(env.from)) {
      run.deferred.push(env);
      run.handled = i + 1;
      continue;
    }
    const attempts = input.attempts[msg] ?? 1;
    const undo = isolate ? mark(live) : undefined;
    const saved = isolate ? snapshot(run) : undefined;
    try {
      const inp = chain.inputOf(env.from);
      records(env, env.records, env.times, inp, attempts);
      if (env.records.length > 0) head.flush?.();
      run.positions.set(env.from, env.seq);
      run.handled = i + 1;
      const sig = env.signal;
      if (!sig) continue;
      switch (sig.kind) {
        case "watermark":
          run.watermarks.set(env.from, sig.t);
          advance(live, channels, run);
          break;
        case "end":
          run.ended.add(env.from);
          if (channels.every((c) => view.ended.has(c) || run.ended.has(c)) && !view.finished) {
            head.endInput();
            run.finished = true;
          } else advance(live, channels, run);
          if (alignmentComplete(view, channels, run)) {
            const al = (run.aligning ?? view.aligning) as Aligning;
            endEpoch(al.n, s.now - al.since);
          }
          break;
        case "poll": {
          const c = input.chunk;
          if (!c) break;
          for (const { split, chunk } of c.reads) {
            records(env, chunk.records, chunk.times, 0, attempts);
            run.opState.set(`split:${split}`, { position: chunk.position, done: chunk.done });
          }
          head.flush?.();
          run.chunkUsed = true;
          run.opState.set("cursor", c.cursor);
          if (c.allDone && !view.finished) {
            head.endInput();
            run.finished = true;
          } else if (
            c.reads.length > 0 &&
            c.reads.every((r) => r.chunk.idle === true && r.chunk.records.length === 0)
          ) {
            // Nothing to read: stop polling until a start signal wakes the partition.
            run.opState.set("parked", true);
          } else {
            run.poll = true;
            run.opState.set("pollGen", input.generation);
          }
          break;
        }
        case "barrier": {
          if (input.isSource) {
            endEpoch(sig.n, 0);
            break;
          }
          const cur = run.aligning ?? view.aligning;
          const al: Aligning =
            cur && cur.n === sig.n
              ? { ...cur, channels: [...cur.channels, env.from] }
              : { n: sig.n, channels: [env.from], since: s.now };
          run.aligning = al;
          if (alignmentComplete(view, channels, run)) endEpoch(al.n, s.now - al.since);
          else blocked.add(env.from);
          break;
        }
        case "tick":
        case "start":
          break;
      }
      if (run.endsEpoch !== undefined) return run;
    } catch (error) {
      run.failedAt = i;
      run.error = error;
      if (isolate) {
        undo?.();
        Object.assign(run, saved);
        live.writes.map = run.opState;
      }
      return run;
    }
  }
  return run;
}

/** True when every input channel has delivered the pending barrier or ended. */
function alignmentComplete(view: Live["view"], channels: readonly string[], run: SliceRun): boolean {
  const al = run.aligning === undefined ? view.aligning : run.aligning;
  if (!al) return false;
  return channels.every((c) => al.channels.includes(c) || view.ended.has(c) || run.ended.has(c));
}

/** Recomputes the combined watermark and, when it advanced, passes it down the chain. */
function advance(live: Live, channels: readonly string[], run: SliceRun): void {
  const wm = live.view.watermarkOver(channels, run.watermarks, run.ended);
  // Every live channel idle (or ended): nothing to advance to.
  if (wm >= IDLE_WATERMARK) return;
  if (wm > live.services.watermark) {
    live.services.watermark = wm;
    live.chain.head.processWatermark(wm);
  }
}

/** A rollback point over keyed state, routed output, sink records and dead letters. */
function mark(live: Live): () => void {
  const s = live.services;
  const bm = s.backend?.mark() ?? 0;
  const rm = live.router.mark();
  const sinks = [...s.sinks.values()];
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
  };
}

function snapshot(run: SliceRun): Partial<SliceRun> {
  return {
    handled: run.handled,
    records: run.records,
    poll: run.poll,
    chunkUsed: run.chunkUsed,
    finished: run.finished,
    positions: new Map(run.positions),
    opState: new Map(run.opState),
    watermarks: new Map(run.watermarks),
    ended: new Set(run.ended),
    deferred: [...run.deferred],
    aligning: run.aligning,
  };
}
