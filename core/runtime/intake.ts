/**
 * Step 1 of a batch: dedup and order. Decides, for every delivered envelope,
 * whether it is a duplicate (drop), next on its channel (consume), ahead of its
 * turn or on a channel blocked by barrier alignment (buffer durably), and drains
 * the buffer of channels whose gap filled.
 */

import {
  CONTROL_CHANNEL,
  type Envelope,
  NOTIFY_CHANNEL,
  originalChannel,
  REPLAY_PREFIX,
  START_CHANNEL,
  TICK_CHANNEL,
} from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import type { PartitionView } from "../log/view.ts";

/** An envelope to process, with the index of the message that delivered or released it. */
export interface Consumed {
  readonly env: Envelope;
  readonly msg: number;
}

/** What the intake decided for one batch. */
export interface Intake {
  /** Envelopes to process, in order. */
  readonly consumed: Consumed[];
  /** Envelopes to add to the durable buffer (not yet in it). */
  readonly buffer: Envelope[];
  /** A tick asked to fire due processing-time timers. */
  readonly tick: boolean;
  /** A start signal asked a source partition to (re)start polling. */
  readonly start: boolean;
  /** The latest `until` of this generation's windowed starts (`core/control/wake-window.ts`), if any. */
  readonly startUntil: number | undefined;
  /** The newest checkpoint a checkpoint-complete signal of this generation announced, if any. */
  readonly completed: number | undefined;
  /** Duplicates and stale-generation envelopes dropped. */
  readonly dropped: number;
}

/** Runs the intake over `bodies` against the committed `view`. */
export function intake(
  bodies: readonly Envelope[],
  view: PartitionView,
  generation: number,
  channels: ReadonlySet<string>,
  where: string,
): Intake {
  const consumed: Consumed[] = [];
  const early = new Map<string, Map<number, Envelope>>();
  const pos = new Map<string, number>();
  const blocked = new Set(view.aligning?.channels ?? []);
  let tick = false;
  let start = false;
  let startUntil: number | undefined;
  let completed: number | undefined;
  let dropped = 0;
  const position = (c: string) => pos.get(c) ?? view.positions.get(c) ?? 0;
  const isEarly = (e: Envelope) => early.get(e.from)?.has(e.seq) ?? false;
  const drain = (c: string, msg: number) => {
    if (blocked.has(c)) return;
    for (;;) {
      const next = position(c) + 1;
      const e = view.buffered(c, next) ?? early.get(c)?.get(next);
      if (!e) return;
      early.get(c)?.delete(next);
      consumed.push({ env: e, msg });
      pos.set(c, next);
    }
  };

  // Channels unblocked since the last batch may have buffered envelopes ready.
  for (const c of view.buffer.keys()) drain(c, 0);

  bodies.forEach((e, i) => {
    if (e.from === NOTIFY_CHANNEL) {
      // Of this generation only: a runner of a later one may not have seen the earlier notifications.
      if (e.gen === generation && e.signal?.kind === "checkpoint-complete") {
        completed = Math.max(completed ?? 0, e.signal.n);
      }
      return;
    }
    if (e.from === TICK_CHANNEL || e.from === START_CHANNEL) {
      if (e.from === TICK_CHANNEL) tick = true;
      else if (e.gen === generation) {
        start = true;
        const until = e.signal?.kind === "start" ? e.signal.until : undefined;
        if (until !== undefined) startUntil = Math.max(startUntil ?? until, until);
      }
      return;
    }
    if (e.gen !== generation) {
      if (e.gen > generation) {
        throw new ProtocolError(
          `${where}: envelope of generation ${e.gen} reached a runner of generation ${generation}`,
        );
      }
      dropped++;
      return;
    }
    const replay = e.from.startsWith(REPLAY_PREFIX);
    if (!channels.has(originalChannel(e.from))) throw new ProtocolError(`${where} has no input channel '${e.from}'`);
    const p = position(e.from);
    if (e.seq <= p) {
      dropped++;
      return;
    }
    // Barriers from the coordinator may skip ids (a checkpoint that never reached this partition).
    const gapless = e.from !== CONTROL_CHANNEL && !replay;
    if ((gapless && e.seq > p + 1) || blocked.has(e.from)) {
      if (!view.buffered(e.from, e.seq) && !isEarly(e)) {
        let m = early.get(e.from);
        if (!m) {
          m = new Map();
          early.set(e.from, m);
        }
        m.set(e.seq, e);
      }
      return;
    }
    consumed.push({ env: e, msg: i });
    pos.set(e.from, e.seq);
    drain(e.from, i);
  });
  const buffer = [...early.values()].flatMap((m) => [...m.values()]);
  return { consumed, buffer, tick, start, startUntil, completed, dropped };
}
