/**
 * A seeded fault schedule for a bounded job on the embedded runtime, the one the
 * exactly-once end-to-end tests use: before a batch, with probability 0.05 each, the
 * runner crashes, the commit crashes after its append or before it, or a send dies
 * part way; one send in ten is duplicated. Faults armed for a batch never outlive it.
 */

import type { Job } from "../../core/api/environment.ts";
import { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { seededRandom } from "../../core/ml/random.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { FaultyQueue, FaultyStore } from "./faults.ts";

/** What a faulty run committed, and how many faults it survived. */
export interface FaultyRun {
  readonly output: Map<string, unknown[]>;
  readonly faults: number;
}

/** Runs `job` to completion under the fault schedule of `seed`. */
export async function runWithFaults(job: Job, seed: number): Promise<FaultyRun> {
  const rng = seededRandom(seed);
  const clock = new ManualClock();
  const queue = new FaultyQueue(new InMemoryQueue(clock, { maxReceiveCount: 50 }));
  const store = new FaultyStore(new InMemoryStateStore());
  let faults = 0;
  const output = await runToCompletion(job, {
    clock,
    queue,
    store,
    beforeBatch: (runner) => {
      const x = rng();
      queue.duplicate = rng() < 0.1;
      if (x < 0.2) faults++;
      if (x < 0.05) runner.crash();
      else if (x < 0.1) store.crashAfterAppend = true;
      else if (x < 0.15) queue.crashSendAfter = Math.floor(rng() * 3);
      else if (x < 0.2) store.crashBeforeAppend = true;
    },
    simulation: {
      wrapBatch: async (_runner, _messages, run) => {
        try {
          return await run();
        } finally {
          queue.disarm();
          store.disarm();
        }
      },
    },
  });
  return { output, faults };
}
