/**
 * The coordinator's timer ticks for runners it cannot see (AWS): from the
 * partitions' timer hints, a tick envelope to each partition whose next
 * processing-time timer is due — the embedded scheduler's ticks, done from the store.
 */

import type { CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { Queue } from "../ports/queue.ts";
import type { TimerHints } from "../ports/timer-hints.ts";
import { tickEntries } from "./signals.ts";

/** A due timer whose tick went unanswered this long gets another one. */
export const RETICK_MS = 5000;

/** What sending ticks works on. */
export interface TickContext {
  readonly job: string;
  readonly timers: TimerHints;
  readonly checkpoints: CheckpointStore;
  readonly queue: Pick<Queue, "send">;
  readonly clock: Clock;
}

/**
 * Sends a tick to every partition whose recorded next timer is due, unless the job
 * is restoring, failed or not started. A tick is marked on its hint before it is
 * sent, so a partition gets one at a time; one unanswered for {@link RETICK_MS} (or
 * lost with a failed send) is sent again. Returns how many were sent.
 */
export async function sendDueTicks(c: TickContext): Promise<number> {
  const record = await c.checkpoints.loadJob(c.job);
  if (!record || record.restoring || record.failed) return 0;
  const now = c.clock.now();
  // A hint missed by the lagging read is ticked a round later; a stale one fails markTicked.
  const due = (await c.timers.list(c.job, { lagging: true })).filter(
    (h) => h.at <= now && (h.tickedAt === undefined || now - h.tickedAt >= RETICK_MS),
  );
  const marked = [];
  for (const h of due) if (await c.timers.markTicked(c.job, h, now)) marked.push(h);
  if (marked.length > 0) await c.queue.send(tickEntries(marked, record.generation));
  return marked.length;
}
