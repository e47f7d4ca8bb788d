import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
import { type AwsConfigOptions, mergeAwsConfig } from "../../core/api/aws-config.ts";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import {
  type AslDefinition,
  type AslTaskState,
  COORDINATOR_STATES,
  type CoordinatorFunctions,
  coordinatorDefinition,
  LAMBDA_SERVICE_ERRORS,
  tickSecondsFor,
} from "../../core/checkpoint/asl.ts";
import { DEFAULT_CHECKPOINT_CONFIG } from "../../core/checkpoint/config.ts";
import { RiffleError } from "../../core/errors.ts";
import { planJob } from "../../core/graph/planner.ts";
import {
  type CheckpointStepInput,
  type CoordinatorSteps,
  runCoordinatorLocally,
} from "../../functions/local/stepfunctions.ts";

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:riffle-${name}`;
const functions: CoordinatorFunctions = {
  trigger: arn("trigger"),
  poll: arn("poll"),
  complete: arn("complete"),
  abort: arn("abort"),
  restore: arn("restore"),
  continueAsNew: arn("continue"),
};
const definition = (intervalMs = 1000, roundsPerExecution?: number, pollSeconds?: number) =>
  coordinatorDefinition({
    checkpoint: { ...DEFAULT_CHECKPOINT_CONFIG, intervalMs },
    functions,
    ...(roundsPerExecution !== undefined ? { roundsPerExecution } : {}),
    ...(pollSeconds !== undefined ? { pollSeconds } : {}),
  });
const tasks = (def: AslDefinition) =>
  Object.entries(def.States).filter((e): e is [string, AslTaskState] => e[1].Type === "Task");

/** Every `Next`, `Default` and choice target of a state. */
function targets(def: AslDefinition, name: string): string[] {
  const s = def.States[name] as unknown as { Next?: string; Default?: string; Choices?: { Next: string }[] };
  return [...(s.Choices ?? []).map((c) => c.Next), ...(s.Default ? [s.Default] : []), ...(s.Next ? [s.Next] : [])];
}

describe("coordinatorDefinition: shape", () => {
  it("has exactly the contract's states, starting with WaitInterval, wired as specified", () => {
    const def = definition();
    expect(Object.keys(def.States).sort()).toEqual([...COORDINATOR_STATES].sort());
    expect(def.StartAt).toBe("WaitInterval");
    expect(targets(def, "WaitInterval")).toEqual(["Trigger"]);
    expect(targets(def, "Trigger")).toEqual(["AfterTrigger"]);
    expect(targets(def, "AfterTrigger")).toEqual(["Done", "JobFailed", "NextRound", "WaitForAcks"]);
    expect(targets(def, "WaitForAcks")).toEqual(["Poll"]);
    expect(targets(def, "Poll")).toEqual(["Decide"]);
    expect(targets(def, "Decide")).toEqual(["Complete", "Abort", "Restore", "Done", "NextRound", "WaitForAcks"]);
    expect(targets(def, "Complete")).toEqual(["NextRound"]);
    expect(targets(def, "Abort")).toEqual(["AfterAbort"]);
    expect(targets(def, "AfterAbort")).toEqual(["Restore", "NextRound"]);
    expect(targets(def, "Restore")).toEqual(["AfterRestore"]);
    expect(targets(def, "AfterRestore")).toEqual(["JobFailed", "NextRound"]);
    expect(targets(def, "NextRound")).toEqual(["CheckRounds"]);
    expect(targets(def, "CheckRounds")).toEqual(["ContinueAsNew", "WaitInterval"]);
    expect(targets(def, "ContinueAsNew")).toEqual(["Done"]);
    expect(def.States.Done).toEqual({ Type: "Succeed" });
    expect(def.States.JobFailed).toMatchObject({ Type: "Fail", Error: "JobFailed" });
    expect(def.States.NextRound).toMatchObject({
      Type: "Pass",
      Parameters: { "job.$": "$.job", "round.$": "States.MathAdd($.round, 1)" },
    });
  });

  it("derives the waits and the round limit from the options", () => {
    expect(definition(1000).States.WaitInterval).toMatchObject({ Seconds: 1 });
    expect(definition(2500).States.WaitInterval).toMatchObject({ Seconds: 3 });
    expect(definition(0).States.WaitInterval).toMatchObject({ Seconds: 1 });
    expect(definition(1000).States.WaitForAcks).toMatchObject({ Seconds: 1 });
    expect(definition(1000, 7, 4).States.WaitForAcks).toMatchObject({ Seconds: 4 });
    expect(definition().States.CheckRounds).toMatchObject({ Choices: [{ NumericGreaterThanEquals: 100 }] });
    expect(definition(1000, 7).States.CheckRounds).toMatchObject({ Choices: [{ NumericGreaterThanEquals: 7 }] });
    expect(() => definition(1000, 0)).toThrow(/roundsPerExecution must be an integer ≥ 1, got 0/);
    expect(() => definition(1000, 5, 0.5)).toThrow(/pollSeconds must be an integer ≥ 1, got 0.5/);
    // With timer ticks, a round comes every tickSeconds (at most the interval).
    const ticking = (intervalMs: number, tickSeconds: number) =>
      coordinatorDefinition({ checkpoint: { ...DEFAULT_CHECKPOINT_CONFIG, intervalMs }, functions, tickSeconds });
    expect(ticking(30_000, 1).States.WaitInterval).toMatchObject({ Seconds: 1 });
    expect(ticking(30_000, 5).States.WaitInterval).toMatchObject({ Seconds: 5 });
    expect(ticking(2000, 5).States.WaitInterval).toMatchObject({ Seconds: 2 });
    expect(() => ticking(1000, 0)).toThrow(/tickSeconds must be an integer ≥ 1, got 0/);
    expect(() =>
      coordinatorDefinition({ checkpoint: DEFAULT_CHECKPOINT_CONFIG, functions: { ...functions, poll: "" } }),
    ).toThrow(RiffleError);
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

  it("calls only the given Lambdas, with the contract's parameters, retries and catches", () => {
    const def = definition();
    const byState = Object.fromEntries(tasks(def));
    expect(Object.keys(byState).sort()).toEqual(["Abort", "Complete", "ContinueAsNew", "Poll", "Restore", "Trigger"]);
    const job = { "job.$": "$.job" };
    const jobCheckpoint = { "job.$": "$.job", "checkpoint.$": "$.trigger.checkpoint" };
    const expected: Record<string, [string, object, string]> = {
      Trigger: [functions.trigger, job, "$.trigger"],
      Poll: [functions.poll, jobCheckpoint, "$.poll"],
      Complete: [functions.complete, jobCheckpoint, "$.complete"],
      Abort: [functions.abort, jobCheckpoint, "$.abort"],
      Restore: [functions.restore, job, "$.restore"],
      ContinueAsNew: [functions.continueAsNew, { ...job, "execution.$": "$$.Execution.Name" }, "$.continued"],
    };
    for (const [name, [resource, parameters, resultPath]] of Object.entries(expected)) {
      const state = byState[name] as AslTaskState;
      expect(state.Resource, name).toBe(resource);
      expect(state.Parameters, name).toEqual(parameters);
      expect(state.ResultPath, name).toBe(resultPath);
      expect(state.Retry, name).toEqual([
        { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2 },
        { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
      ]);
      const catches =
        name === "ContinueAsNew"
          ? undefined
          : [{ ErrorEquals: ["States.ALL"], Next: "NextRound", ResultPath: "$.error" }];
      expect(state.Catch, name).toEqual(catches);
    }
  });

  it("is plain JSONPath ASL that round-trips through JSON and passes strict validation", () => {
    const def = definition(1500, 10, 2);
    const text = JSON.stringify(def);
    expect(JSON.parse(text)).toEqual(def);
    expect(def.QueryLanguage).toBe("JSONPath");
    expect(text).not.toMatch(/\{%|"Arguments"|"Output"|"Assign"|"Condition"|JSONata/);
    expect(text).not.toMatch(/arn:aws:states:::/); // no service integrations, Lambda ARNs only
    for (const [, state] of tasks(def)) expect(state.Resource).toMatch(/^arn:aws:lambda:/);
    expect(() => new StateMachine(JSON.parse(text))).not.toThrow(); // ARN and JSONPath checks on
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

/** Fake steps that record every call as `State(args)`. */
function recorder(overrides: Partial<CoordinatorSteps>) {
  const calls: string[] = [];
  const fallback = async () => ({});
  const wrap =
    <I extends { job: string; checkpoint?: number }>(name: string, fn?: (input: I) => Promise<unknown>) =>
    async (input: I) => {
      expect(input.job).toBe("job-1");
      calls.push(input.checkpoint === undefined ? name : `${name}(${input.checkpoint})`);
      return (fn ?? fallback)(input);
    };
  const steps: CoordinatorSteps = {
    trigger: wrap("Trigger", overrides.trigger),
    poll: wrap("Poll", overrides.poll),
    complete: wrap("Complete", overrides.complete),
    abort: wrap("Abort", overrides.abort),
    restore: wrap("Restore", overrides.restore),
  };
  return { calls, steps };
}
const fast = { interval: 0, poll: 1, retry: 0 };

describe("runCoordinatorLocally", () => {
  it("triggers, polls while pending, completes, and goes to the next round until the job finishes", async () => {
    let next = 0;
    const polls = new Map<number, number>();
    const { calls, steps } = recorder({
      trigger: async () => (next < 2 ? { checkpoint: ++next } : { checkpoint: null, finished: true }),
      poll: async ({ checkpoint }: CheckpointStepInput) => {
        polls.set(checkpoint, (polls.get(checkpoint) ?? 0) + 1);
        return { status: (polls.get(checkpoint) ?? 0) < 3 ? "pending" : "completed" };
      },
      complete: async () => ({ manifest: "ok" }),
    });
    const run = runCoordinatorLocally(definition(), steps, { job: "job-1", waitMs: fast });
    await run.done;
    expect(calls).toEqual([
      ...["Trigger", "Poll(1)", "Poll(1)", "Poll(1)", "Complete(1)"],
      ...["Trigger", "Poll(2)", "Poll(2)", "Poll(2)", "Complete(2)"],
      "Trigger",
    ]);
    expect(run.executions()).toBe(1);
  });

  it("aborts on timeout and restores on failover; 'aborted' and an empty round go straight on", async () => {
    const script = [
      { trigger: { checkpoint: 1 }, poll: "timeout", failover: false },
      { trigger: { checkpoint: 2 }, poll: "timeout", failover: true },
      { trigger: { checkpoint: 3 }, poll: "failover" },
      { trigger: { checkpoint: 4 }, poll: "aborted" },
      { trigger: { checkpoint: null } },
      { trigger: { checkpoint: 5 }, poll: "finished" },
    ];
    let round = -1;
    const { calls, steps } = recorder({
      trigger: async () => script[++round]?.trigger,
      poll: async () => ({ status: script[round]?.poll }),
      abort: async () => ({ failover: script[round]?.failover }),
    });
    const run = runCoordinatorLocally(definition(), steps, { job: "job-1", waitMs: fast });
    await run.done;
    expect(calls).toEqual([
      ...["Trigger", "Poll(1)", "Abort(1)"],
      ...["Trigger", "Poll(2)", "Abort(2)", "Restore"],
      ...["Trigger", "Poll(3)", "Restore"],
      ...["Trigger", "Poll(4)"],
      "Trigger",
      ...["Trigger", "Poll(5)"],
    ]);
  });

  it("ends in JobFailed when Restore or Trigger says the job failed, with a typed error", async () => {
    for (const [failingStep, script] of [
      [
        "Restore",
        {
          trigger: { checkpoint: 1 },
          poll: "failover",
          restore: { generation: 1, checkpoint: null, failed: "used up" },
        },
      ],
      ["Trigger", { trigger: { checkpoint: null, failed: "used up" } }],
    ] as const) {
      const { calls, steps } = recorder({
        trigger: async () => script.trigger,
        poll: async () => ({ status: "poll" in script ? script.poll : "pending" }),
        restore: async () => ("restore" in script ? script.restore : {}),
      });
      const run = runCoordinatorLocally(definition(), steps, { job: "job-1", waitMs: fast });
      await expect(run.done, failingStep).rejects.toMatchObject({
        reason: "job-failed",
        message: expect.stringMatching(/coordinator execution 1 of job 'job-1' ended in JobFailed/),
      });
      expect(calls.at(-1), failingStep).toBe(failingStep);
      expect(run.executions()).toBe(1);
    }
  });

  it("retries a step that throws twice, within the same round and execution", async () => {
    let attempts = 0;
    const lines: string[] = [];
    const pollSeenIn: number[] = [];
    let run: ReturnType<typeof runCoordinatorLocally> | undefined;
    const { calls, steps } = recorder({
      trigger: async () => {
        attempts += 1;
        if (attempts <= 2) throw new Error(`trigger attempt ${attempts} failed`);
        return attempts === 3 ? { checkpoint: 1 } : { checkpoint: null, finished: true };
      },
      poll: async () => {
        pollSeenIn.push(run?.executions() ?? 0);
        return { status: "completed" };
      },
    });
    // One round per execution: a caught failure would end the round and start execution 2.
    run = runCoordinatorLocally(definition(1000, 1), steps, { job: "job-1", waitMs: fast, log: (l) => lines.push(l) });
    await run.done;
    expect(pollSeenIn).toEqual([1]);
    expect(calls).toEqual(["Trigger", "Trigger", "Trigger", "Poll(1)", "Complete(1)", "Trigger"]);
    expect(run.executions()).toBe(2); // the finished trigger ran in the continued execution
    expect(lines.filter((l) => l.includes("Trigger failed"))).toHaveLength(2);
    expect(lines.some((l) => l.includes("caught"))).toBe(false);
  });

  it("catches a step that always throws and keeps looping", async () => {
    const lines: string[] = [];
    let serviceErrors = 0;
    const { calls, steps } = recorder({
      trigger: async () => ({ checkpoint: 7 }),
      poll: async () => {
        throw new Error("poll is down");
      },
      complete: async () => {
        serviceErrors += 1;
        throw Object.assign(new Error("throttled"), { name: "Lambda.TooManyRequestsException" });
      },
    });
    const run = runCoordinatorLocally(definition(), steps, { job: "job-1", waitMs: fast, log: (l) => lines.push(l) });
    await until("three rounds", () => calls.filter((c) => c === "Trigger").length >= 3);
    await run.stop();
    const rounds = calls.filter((c) => c === "Trigger").length;
    const polls = calls.filter((c) => c === "Poll(7)").length;
    expect(polls).toBeGreaterThanOrEqual(4 * (rounds - 1)); // 1 call + 3 TaskFailed retries per round
    expect(polls).toBeLessThanOrEqual(4 * rounds);
    expect(lines.filter((l) => l.includes("Poll caught, next NextRound")).length).toBeGreaterThanOrEqual(rounds - 1);
    expect(serviceErrors).toBe(0);
    await expect(run.done).resolves.toBeUndefined();

    // A Lambda service error uses the first retrier: 1 call + 5 retries, then caught.
    let poll = 0;
    const second = recorder({
      trigger: async () => (poll === 0 ? { checkpoint: 8 } : { checkpoint: null, finished: true }),
      poll: async () => ({ status: poll++ === 0 ? "completed" : "pending" }),
      complete: async () => {
        serviceErrors += 1;
        throw Object.assign(new Error("throttled"), { name: "Lambda.TooManyRequestsException" });
      },
    });
    await runCoordinatorLocally(definition(), second.steps, { job: "job-1", waitMs: fast }).done;
    expect(serviceErrors).toBe(6);
    expect(second.calls).toEqual(["Trigger", "Poll(8)", ...Array(6).fill("Complete(8)"), "Trigger"]);
  });

  it("continues as a new execution after roundsPerExecution rounds", async () => {
    const started: number[] = [];
    const triggersByExecution = new Map<number, number>();
    let run: ReturnType<typeof runCoordinatorLocally> | undefined;
    const { steps } = recorder({
      trigger: async () => {
        const n = run?.executions() ?? 0;
        triggersByExecution.set(n, (triggersByExecution.get(n) ?? 0) + 1);
        return { checkpoint: null };
      },
    });
    run = runCoordinatorLocally(definition(1000, 3), steps, {
      job: "job-1",
      waitMs: fast,
      onExecution: (n) => started.push(n),
    });
    await until("a third execution", () => (run?.executions() ?? 0) >= 3);
    await run.stop();
    expect(run.executions()).toBeGreaterThanOrEqual(3);
    expect(started.slice(0, 3)).toEqual([1, 2, 3]);
    expect(triggersByExecution.get(1)).toBe(3);
    expect(triggersByExecution.get(2)).toBe(3);
  });

  it("stop() waits for the step in flight and runs no step afterwards", async () => {
    let inFlight = false;
    let finishedAfterStop = false;
    const { calls, steps } = recorder({
      trigger: async () => ({ checkpoint: 1 }),
      poll: async () => {
        inFlight = true;
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight = false;
        finishedAfterStop = true;
        return { status: "pending" };
      },
    });
    const run = runCoordinatorLocally(definition(), steps, { job: "job-1", waitMs: fast });
    await until("a poll in flight", () => inFlight);
    await run.stop();
    expect(finishedAfterStop).toBe(true);
    const count = calls.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls.length).toBe(count);
    await expect(run.done).resolves.toBeUndefined();
  });

  it("rejects done with a typed error when an execution fails", async () => {
    const { steps } = recorder({
      trigger: async () => ({ checkpoint: 1 }),
      poll: async () => ({ state: "completed" }), // no `status`: the Choice cannot evaluate
    });
    const run = runCoordinatorLocally(definition(), steps, { job: "job-1", waitMs: fast });
    await expect(run.done).rejects.toMatchObject({
      reason: "coordinator-execution",
      message: expect.stringMatching(/coordinator execution 1 of job 'job-1' failed/),
    });
  });
});
