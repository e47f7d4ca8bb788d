import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
import { type AwsConfigOptions, mergeAwsConfig } from "../../core/api/aws-config.ts";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import {
  type AslDefinition,
  type AslTaskState,
  COORDINATOR_STATES,
  type CoordinatorAslOptions,
  type CoordinatorFunctions,
  coordinatorDefinition,
  LAMBDA_SERVICE_ERRORS,
  START_EXECUTION_SYNC,
  tickSecondsFor,
} from "../../core/checkpoint/asl.ts";
import { ROUNDS_STATES, roundsDefinition } from "../../core/checkpoint/asl-rounds.ts";
import { DEFAULT_CHECKPOINT_CONFIG } from "../../core/checkpoint/config.ts";
import { RiffleError } from "../../core/errors.ts";
import { planJob } from "../../core/graph/planner.ts";
import {
  type CoordinatorSteps,
  type RoundStepInput,
  runCoordinatorLocally,
} from "../../functions/local/stepfunctions.ts";

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:riffle-${name}`;
const functions: CoordinatorFunctions = { round: arn("round"), continueAsNew: arn("continue") };
const roundsMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:riffle-rounds";
const options = (intervalMs = 1000, roundsPerExecution?: number, pollSeconds?: number): CoordinatorAslOptions => ({
  checkpoint: { ...DEFAULT_CHECKPOINT_CONFIG, intervalMs },
  functions,
  roundsMachine,
  ...(roundsPerExecution !== undefined ? { roundsPerExecution } : {}),
  ...(pollSeconds !== undefined ? { pollSeconds } : {}),
});
const definition = (intervalMs = 1000, roundsPerExecution?: number, pollSeconds?: number) =>
  coordinatorDefinition(options(intervalMs, roundsPerExecution, pollSeconds));
const rounds = (intervalMs = 1000, pollSeconds?: number) =>
  roundsDefinition(options(intervalMs, undefined, pollSeconds));
const definitions = (roundsPerExecution?: number) => ({
  coordinator: definition(1000, roundsPerExecution),
  rounds: rounds(),
});
const tasks = (def: AslDefinition) =>
  Object.entries(def.States).filter((e): e is [string, AslTaskState] => e[1].Type === "Task");

/** Every `Next`, `Default` and choice target of a state. */
function targets(def: AslDefinition, name: string): string[] {
  const s = def.States[name] as unknown as { Next?: string; Default?: string; Choices?: { Next: string }[] };
  return [...(s.Choices ?? []).map((c) => c.Next), ...(s.Default ? [s.Default] : []), ...(s.Next ? [s.Next] : [])];
}

describe("coordinatorDefinition and roundsDefinition: shape", () => {
  it("the Standard machine runs Express executions one after another, wired as specified", () => {
    const def = definition();
    expect(Object.keys(def.States).sort()).toEqual([...COORDINATOR_STATES].sort());
    expect(def.StartAt).toBe("RunRounds");
    expect(targets(def, "RunRounds")).toEqual(["AfterRounds"]);
    expect(targets(def, "AfterRounds")).toEqual(["Done", "JobFailed", "ContinueAsNew", "NextRound"]);
    expect(targets(def, "NextRound")).toEqual(["RunRounds"]);
    expect(targets(def, "ContinueAsNew")).toEqual(["Done"]);
    expect(def.States.Done).toEqual({ Type: "Succeed" });
    expect(def.States.JobFailed).toMatchObject({ Type: "Fail", Error: "JobFailed" });
    expect(def.States.RunRounds).toMatchObject({
      Resource: START_EXECUTION_SYNC,
      Parameters: { StateMachineArn: roundsMachine, Input: { "job.$": "$.job", checkpoint: null } },
      ResultSelector: { "output.$": "$.Output" },
      TimeoutSeconds: 360, // an Express execution runs up to 300 s; a task timeout would leave it running
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "AfterRounds", ResultPath: "$.error" }],
    });
    expect(def.States.NextRound).toMatchObject({
      Type: "Pass",
      Parameters: { "job.$": "$.job", "round.$": "States.MathAdd($.round, 1)" },
    });
  });

  it("the Express machine runs one Lambda per round between waits", () => {
    const def = rounds();
    expect(Object.keys(def.States).sort()).toEqual([...ROUNDS_STATES].sort());
    expect(def.StartAt).toBe("WaitInterval");
    expect(targets(def, "WaitInterval")).toEqual(["Round"]);
    expect(targets(def, "Round")).toEqual(["AfterRound"]);
    expect(targets(def, "AfterRound")).toEqual(["RoundsDone", "RoundsDone", "WaitForAcks", "WaitInterval"]);
    expect(targets(def, "WaitForAcks")).toEqual(["Round"]);
    expect(def.States.RoundsDone).toEqual({ Type: "Succeed" });
    const round = def.States.Round as AslTaskState;
    expect(round).toMatchObject({
      Resource: functions.round,
      Parameters: { "job.$": "$.job", "checkpoint.$": "$.checkpoint", "started.$": "$$.Execution.StartTime" },
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "RoundsDone", ResultPath: "$.error" }],
    });
    expect(round.ResultPath).toBeUndefined(); // the answer replaces the state
    expect(round.Retry).toEqual([
      { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2 },
      { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
    ]);
    expect(definition().States.ContinueAsNew).toMatchObject({
      Resource: functions.continueAsNew,
      Parameters: { "job.$": "$.job", "execution.$": "$$.Execution.Name" },
    });
    // Only the Round task calls a Lambda in the loop; the Standard machine has two tasks.
    expect(tasks(def).map(([n]) => n)).toEqual(["Round"]);
    expect(tasks(definition()).map(([n]) => n)).toEqual(["RunRounds", "ContinueAsNew"]);
  });

  it("derives the waits and the execution limit from the options", () => {
    expect(rounds(1000).States.WaitInterval).toMatchObject({ Seconds: 1 });
    expect(rounds(2500).States.WaitInterval).toMatchObject({ Seconds: 3 });
    expect(rounds(0).States.WaitInterval).toMatchObject({ Seconds: 1 });
    expect(rounds(1000).States.WaitForAcks).toMatchObject({ Seconds: 1 });
    expect(rounds(1000, 4).States.WaitForAcks).toMatchObject({ Seconds: 4 });
    const continueAfter = (def: AslDefinition) =>
      (
        def.States.AfterRounds as unknown as { Choices: { Next: string; NumericGreaterThanEquals?: number }[] }
      ).Choices.find((c) => c.Next === "ContinueAsNew");
    expect(continueAfter(definition())).toMatchObject({ Variable: "$.round", NumericGreaterThanEquals: 99 });
    expect(continueAfter(definition(1000, 7))).toMatchObject({ NumericGreaterThanEquals: 6 });
    expect(() => definition(1000, 0)).toThrow(/roundsPerExecution must be an integer ≥ 1, got 0/);
    expect(() => rounds(1000, 0.5)).toThrow(/pollSeconds must be an integer ≥ 1, got 0.5/);
    expect(() => rounds(-1)).toThrow(/intervalMs must be a finite number ≥ 0/);
    // With timer ticks, a round comes every tickSeconds (at most the interval).
    const ticking = (intervalMs: number, tickSeconds: number) =>
      roundsDefinition({ ...options(intervalMs), tickSeconds });
    expect(ticking(30_000, 1).States.WaitInterval).toMatchObject({ Seconds: 1 });
    expect(ticking(30_000, 5).States.WaitInterval).toMatchObject({ Seconds: 5 });
    expect(ticking(2000, 5).States.WaitInterval).toMatchObject({ Seconds: 2 });
    expect(() => ticking(1000, 0)).toThrow(/tickSeconds must be an integer ≥ 1, got 0/);
    expect(() => coordinatorDefinition({ ...options(), functions: { ...functions, round: "" } })).toThrow(RiffleError);
    expect(() => roundsDefinition({ ...options(), roundsMachine: "" })).toThrow(
      /roundsMachine must be a non-empty ARN/,
    );
  });

  it("ticks timers every timerTickSeconds for a job with keyed tasks, and not otherwise", () => {
    const keyed = defineJob("k", (env) => {
      env
        .fromGenerator((i) => i, { count: 1 })
        .keyBy((i) => i)
        .sum()
        .sinkTo("out");
    });
    const stateless = defineJob("s", (env) => {
      env
        .fromGenerator((i) => i, { count: 1 })
        .map((i) => i)
        .sinkTo("out");
    });
    const tick = (job: typeof keyed, options: AwsConfigOptions = {}) => {
      const graph = buildGraph(job);
      return tickSecondsFor(planJob(graph), mergeAwsConfig(graph.config.aws, options));
    };
    expect(tick(keyed)).toBe(1);
    expect(tick(keyed, { timerTickSeconds: 5 })).toBe(5);
    expect(tick(keyed, { timerTickSeconds: 0 })).toBeUndefined();
    expect(tick(stateless)).toBeUndefined();
    expect(() => tick(keyed, { timerTickSeconds: 0.5 })).toThrow(/timerTickSeconds must be an integer from 0 to 3600/);
  });

  it("is plain JSONPath ASL that round-trips through JSON and passes strict validation", () => {
    for (const def of [definition(1500, 10), rounds(1500, 2)]) {
      const text = JSON.stringify(def);
      expect(JSON.parse(text)).toEqual(def);
      expect(def.QueryLanguage).toBe("JSONPath");
      expect(text).not.toMatch(/\{%|"Arguments"|"Assign"|"Condition"|JSONata/);
      for (const [, state] of tasks(def)) expect(state.Resource).toMatch(/^arn:aws:(lambda:|states:::states:)/);
      expect(() => new StateMachine(JSON.parse(text))).not.toThrow(); // ARN and JSONPath checks on
    }
  });
});

/** Waits until `check()` holds, failing with `what` after `ms`. */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A fake round that records each call's checkpoint and answers from `answer` (with the job added). */
function recorder(answer: (input: RoundStepInput, call: number) => Promise<object> | object) {
  const calls: (number | null)[] = [];
  const steps: CoordinatorSteps = {
    round: async (input) => {
      expect(input.job).toBe("job-1");
      expect(Number.isFinite(Date.parse(input.started))).toBe(true);
      calls.push(input.checkpoint);
      return { job: "job-1", ...(await answer(input, calls.length)) };
    },
  };
  return { calls, steps };
}
const fast = { interval: 0, poll: 1, retry: 0 };

describe("runCoordinatorLocally", () => {
  it("passes each round the checkpoint the previous one follows, until a round says the job finished", async () => {
    const script = [
      { checkpoint: 1 },
      { checkpoint: 1, inFlight: true },
      { checkpoint: 2, completed: 1 },
      { checkpoint: null, restored: 2 },
      { checkpoint: null },
      { checkpoint: 3 },
      { checkpoint: null, finished: true },
    ];
    const { calls, steps } = recorder((_, n) => script[n - 1] ?? {});
    const run = runCoordinatorLocally(definitions(), steps, { job: "job-1", waitMs: fast });
    await run.done;
    expect(calls).toEqual([null, 1, 1, 2, null, null, 3]);
    expect(run.executions()).toBe(1);
    expect(run.asleep()).toBe(false);
  });

  it("ends in JobFailed when a round says the job failed, with a typed error", async () => {
    const { calls, steps } = recorder((_, n) => (n < 2 ? { checkpoint: 1 } : { checkpoint: null, failed: "used up" }));
    const run = runCoordinatorLocally(definitions(), steps, { job: "job-1", waitMs: fast });
    await expect(run.done).rejects.toMatchObject({
      reason: "job-failed",
      message: expect.stringMatching(/coordinator execution 1 of job 'job-1' ended in JobFailed/),
    });
    expect(calls).toEqual([null, 1]);
  });

  it("retries a round that throws twice within the same Express execution", async () => {
    const lines: string[] = [];
    const { calls, steps } = recorder((_, n) => {
      if (n <= 2) throw new Error(`round attempt ${n} failed`);
      return { checkpoint: null, finished: true };
    });
    const run = runCoordinatorLocally(definitions(), steps, { job: "job-1", waitMs: fast, log: (l) => lines.push(l) });
    await run.done;
    expect(calls).toEqual([null, null, null]);
    expect(lines.filter((l) => l.includes("Round failed"))).toHaveLength(2);
    expect(lines.some((l) => l.includes("caught"))).toBe(false);
  });

  it("a round that always throws ends its Express execution; the next one starts and the loop goes on", async () => {
    const lines: string[] = [];
    let failing = true;
    const { calls, steps } = recorder(() => {
      if (failing) throw new Error("round is down");
      return { checkpoint: null, finished: true };
    });
    const run = runCoordinatorLocally(definitions(), steps, { job: "job-1", waitMs: fast, log: (l) => lines.push(l) });
    await until(
      "two caught rounds",
      () => lines.filter((l) => l.includes("Round caught, next RoundsDone")).length >= 2,
    );
    failing = false;
    await run.done;
    expect(calls.length).toBeGreaterThanOrEqual(9); // 1 call + 3 TaskFailed retries, twice, then the finishing round
    expect(run.executions()).toBe(1); // the Standard execution survived both
  });

  it("hands over to a new Express execution on handOver, and continues as new after roundsPerExecution", async () => {
    const started: number[] = [];
    let run: ReturnType<typeof runCoordinatorLocally> | undefined;
    const byExecution = new Map<number, number>();
    const { steps } = recorder(() => {
      const n = run?.executions() ?? 0;
      byExecution.set(n, (byExecution.get(n) ?? 0) + 1);
      return { checkpoint: null, handOver: true };
    });
    run = runCoordinatorLocally(definitions(3), steps, {
      job: "job-1",
      waitMs: fast,
      onExecution: (n) => started.push(n),
    });
    await until("a third execution", () => (run?.executions() ?? 0) >= 3);
    await run.stop();
    expect(started.slice(0, 3)).toEqual([1, 2, 3]);
    expect(byExecution.get(1)).toBe(3); // one round per Express execution, three per Standard execution
    expect(byExecution.get(2)).toBe(3);
  });

  it("sleeps when a round says so, and a wake starts the next execution", async () => {
    let sleeping = true;
    const { calls, steps } = recorder(() =>
      sleeping ? { checkpoint: null, sleeping: true } : { checkpoint: null, finished: true },
    );
    const run = runCoordinatorLocally(definitions(), steps, { job: "job-1", waitMs: fast });
    await until("asleep", () => run.asleep());
    expect(calls).toEqual([null]);
    sleeping = false;
    run.wake();
    await run.done;
    expect(calls).toEqual([null, null]);
    expect(run.executions()).toBe(2);
  });

  it("a wake that arrives while the sleeping execution is still ending is not lost", async () => {
    // A task commits and wakes the job between the round's `sleeping` write and the end
    // of its execution (chaos aws-local seed 9): the next execution must still start.
    let run: ReturnType<typeof runCoordinatorLocally> | undefined;
    const { calls, steps } = recorder((_, n) => {
      if (n > 1) return { checkpoint: null, finished: true };
      run?.wake(); // the record is awake again before this execution ends
      return { checkpoint: null, sleeping: true };
    });
    run = runCoordinatorLocally(definitions(), steps, { job: "job-1", waitMs: fast });
    await until("a second execution", () => (run?.executions() ?? 0) >= 2, 2000);
    await run.done;
    expect(calls).toEqual([null, null]);
    expect(run.asleep()).toBe(false);
  });

  it("stop() waits for the round in flight and runs no round afterwards", async () => {
    let inFlight = false;
    let finishedAfterStop = false;
    const { calls, steps } = recorder(async () => {
      inFlight = true;
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight = false;
      finishedAfterStop = true;
      return { checkpoint: 1 };
    });
    const run = runCoordinatorLocally(definitions(), steps, { job: "job-1", waitMs: fast });
    await until("a round in flight", () => inFlight);
    await run.stop();
    expect(finishedAfterStop).toBe(true);
    const count = calls.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls.length).toBe(count);
    await expect(run.done).resolves.toBeUndefined();
  });
});
