/**
 * The local coordinator reports what Step Functions bills: every state entered
 * (retries included) as a transition and every execution with its duration, under
 * the workflow type it is given, so a change of the loop shows in the cost figures.
 */

import { describe, expect, it } from "vitest";
import { coordinatorDefinition } from "../../core/checkpoint/asl.ts";
import { DEFAULT_CHECKPOINT_CONFIG } from "../../core/checkpoint/config.ts";
import { RequestAccounting } from "../../functions/aws/accounting.ts";
import {
  type CheckpointStepInput,
  type CoordinatorSteps,
  runCoordinatorLocally,
} from "../../functions/local/stepfunctions.ts";

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:riffle-${name}`;
const definition = coordinatorDefinition({
  checkpoint: { ...DEFAULT_CHECKPOINT_CONFIG, intervalMs: 1000 },
  functions: {
    trigger: arn("trigger"),
    poll: arn("poll"),
    complete: arn("complete"),
    abort: arn("abort"),
    restore: arn("restore"),
    continueAsNew: arn("continue"),
  },
});
const fast = { interval: 0, poll: 1, retry: 0 };

/** Two checkpoints, each polled three times, then the job finishes; the first Complete fails once. */
function steps(): CoordinatorSteps {
  let next = 0;
  let failed = false;
  const polls = new Map<number, number>();
  return {
    trigger: async () => (next < 2 ? { checkpoint: ++next } : { checkpoint: null, finished: true }),
    poll: async ({ checkpoint }: CheckpointStepInput) => {
      polls.set(checkpoint, (polls.get(checkpoint) ?? 0) + 1);
      return { status: (polls.get(checkpoint) ?? 0) < 3 ? "pending" : "completed" };
    },
    complete: async () => {
      if (!failed) {
        failed = true;
        throw new Error("transient");
      }
      return { manifest: "ok" };
    },
    abort: async () => ({}),
    restore: async () => ({}),
  };
}

describe("runCoordinatorLocally billing", () => {
  it("counts every state entered and every retry as a Standard transition, and the execution", async () => {
    const accounting = new RequestAccounting();
    await runCoordinatorLocally(definition, steps(), { job: "j", waitMs: fast, meter: accounting }).done;
    // Per round: WaitInterval, Trigger, AfterTrigger, 3 × (WaitForAcks, Poll, Decide), Complete, NextRound,
    // CheckRounds = 15; two rounds, one retried Complete (+1), then WaitInterval, Trigger, AfterTrigger, Done.
    const w = accounting.snapshot().stepFunctions["j-coordinator"];
    expect(w).toMatchObject({ type: "STANDARD", executions: 1, transitions: 2 * 15 + 1 + 4, gbSeconds: 0 });
    expect(w?.durationMs).toBeGreaterThan(0);
  });

  it("bills an Express machine by execution and GB-s, under the name it is given", async () => {
    const accounting = new RequestAccounting();
    const run = runCoordinatorLocally(definition, steps(), {
      job: "j",
      waitMs: fast,
      meter: accounting,
      type: "EXPRESS",
      machine: "j-loop",
    });
    await run.done;
    const w = accounting.snapshot().stepFunctions["j-loop"];
    expect(w).toMatchObject({ type: "EXPRESS", executions: 1, transitions: 35 });
    expect(w?.durationMs).toBeGreaterThanOrEqual(100); // 100 ms steps
    expect((w?.durationMs ?? 0) % 100).toBe(0);
    expect(w?.gbSeconds).toBeCloseTo((64 / 1024) * ((w?.durationMs ?? 0) / 1000), 12);
  });
});
