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
import type { StoredDeadLetter } from "../ports/output-store.ts";
import type { ReplayDestination } from "./replay-routing.ts";

/**
 * Envelopes that replay `letters` at `generation`: one per (partition, channel),
 * records in id order. `now` (ms) seeds the sequence numbers, so a later replay
 * always sorts after an earlier one.
 */
export function replayEntries(
  letters: readonly StoredDeadLetter[],
  generation: number,
  now: number,
  route: (letter: StoredDeadLetter) => ReplayDestination = (d) => ({ partition: d.partition, channel: d.channel }),
): OutboxEntry[] {
  const groups = new Map<string, { task: string; partition: number; channel: string; records: unknown[] }>();
  for (const d of letters) {
    const to = route(d);
    const channel = replayChannel(to.channel);
    const k = `${d.task}\u0000${to.partition}\u0000${channel}`;
    let g = groups.get(k);
    if (!g) {
      g = { task: d.task, partition: to.partition, channel, records: [] };
      groups.set(k, g);
    }
    g.records.push(d.value);
  }
  const base = Math.floor(now) * 1000;
  return [...groups.values()].map((g, i) => ({
    to: { task: g.task, partition: g.partition },
    envelope: { gen: generation, from: g.channel, seq: base + i, records: g.records },
  }));
}
