/**
 * The local coordinator reports what Step Functions bills: every state entered
 * (retries included) as a transition, and every execution with its duration, under
 * each machine's type. The shape of a round's cost: the rounds run in the Express
 * machine (billed per execution and GB-s, not per transition), so the Standard
 * machine's transitions do not grow with the number of rounds.
 */

import { describe, expect, it } from "vitest";
import { type CoordinatorAslOptions, coordinatorDefinition } from "../../core/checkpoint/asl.ts";
import { roundsDefinition } from "../../core/checkpoint/asl-rounds.ts";
import { DEFAULT_CHECKPOINT_CONFIG } from "../../core/checkpoint/config.ts";
import { RequestAccounting } from "../../functions/aws/accounting.ts";
import { snapshotUsage } from "../../functions/aws/usage.ts";
import { type CoordinatorSteps, runCoordinatorLocally } from "../../functions/local/stepfunctions.ts";

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:riffle-${name}`;
const options: CoordinatorAslOptions = {
  checkpoint: { ...DEFAULT_CHECKPOINT_CONFIG, intervalMs: 1000 },
  functions: { round: arn("round"), continueAsNew: arn("continue") },
  roundsMachine: "rounds",
};
const definitions = { coordinator: coordinatorDefinition(options), rounds: roundsDefinition(options) };
const fast = { interval: 0, poll: 1, retry: 0 };

/** `n` rounds, each following a checkpoint; the first fails once (retried); then the job finishes. */
function steps(n: number): CoordinatorSteps {
  let calls = 0;
  return {
    round: async () => {
      calls += 1;
      if (calls === 1) throw new Error("transient");
      return calls <= n ? { job: "j", checkpoint: calls } : { job: "j", checkpoint: null, finished: true };
    },
  };
}

async function bill(rounds: number) {
  const accounting = new RequestAccounting();
  await runCoordinatorLocally(definitions, steps(rounds), { job: "j", waitMs: fast, meter: accounting }).done;
  return accounting.snapshot();
}

describe("runCoordinatorLocally billing", () => {
  it("counts the rounds as Express transitions, and the Standard machine's per Express execution only", async () => {
    const few = await bill(3);
    // Standard: RunRounds, AfterRounds, Done, whatever the number of rounds.
    expect(few.stepFunctions["j-coordinator"]).toMatchObject({ type: "STANDARD", executions: 1, transitions: 3 });
    // Express: WaitInterval, Round (+1 retry), AfterRound; then per further round WaitForAcks, Round,
    // AfterRound (the last one says finished); RoundsDone.
    expect(few.stepFunctions["j-coordinator-rounds"]).toMatchObject({ type: "EXPRESS", executions: 1 });
    expect(few.stepFunctions["j-coordinator-rounds"]?.transitions).toBe(4 + 3 * 2 + 1);
    const many = await bill(30);
    expect(many.stepFunctions["j-coordinator"]?.transitions).toBe(3);
    expect(many.stepFunctions["j-coordinator-rounds"]?.transitions).toBe(4 + 29 * 3 + 1);
    // Billed: no Standard transition per round, one Express request per execution, and its duration.
    for (const s of [few, many]) {
      const u = snapshotUsage(s);
      expect(u.stateTransitions).toBe(3);
      expect(u.expressRequests).toBe(1);
      expect(u.expressGbSeconds).toBeGreaterThan(0);
    }
  });

  it("bills an Express execution in 100 ms steps at 64 MB, its time counted as it runs", async () => {
    const w = (await bill(3)).stepFunctions["j-coordinator-rounds"];
    expect(w?.durationMs).toBeGreaterThanOrEqual(100);
    expect(w?.gbSeconds).toBeCloseTo((64 / 1024) * ((w?.durationMs ?? 0) / 1000), 12);
  });
});
