/**
 * Dead-letter replays asked of a running embedded job, answered only once they are
 * durable. A replay is sent at the current generation, with the sequence numbers
 * its request fixed (`now`); it is durable once every destination partition has
 * committed it and a completed checkpoint of the same generation covers that
 * segment. A failover in between sends the same envelopes again at the new
 * generation: a partition that had committed them drops them as duplicates, one
 * whose segment was rolled back takes them once. A letter whose destination
 * partition finished without taking it is refused (nothing of it was replayed).
 * Requests are served one at a time, in order.
 */

import { groupEntries, type ReplayGroup, replayMarks, replaySeq } from "../control/replay.ts";
import type { OutboxEntry } from "../envelope.ts";
import { RiffleError } from "../errors.ts";
import { foldPartition } from "../log/read.ts";
import type { CheckpointManifest } from "../ports/checkpoint-store.ts";
import type { ReplayMark } from "../ports/output-store.ts";
import type { StateStore } from "../ports/state-store.ts";

/** A replay refused: nothing of it was replayed. */
export class ReplayError extends RiffleError {
  constructor(message: string) {
    super("replay", message);
  }
}

/** The job ended before a replay was durable: it may be half done, and only the same replay again may finish it. */
export class ReplayInterruptedError extends RiffleError {
  constructor(message: string) {
    super("replay-interrupted", message, { retryable: true });
  }
}

/** The answer to a replay. */
export interface ReplayDone {
  /** Ids of the letters replayed, durable at `checkpoint`. */
  readonly replayed: readonly string[];
  /** Ids of the letters refused: their partition had finished (nothing of them was replayed). */
  readonly refused: readonly string[];
  /** Why they were refused. */
  readonly reason?: string;
  /** The completed checkpoint that covers the replay (0: nothing was sent). */
  readonly checkpoint: number;
  /** Per replayed letter, the envelope that carried it (its replayed mark). */
  readonly marks?: Readonly<Record<string, ReplayMark>>;
}

interface Request {
  readonly groups: readonly ReplayGroup[];
  readonly now: number;
  /** Indexes of the groups refused (their partition finished without taking them). */
  readonly refused: Set<number>;
  reason: string | undefined;
  /** The generation it was last sent at. */
  sentAt: number | undefined;
  /** Once every group not refused was taken: per destination `task#partition`, a segment at or after the one that took it. */
  through: Map<string, number> | undefined;
  readonly resolve: (done: ReplayDone) => void;
  readonly reject: (e: unknown) => void;
}

/** What serving replays needs from the runtime. */
export interface ReplayServices {
  readonly generation: number;
  readonly lastCheckpoint: CheckpointManifest | undefined;
  readonly inFlight: number;
  readonly state: StateStore;
  send(entries: readonly OutboxEntry[]): Promise<void>;
  triggerCheckpoint(): Promise<number | undefined>;
}

/** Pending replays. */
export class ReplayRequests {
  private readonly pending: Request[] = [];

  /** Queues the replay of `groups`, sequenced by `now`; resolves once it is durable. */
  add(groups: readonly ReplayGroup[], now: number): Promise<ReplayDone> {
    return new Promise((resolve, reject) =>
      this.pending.push({
        groups,
        now,
        refused: new Set(),
        reason: undefined,
        sentAt: undefined,
        through: undefined,
        resolve,
        reject,
      }),
    );
  }

  /** Whether a replay is waiting. */
  get size(): number {
    return this.pending.length;
  }

  /** Advances the oldest request. */
  async serve(s: ReplayServices): Promise<void> {
    const req = this.pending[0];
    if (!req) return;
    try {
      const done = await advance(req, s);
      if (!done) return;
      this.pending.shift();
      req.resolve(done);
    } catch (e) {
      this.pending.shift();
      req.reject(e);
    }
  }

  /** Rejects every request still pending (the job ended first). */
  rejectAll(error: unknown): void {
    for (const req of this.pending.splice(0)) req.reject(error);
  }
}

/** One step of a request: (re)send, wait until taken, wait for a checkpoint that covers it. */
async function advance(req: Request, s: ReplayServices): Promise<ReplayDone | undefined> {
  if (req.sentAt !== s.generation) {
    await taken(req, s.state); // refuses what a finished partition can no longer take
    const entries = groupEntries(req.groups, s.generation, req.now).filter((_, i) => !req.refused.has(i));
    if (entries.length > 0) await s.send(entries);
    req.sentAt = s.generation;
    req.through = undefined;
  }
  const ids = (keep: (i: number) => boolean) =>
    req.groups.flatMap((g, i) => (keep(i) ? g.letters.map((d) => d.id) : []));
  const answer = (checkpoint: number): ReplayDone => ({
    replayed: ids((i) => !req.refused.has(i)),
    refused: ids((i) => req.refused.has(i)),
    ...(req.reason ? { reason: req.reason } : {}),
    checkpoint,
    marks: replayMarks(req.groups, s.generation, req.now, (i) => !req.refused.has(i)),
  });
  if (req.refused.size === req.groups.length) return answer(0);
  if (!req.through) {
    req.through = await taken(req, s.state);
    if (req.through && s.inFlight === 0) await s.triggerCheckpoint();
    return undefined;
  }
  const last = s.lastCheckpoint;
  if (!last || last.generation !== s.generation) return undefined;
  for (const [k, segment] of req.through) if ((last.cut?.[k] ?? 0) < segment) return undefined;
  return answer(last.id);
}

/**
 * Per destination `task#partition`, its last committed segment once every group not
 * refused has been taken (committed past its sequence number); `undefined` while
 * one has not. A group whose partition finished without taking it is refused.
 */
async function taken(req: Request, state: StateStore): Promise<Map<string, number> | undefined> {
  const through = new Map<string, number>();
  let waiting = false;
  for (const [i, g] of req.groups.entries()) {
    if (req.refused.has(i)) continue;
    const view = await foldPartition(state, g.task, g.partition);
    if ((view.positions.get(g.channel) ?? 0) >= replaySeq(req.now, i)) {
      through.set(`${g.task}#${g.partition}`, view.lastSegment);
    } else if (view.finished) {
      req.refused.add(i);
      req.reason = `${g.task}[${g.partition}] has finished (its input ended): it takes no replay`;
    } else waiting = true;
  }
  return waiting ? undefined : through;
}
