/**
 * Step 3 of a batch: packs what a slice did into the segment it commits — state
 * changes, positions, output envelopes (the outbox) with their sequence numbers,
 * sink records, dead letters, buffered envelopes and the epoch's end.
 */

import { type Envelope, type OutboxEntry, POLL_CHANNEL } from "../envelope.ts";
import type { JobConfig } from "../graph/graph.ts";
import type { Segment } from "../ports/state-store.ts";
import type { Live } from "./partition-loader.ts";
import { nextStats, STATS_KEY } from "./partition-stats.ts";
import type { SliceRun } from "./slice-run.ts";

/** The partition a segment belongs to. */
export interface SegmentOwner {
  readonly task: string;
  readonly partition: number;
  readonly generation: number;
  /** The job's settings (`maxRecordsPerEnvelope`: how output is packed). */
  readonly config: Pick<JobConfig, "maxRecordsPerEnvelope">;
}

/** The next segment of `live`'s partition, written at `now`, for `run` and the envelopes that arrived `early`. */
export function buildSegment(
  live: Live,
  owner: SegmentOwner,
  now: number,
  early: readonly Envelope[],
  run: SliceRun,
): Segment {
  const { view, services: s } = live;
  const recordsOut = live.router.recordsOut; // before `pack`, which does not reset it
  const { entries, seqs } = live.router.pack(
    owner.generation,
    owner.config.maxRecordsPerEnvelope,
    (k) => view.outSeqs.get(k) ?? 0,
  );
  const outbox: OutboxEntry[] = entries;
  if (run.poll) {
    // The next poll follows the last one consumed on the partition's own poll channel.
    const seq = (run.positions.get(POLL_CHANNEL) ?? view.positions.get(POLL_CHANNEL) ?? 0) + 1;
    outbox.push({
      to: { task: owner.task, partition: owner.partition },
      envelope: { gen: owner.generation, from: POLL_CHANNEL, seq, records: [], signal: { kind: "poll" } },
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
  const staged: Record<string, unknown[]> = {};
  for (const [uid, arr] of s.staged) if (arr.length > 0) staged[uid] = arr.slice();
  const changes = s.backend?.changes() ?? [];
  const stats = nextStats(view, { recordsIn: run.records, recordsOut, changes, deadLetters: s.deadLetters });
  if (stats) run.opState.set(STATS_KEY, stats);
  return {
    n: view.lastSegment + 1,
    gen: owner.generation,
    time: now,
    positions,
    outSeqs: seqs,
    changes,
    outbox,
    sentThrough: view.sentThrough,
    ...(buffered.length > 0 ? { buffered } : {}),
    ...(run.opState.size > 0 ? { opState: Object.fromEntries(run.opState) } : {}),
    ...(run.watermarks.size > 0 ? { watermarks: Object.fromEntries(run.watermarks) } : {}),
    ...(run.ended.size > 0 ? { ended: [...run.ended] } : {}),
    ...(run.finished ? { finished: true as const } : {}),
    ...(Object.keys(sink).length > 0 ? { sink } : {}),
    ...(Object.keys(staged).length > 0 ? { staged } : {}),
    ...(s.deadLetters.length > 0 ? { deadLetters: s.deadLetters.slice() } : {}),
    ...(run.endsEpoch !== undefined ? { endsEpoch: run.endsEpoch, alignmentMs: run.alignmentMs ?? 0 } : {}),
    ...(run.aligning !== undefined ? { aligning: run.aligning } : {}),
  };
}
