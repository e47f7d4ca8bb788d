// Fixtures shared by the InMemoryQueue tests.

import type { Envelope, OutboxEntry } from "../../core/envelope.ts";
import { InMemoryQueue, type InMemoryQueueOptions } from "../../core/memory/in-memory-queue.ts";
import { ManualClock } from "../../core/ports/clock.ts";

export const TASK = "task-a";
export const VISIBILITY = 1_000;

export function envelope(seq: number, from = "up#0"): Envelope {
  return { gen: 1, from, seq, records: [`r${seq}`] };
}

export function entry(partition: number, seq: number, task = TASK): OutboxEntry {
  return { to: { task, partition }, envelope: envelope(seq, `up#${partition}`) };
}

export function setup(options: InMemoryQueueOptions = {}): { clock: ManualClock; queue: InMemoryQueue } {
  const clock = new ManualClock(10_000);
  const queue = new InMemoryQueue(clock, { visibilityTimeoutMs: VISIBILITY, maxReceiveCount: 5, ...options });
  return { clock, queue };
}

/** Sends `count` envelopes (seq 1..count) to `group` of TASK. */
export async function fill(queue: InMemoryQueue, group: number, count: number, firstSeq = 1): Promise<void> {
  await queue.send(Array.from({ length: count }, (_, i) => entry(group, firstSeq + i)));
}

export const seqs = (msgs: readonly { body: Envelope }[]) => msgs.map((m) => m.body.seq);
