/**
 * Replay of dead-lettered records: each goes back to its task — to the partition
 * that owns its key now (`replay-routing.ts`), which after a rescale may not be the
 * one that set it aside — on the replay channel of its original input channel
 * (`$replay:<channel>`), and runs through the chain again. Replay channels are
 * sequenced by replay time with gaps allowed, so a replay that is delivered twice
 * is processed once. A letter that failed again on a replay channel goes back on
 * the same replay channel (see {@link replayChannel}), however many rounds it took.
 */

import { type OutboxEntry, replayChannel } from "../envelope.ts";
import type { ReplayMark, StoredDeadLetter } from "../ports/output-store.ts";
import type { ReplayDestination } from "./replay-routing.ts";

/** Letters that go back in one envelope: same task, destination partition and replay channel. */
export interface ReplayGroup {
  readonly task: string;
  readonly partition: number;
  /** The replay channel. */
  readonly channel: string;
  /** In id order. */
  readonly letters: StoredDeadLetter[];
}

/** Where a letter goes when no router is given: back where it came from. */
const unrouted = (d: StoredDeadLetter): ReplayDestination => ({ partition: d.partition, channel: d.channel });

/** The dead letters a replay sends: those not replayed yet, every one or just `ids`. */
export function lettersToReplay(letters: readonly StoredDeadLetter[], ids?: readonly string[]): StoredDeadLetter[] {
  const wanted = ids ? new Set(ids) : undefined;
  return letters.filter((d) => d.replayedAt === undefined && (!wanted || wanted.has(d.id)));
}

/** Groups `letters` by the envelope that replays them: one per (task, partition, replay channel). */
export function replayGroups(
  letters: readonly StoredDeadLetter[],
  route: (letter: StoredDeadLetter) => ReplayDestination = unrouted,
): ReplayGroup[] {
  const groups = new Map<string, ReplayGroup>();
  for (const d of letters) {
    const to = route(d);
    const channel = replayChannel(to.channel);
    const k = `${d.task}\u0000${to.partition}\u0000${channel}`;
    let g = groups.get(k);
    if (!g) {
      g = { task: d.task, partition: to.partition, channel, letters: [] };
      groups.set(k, g);
    }
    g.letters.push(d);
  }
  return [...groups.values()];
}

/**
 * The envelopes of `groups` at `generation`, in order. `now` (ms) seeds the
 * sequence numbers, so a later replay always sorts after an earlier one, and the
 * same `now` gives the same envelopes (a replay sent again is a duplicate).
 */
export function groupEntries(groups: readonly ReplayGroup[], generation: number, now: number): OutboxEntry[] {
  return groups.map((g, i) => ({
    to: { task: g.task, partition: g.partition },
    envelope: { gen: generation, from: g.channel, seq: replaySeq(now, i), records: g.letters.map((d) => d.value) },
  }));
}

/**
 * Per letter id, the envelope of `groups` at `generation` that carries it (the
 * replayed mark, see `core/checkpoint/replay-undo.ts`); groups for which `sent` is
 * false are left out.
 */
export function replayMarks(
  groups: readonly ReplayGroup[],
  generation: number,
  now: number,
  sent: (i: number) => boolean = () => true,
): Record<string, ReplayMark> {
  const marks: Record<string, ReplayMark> = {};
  groups.forEach((g, i) => {
    if (!sent(i)) return;
    const mark = { generation, task: g.task, partition: g.partition, channel: g.channel, seq: replaySeq(now, i) };
    for (const d of g.letters) marks[d.id] = mark;
  });
  return marks;
}

/** The sequence number of the `i`-th envelope of a replay at `now` (ms). */
export function replaySeq(now: number, i: number): number {
  return Math.floor(now) * 1000 + i;
}

/** Envelopes that replay `letters` at `generation` (see {@link replayGroups} and {@link groupEntries}). */
export function replayEntries(
  letters: readonly StoredDeadLetter[],
  generation: number,
  now: number,
  route: (letter: StoredDeadLetter) => ReplayDestination = unrouted,
): OutboxEntry[] {
  return groupEntries(replayGroups(letters, route), generation, now);
}
