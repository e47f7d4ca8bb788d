/**
 * The deployment plan the stacks are built from (no CDK): `env.configureAws`
 * settings and their checks, per-task overrides, resource names within AWS limits,
 * and which queues each task may send to.
 */

import { describe, expect, it } from "vitest";
import { DEFAULT_AWS_CONFIG, mergeAwsConfig } from "../../core/api/aws-config.ts";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { JobDefinitionError, RiffleError } from "../../core/errors.ts";
import clicks from "../../examples/clicks.ts";
import q5 from "../../examples/nexmark/q5.ts";
import { deploymentPlan, fitName } from "../../stacks/deploy-plan.ts";

function job(aws: Record<string, unknown>, attempts?: number) {
  return defineJob("cfg", (env) => {
    env.configureAws(aws as never);
    if (attempts !== undefined) env.configure({ maxRecordAttempts: attempts });
    env
      .fromElements([1, 2])
      .keyBy((n) => n)
      .process({ processElement: (n, ctx) => ctx.emit(n) })
      .sinkTo("out");
  });
}

describe("env.configureAws", () => {
  it("defaults to 1,024 MB, 30 s, 10 receives and a 600 s age alarm", () => {
    expect(buildGraph(clicks).config.aws).toEqual(DEFAULT_AWS_CONFIG);
    expect(DEFAULT_AWS_CONFIG).toMatchObject({ memoryMb: 1024, timeoutSeconds: 30, maxReceiveCount: 10 });
  });

  it("merges settings and per-task overrides, keeping what is not given", () => {
    const a = mergeAwsConfig(DEFAULT_AWS_CONFIG, { memoryMb: 512, tasks: { t: { timeoutSeconds: 60 } } });
    const b = mergeAwsConfig(a, { timeoutSeconds: 10, tasks: { t: { memoryMb: 256 } } });
    expect(b).toEqual({
      ...DEFAULT_AWS_CONFIG,
      memoryMb: 512,
      timeoutSeconds: 10,
      tasks: { t: { timeoutSeconds: 60, memoryMb: 256 } },
    });
    expect(DEFAULT_AWS_CONFIG.tasks).toEqual({});
  });

  it("throttles the HTTP API to 100 requests/s with bursts of 200 unless told otherwise, merging a partial setting", () => {
    expect(DEFAULT_AWS_CONFIG.apiThrottle).toEqual({ rateLimit: 100, burstLimit: 200 });
    const a = mergeAwsConfig(DEFAULT_AWS_CONFIG, { apiThrottle: { rateLimit: 20 } });
    expect(a.apiThrottle).toEqual({ rateLimit: 20, burstLimit: 200 });
    expect(mergeAwsConfig(a, { apiThrottle: { burstLimit: 40 } }).apiThrottle).toEqual({
      rateLimit: 20,
      burstLimit: 40,
    });
  });

  it.each([
    [{ memoryMb: 64 }, "configureAws: memoryMb must be an integer from 128 to 10240, got 64"],
    [{ timeoutSeconds: 901 }, "configureAws: timeoutSeconds must be an integer from 1 to 900, got 901"],
    [{ maxReceiveCount: 0 }, "configureAws: maxReceiveCount must be an integer from 1 to 1000, got 0"],
    [
      { apiThrottle: { rateLimit: 0 } },
      "configureAws: apiThrottle.rateLimit must be an integer from 1 to 10000, got 0",
    ],
    [
      { apiThrottle: { burstLimit: 5001 } },
      "configureAws: apiThrottle.burstLimit must be an integer from 1 to 5000, got 5001",
    ],
    [
      { tasks: { t: { memoryMb: 1.5 } } },
      "configureAws: tasks['t'].memoryMb must be an integer from 128 to 10240, got 1.5",
    ],
  ])("refuses %o", (options, message) => {
    expect(() => buildGraph(job(options))).toThrow(JobDefinitionError);
    expect(() => buildGraph(job(options))).toThrow(message);
  });
});

describe("deploymentPlan", () => {
  it("names every resource after the stage and the job, and sends a source's output downstream and its polls to itself", () => {
    const d = deploymentPlan(clicks, { stage: "prod" });
    expect(d.prefix).toBe("prod-riffle-clicks");
    expect(d.stateMachineName).toBe("prod-riffle-clicks-coordinator");
    expect(d.tasks.map((t) => [t.queueName, t.sendsTo, t.readsIngest, t.visibilityTimeoutSeconds])).toEqual([
      ["prod-riffle-clicks-0-ingest-clicks-0", ["ingest-clicks-0", "process-2"], true, 180],
      ["prod-riffle-clicks-1-process-2", [], false, 180],
    ]);
    expect(d.sources).toEqual(["ingest-clicks-0"]);
  });

  it("follows the deployed parallelism, and chains keyed tasks", () => {
    const d = deploymentPlan(q5, { stage: "dev", parallelism: 3 });
    expect(d.parallelism).toBe(3);
    expect(d.tasks.map((t) => [t.task.id, t.task.parallelism, t.sendsTo])).toEqual([
      ["nexmark", 3, ["nexmark", "process-3"]],
      ["process-3", 3, ["process-4"]],
      ["process-4", 3, []],
    ]);
  });

  it("applies per-task memory and timeout, and 6× the timeout as visibility", () => {
    const d = deploymentPlan(
      job({ timeoutSeconds: 5, tasks: { "process-1": { memoryMb: 256, timeoutSeconds: 100 } } }),
      {
        stage: "s",
      },
    );
    expect(d.tasks.map((t) => [t.task.id, t.memoryMb, t.timeoutSeconds, t.visibilityTimeoutSeconds])).toEqual([
      ["elements-0", 1024, 5, 30],
      ["process-1", 256, 100, 600],
    ]);
  });

  it("refuses an override of a task the job does not have, naming the tasks it has", () => {
    const bad = job({ tasks: { "process-9": { memoryMb: 256 } } });
    expect(() => deploymentPlan(bad, { stage: "s" })).toThrow(RiffleError);
    expect(() => deploymentPlan(bad, { stage: "s" })).toThrow(
      "configureAws: tasks['process-9'] names no task of job 'cfg' (its tasks: elements-0, process-1)",
    );
  });

  it("refuses a maxReceiveCount that does not exceed maxRecordAttempts", () => {
    expect(() => deploymentPlan(job({ maxReceiveCount: 3 }, 3), { stage: "s" })).toThrow(
      "configureAws: maxReceiveCount (3) must exceed maxRecordAttempts (3) of job 'cfg'",
    );
    expect(deploymentPlan(job({ maxReceiveCount: 4 }, 3), { stage: "s" }).aws.maxReceiveCount).toBe(4);
  });

  it("keeps long names within limits and distinct", () => {
    const long = "x".repeat(100);
    const a = fitName(`${long}-0-a`, 71);
    const b = fitName(`${long}-1-a`, 71);
    expect(a).toHaveLength(71);
    expect(b).toHaveLength(71);
    expect(a).not.toBe(b);
    expect(fitName("short", 71)).toBe("short");
    const d = deploymentPlan(clicks, { stage: "a-very-long-stage-name-for-a-feature-branch-of-the-project" });
    for (const t of d.tasks) expect(`${t.queueName}-dlq.fifo`.length).toBeLessThanOrEqual(80);
    expect(d.stateMachineName.length).toBeLessThanOrEqual(80);
  });
});
