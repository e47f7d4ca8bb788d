/**
 * The stack of a job with `autoscale` (test/fixtures/autoscale-clicks.ts): the
 * scalable task's event source mapping starts at the MaximumConcurrency of its
 * parallelism (Lambda's minimum, 2), and only the coordinator's round function (which
 * runs the autoscale round) may read that task's queue attributes and update that
 * mapping — on those resources alone — and find the mapping's UUID in its environment.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { SynthesizedJob } from "../../stacks/synth.ts";
import {
  actionsOf,
  policyStatements,
  type Resource,
  refTarget,
  resources,
  resourcesOf,
  roleOf,
  synthForTest,
} from "../support/stack-template.ts";

let s: SynthesizedJob;
beforeAll(async () => {
  s = await synthForTest("test/fixtures/autoscale-clicks.ts");
}, 120_000);

const fnOf = (role: string): Resource => {
  const f = resources(s, "AWS::Lambda::Function").find((x) => roleOf(x) === role);
  if (!f) throw new Error(`no function of role ${role}`);
  return f;
};
/** `action` → logical ids of its resources, for `fn`'s role. */
const grantsOf = (fn: Resource, prefix: string): Record<string, string[]> => {
  const role = refTarget(fn.props.Role) ?? "";
  const out: Record<string, string[]> = {};
  for (const { statement } of policyStatements(s).filter((p) => p.roles.includes(role))) {
    for (const a of actionsOf(statement).filter((x) => x.startsWith(prefix))) {
      out[a] = [...(out[a] ?? []), ...resourcesOf(statement).map((r) => refTarget(r) ?? JSON.stringify(r))].sort();
    }
  }
  return out;
};
const queueId = (task: string) =>
  resources(s, "AWS::SQS::Queue").find(
    (q) => q.props.QueueName === `${s.deployment.tasks.find((t) => t.task.id === task)?.queueName}.fifo`,
  )?.id;
const mappingOf = (task: string): Resource => {
  const fn = resources(s, "AWS::Lambda::Function").find(
    (f) => roleOf(f) === "task" && f.props.Environment?.Variables?.RIFFLE_TASK === task,
  );
  const m = resources(s, "AWS::Lambda::EventSourceMapping").find((x) => refTarget(x.props.FunctionName) === fn?.id);
  if (!m) throw new Error(`no mapping of task ${task}`);
  return m;
};

describe("stack of a job with autoscale", () => {
  it("starts the scalable task's mapping at MaximumConcurrency 2 and leaves the source's alone", () => {
    expect(mappingOf("count").props.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
    expect(mappingOf("clicks").props.ScalingConfig).toBeUndefined();
  });

  it("lets only the round read the scalable queue's depth and update its mapping, on those resources alone", () => {
    const count = queueId("count");
    const mapping = mappingOf("count").id;
    expect(count).toBeDefined();
    for (const role of ["round"]) {
      // CDK's grantSendMessages adds GetQueueAttributes on the queues a step sends to (the source's, the signalled count's).
      const depth = new Set(grantsOf(fnOf(role), "sqs:GetQueueAttributes")["sqs:GetQueueAttributes"]);
      expect(depth, role).toEqual(new Set([count, queueId("clicks")]));
      const lambda = grantsOf(fnOf(role), "lambda:");
      expect(Object.keys(lambda), role).toEqual(["lambda:UpdateEventSourceMapping"]);
      expect(JSON.stringify(lambda["lambda:UpdateEventSourceMapping"]), role).toContain(mapping);
      const env = fnOf(role).props.Environment.Variables as Record<string, unknown>;
      expect(JSON.stringify(env.RIFFLE_EVENT_SOURCE_MAPPINGS), role).toContain(mapping);
    }
    for (const role of ["continueAsNew", "http"]) {
      expect(grantsOf(fnOf(role), "lambda:UpdateEventSourceMapping"), role).toEqual({});
      expect(fnOf(role).props.Environment.Variables.RIFFLE_EVENT_SOURCE_MAPPINGS, role).toBeUndefined();
    }
  });

  it("gives the round (which rescales, and finishes a rescale that died) what a rescale's restore writes, and lets it start the sources", () => {
    const tables = new Map(
      resources(s, "AWS::DynamoDB::Table").map((t) => [
        t.id,
        String(t.props.TableName).replace(`${s.deployment.prefix}-`, ""),
      ]),
    );
    const clicks = queueId("clicks");
    for (const role of ["round"]) {
      const dynamo = grantsOf(fnOf(role), "dynamodb:");
      const on = (table: string) =>
        Object.entries(dynamo)
          .filter(([, ids]) => ids.some((id) => tables.get(id) === table))
          .map(([a]) => a.slice("dynamodb:".length))
          .sort();
      // UpdateItem: the seal (removes the TTL of the segments above the base; core/checkpoint/seal.ts).
      expect(on("log"), role).toEqual(["BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"]);
      expect(on("state"), role).toEqual(expect.arrayContaining(["BatchWriteItem", "GetItem", "UpdateItem"]));
      expect(on("checkpoints"), role).toEqual(expect.arrayContaining(["BatchWriteItem", "DeleteItem", "Query"]));
      expect(grantsOf(fnOf(role), "sqs:SendMessage")["sqs:SendMessage"], role).toContain(clicks);
    }
  });
});
