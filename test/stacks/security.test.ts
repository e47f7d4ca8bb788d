/**
 * The deployed stack's IAM, secrets and throttling, checked on the synthesized
 * templates of `clicks` (an HTTP source) and of a job that sets its own AWS settings:
 *
 * - the coordinator's round and continue-as-new functions may do exactly what their
 *   code issues (listed here per table); the Express machine may only invoke the round,
 *   the Standard machine only continue-as-new and run the Express machine;
 * - no role may read a DynamoDB stream;
 * - each role gets exactly its segment-bucket actions, on the job's prefix only;
 * - no function's environment holds the API key or any secret value: the API
 *   function gets the secret's ARN and may only `GetSecretValue` that one secret (that
 *   it reads it at run time is shown by deployed-coordinator.test.ts, the caching by
 *   test/unit/secret-keys.test.ts);
 * - the API's stage throttles every route.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { SynthesizedJob } from "../../stacks/synth.ts";
import {
  actionsOf,
  policyStatements,
  type Resource,
  refTarget,
  resource,
  resources,
  resourcesOf,
  roleOf,
  synthForTest,
} from "../support/stack-template.ts";

const JOBS = [
  { name: "clicks", file: "examples/clicks.ts", throttle: { rate: 100, burst: 200 } },
  { name: "aws-configured", file: "test/fixtures/aws-configured.ts", throttle: { rate: 25, burst: 50 } },
] as const;

/**
 * DynamoDB actions (sorted) per table, and the queues the function may send to: the
 * sources (start signals, barriers), the signalled tasks (timer ticks to keyed tasks,
 * checkpoint-complete signals), both, or none. The round runs every step (trigger,
 * poll, complete, abort, restore), so it gets the union of their rows in `grants.ts`.
 */
const STEPS: Record<string, { tables: Record<string, string[]>; sends: { sources: boolean; signals: boolean } }> = {
  round: {
    tables: {
      checkpoints: ["GetItem", "PutItem", "Query", "UpdateItem"],
      // UpdateItem: the seal removes the TTL of a partition's last segments (`core/checkpoint/seal.ts`).
      log: ["BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"],
      state: ["BatchWriteItem", "UpdateItem"],
      output: ["BatchWriteItem", "PutItem", "Query", "UpdateItem"],
    },
    sends: { sources: true, signals: true },
  },
  continueAsNew: { tables: {}, sends: { sources: false, signals: false } },
};

const STREAM_ACTIONS = ["GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"].map((a) => `dynamodb:${a}`);

const synthesized = new Map<string, SynthesizedJob>();
beforeAll(async () => {
  // One after the other: SST keeps its app in module state while a stack is built.
  for (const j of JOBS) synthesized.set(j.name, await synthForTest(j.file));
}, 120_000);

function synth(name: string): SynthesizedJob {
  const s = synthesized.get(name);
  if (!s) throw new Error(`job ${name} was not synthesized`);
  return s;
}

/** The riffle function of `role` (`round`, `continueAsNew`, `http`). */
function fnOf(s: SynthesizedJob, role: string): Resource {
  const f = resources(s, "AWS::Lambda::Function").find((x) => roleOf(x) === role);
  if (!f) throw new Error(`no function of role ${role}`);
  return f;
}

/** A function's role's statements, every action with each of its resources' logical ids. */
function grantsOf(s: SynthesizedJob, fn: Resource): { action: string; target: string | undefined }[] {
  const role = refTarget(fn.props.Role) ?? "";
  return policyStatements(s)
    .filter((p) => p.roles.includes(role))
    .flatMap(({ statement }) =>
      actionsOf(statement).flatMap((action) => resourcesOf(statement).map((r) => ({ action, target: refTarget(r) }))),
    );
}

/** Table logical id → role (`log`, `state`, …). */
function tableRoles(s: SynthesizedJob): Map<string, string> {
  return new Map(
    resources(s, "AWS::DynamoDB::Table").map((t) => [
      t.id,
      String(t.props.TableName).replace(`${s.deployment.prefix}-`, ""),
    ]),
  );
}

/** S3 actions (sorted) on the segment bucket, per function role: payloads written only by tasks. */
const BUCKET: Record<string, string[]> = {
  task: ["DeleteObject", "GetObject", "PutObject"],
  round: ["DeleteObject", "GetObject", "ListBucket"],
  continueAsNew: [],
  http: ["DeleteObject", "GetObject", "ListBucket"],
};

describe.each(JOBS)("stack of $name", (j) => {
  it("gives each role exactly its segment-bucket actions: objects under the job's prefix, ListBucket only for that prefix", () => {
    const s = synth(j.name);
    const bucket = resources(s, "AWS::S3::Bucket");
    expect(bucket).toHaveLength(1);
    const bucketId = bucket[0]?.id;
    const fns = resources(s, "AWS::Lambda::Function").filter((f) => roleOf(f) !== undefined);
    for (const fn of fns) {
      const role = roleOf(fn) as string;
      const statements = policyStatements(s)
        .filter((p) => p.roles.includes(refTarget(fn.props.Role) ?? ""))
        .map((p) => p.statement)
        .filter((st) => actionsOf(st).some((a) => a.startsWith("s3:")));
      const actions = [...new Set(statements.flatMap(actionsOf))].map((a) => a.replace("s3:", "")).sort();
      expect(actions, `${role} ${fn.id}`).toEqual(BUCKET[role]);
      for (const st of statements) {
        const text = JSON.stringify(st.Resource);
        expect(text, role).toContain(bucketId);
        if (actionsOf(st).includes("s3:ListBucket")) {
          expect(st).toMatchObject({ Condition: { StringLike: { "s3:prefix": [`${s.deployment.job}/*`] } } });
        } else {
          expect(text, role).toContain(`/${s.deployment.job}/*`);
        }
      }
      expect(fn.props.Environment.Variables.RIFFLE_BUCKET).toEqual({ Ref: bucketId });
    }
  });

  it("gives the coordinator's functions exactly the DynamoDB actions their code issues, per table, and SendMessage only to the queues they send to", () => {
    const s = synth(j.name);
    const tables = tableRoles(s);
    const queueOf = (t: (typeof s.deployment.tasks)[number]) =>
      resources(s, "AWS::SQS::Queue").find((q) => q.props.QueueName === `${t.queueName}.fifo`)?.id;
    const sources = new Set(s.deployment.tasks.filter((t) => t.task.isSource).map(queueOf));
    const signalled = new Set(
      s.deployment.tasks.filter((t) => s.deployment.signalled.includes(t.task.id)).map(queueOf),
    );
    expect(signalled.size).toBeGreaterThan(0); // both jobs have keyed tasks, which get timer ticks
    for (const [step, want] of Object.entries(STEPS)) {
      const grants = grantsOf(s, fnOf(s, step));
      const got: Record<string, string[]> = {};
      for (const g of grants.filter((x) => x.action.startsWith("dynamodb:"))) {
        const table = tables.get(g.target ?? "") ?? `not a table: ${g.target}`;
        got[table] = [...new Set([...(got[table] ?? []), g.action.slice("dynamodb:".length)])].sort();
      }
      expect(got, step).toEqual(want.tables);
      const sendsTo = new Set(grants.filter((g) => g.action === "sqs:SendMessage").map((g) => g.target));
      const expected = new Set([...(want.sends.sources ? sources : []), ...(want.sends.signals ? signalled : [])]);
      expect(sendsTo, step).toEqual(expected);
    }
  });

  it("lets the Express machine invoke only the round, and the Standard machine only continue-as-new and run the Express machine", () => {
    const s = synth(j.name);
    const machines = resources(s, "AWS::StepFunctions::StateMachine");
    const byType = (t: string) => machines.find((m) => m.props.StateMachineType === t) as Resource;
    const express = byType("EXPRESS");
    const standard = byType("STANDARD");
    const statementsOf = (m: Resource) => {
      const role = refTarget(m.props.RoleArn) ?? "";
      return policyStatements(s).filter((p) => p.roles.includes(role));
    };
    /** The roles of the functions a machine may invoke (each grant names the function, and its versions `:*`). */
    const invoked = (m: Resource) =>
      statementsOf(m).flatMap(({ statement }) =>
        actionsOf(statement).includes("lambda:InvokeFunction")
          ? resourcesOf(statement).map((r) => {
              const id = refTarget(r) ?? /"Fn::GetAtt":\["([^"]+)"/.exec(JSON.stringify(r))?.[1] ?? "";
              return roleOf(resource(s, id));
            })
          : [],
      );
    expect(new Set(invoked(express))).toEqual(new Set(["round"]));
    expect(new Set(invoked(standard))).toEqual(new Set(["continueAsNew"]));
    const actions = (m: Resource) =>
      [...new Set(statementsOf(m).flatMap(({ statement }) => actionsOf(statement)))].sort();
    expect(actions(express)).toEqual(["lambda:InvokeFunction"]);
    expect(actions(standard)).toEqual(
      [
        "events:DescribeRule",
        "events:PutRule",
        "events:PutTargets",
        "lambda:InvokeFunction",
        "states:DescribeExecution",
        "states:StartExecution",
        "states:StopExecution",
      ].sort(),
    );
    const start = statementsOf(standard).find(({ statement }) =>
      actionsOf(statement).includes("states:StartExecution"),
    );
    expect(JSON.stringify(start?.statement.Resource)).toContain(`:stateMachine:${s.deployment.roundsMachineName}`);
  });

  it("lets no role read a DynamoDB stream (no GetRecords, GetShardIterator, DescribeStream, ListStreams, or wildcard)", () => {
    const all = policyStatements(synth(j.name));
    expect(all.length).toBeGreaterThan(0);
    const streams = all.flatMap(({ policy, statement }) =>
      actionsOf(statement)
        .filter((a) => STREAM_ACTIONS.includes(a) || a === "dynamodb:*" || a === "*")
        .map((a) => `${policy}: ${a}`),
    );
    expect(streams).toEqual([]);
  });

  it("puts no secret value into any function's environment: the API function gets the secret's ARN and may only GetSecretValue it", () => {
    const s = synth(j.name);
    const secret = resources(s, "AWS::SecretsManager::Secret")[0] as Resource;
    for (const f of resources(s, "AWS::Lambda::Function")) {
      const env = JSON.stringify(f.props.Environment ?? {});
      expect(env, f.id).not.toMatch(/\{\{resolve:(secretsmanager|ssm-secure):/);
      expect(env, f.id).not.toContain('RIFFLE_API_KEYS"');
    }
    const api = fnOf(s, "http");
    const vars = api.props.Environment.Variables as Record<string, unknown>;
    expect(vars.RIFFLE_API_KEYS_SECRET).toEqual({ Ref: secret.id });
    // The secret is referred to by that one variable only (a Ref to a secret is its ARN).
    const refs = Object.entries(vars).filter(([, v]) => JSON.stringify(v).includes(`"${secret.id}"`));
    expect(refs.map(([k]) => k)).toEqual(["RIFFLE_API_KEYS_SECRET"]);
    const secretGrants = policyStatements(s).flatMap(({ roles, statement }) =>
      actionsOf(statement)
        .filter((a) => a.startsWith("secretsmanager:"))
        .map((action) => ({ roles, action, resources: resourcesOf(statement) })),
    );
    expect(secretGrants).toEqual([
      { roles: [refTarget(api.props.Role)], action: "secretsmanager:GetSecretValue", resources: [{ Ref: secret.id }] },
    ]);
  });

  it("throttles every route of the API's $default stage", () => {
    const s = synth(j.name);
    const stages = resources(s, "AWS::ApiGatewayV2::Stage");
    expect(stages).toHaveLength(1);
    const stage = stages[0] as Resource;
    expect(refTarget(stage.props.ApiId)).toBe(resources(s, "AWS::ApiGatewayV2::Api")[0]?.id);
    expect(stage.props).toMatchObject({
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: j.throttle.rate, ThrottlingBurstLimit: j.throttle.burst },
    });
  });
});
