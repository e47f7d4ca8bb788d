/**
 * What will really be deployed, run on the emulators: the `clicks` job's stack is
 * synthesized offline (at parallelism 2), then
 *
 * - its queues (names and maxReceiveCount from the template) are created on fauxqs
 *   and its tables (the template's table prefix) on DynamoDB Local;
 * - every riffle function is the synthesized Lambda asset (`entry.mjs` from the cloud
 *   assembly), loaded once per function with the function's environment from the
 *   template, its references resolved to the local queue URLs and the secret to a
 *   test key; its `handler` setting picks the export;
 * - each event source mapping of the template feeds its function from its queue;
 * - the state machine definition is taken from the template, its tokens (the step
 *   functions' ARNs) substituted, and run in aws-local-stepfunctions with every Task
 *   state bound to the function its `Resource` names;
 * - clicks are posted to the API function with and without the key,
 *
 * until a checkpoint completes and the committed counts equal the oracle.
 */

import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AslDefinition, POLL, RESTORE, TRIGGER } from "../../core/checkpoint/asl.ts";
import { DynamoCheckpointStore } from "../../functions/aws/dynamo-checkpoint-store.ts";
import { dynamoClient, ensureTables, tableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoOutputStore } from "../../functions/aws/dynamo-output-store.ts";
import { ensureQueuesWithDlq, type QueueWithDlq } from "../../functions/aws/sqs-admin.ts";
import { sqsClient } from "../../functions/aws/sqs-queue.ts";
import type { LambdaRoles } from "../../functions/lambda/roles.ts";
import { type EventSourceMapping, startEventSourceMapping } from "../../functions/local/esm.ts";
import { type LocalCoordinator, runCoordinatorLocally } from "../../functions/local/stepfunctions.ts";
import type { SynthesizedJob } from "../../stacks/synth.ts";
import {
  clickBatches,
  emulators,
  expectExactlyOnce,
  readOutput,
  stopEmulators,
  total,
  until,
} from "../support/aws-local-harness.ts";
import { event } from "../support/http-api-events.ts";
import {
  loadAsset,
  type Resource,
  refTarget,
  resolveIntrinsics,
  resource,
  resources,
  roleOf,
  synthForTest,
} from "../support/stack-template.ts";

const KEY = "deployed-test-key";
const SECRET_REF = "{{resolve:secretsmanager:";

let s: SynthesizedJob;
let sqs: SQSClient;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const [synthesized, endpoints] = await Promise.all([
    synthForTest("examples/clicks.ts", { parallelism: 2 }),
    emulators(),
  ]);
  s = synthesized;
  // What the Lambda runtime would provide; the endpoints point the SDK at the emulators.
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "riffle",
    AWS_SECRET_ACCESS_KEY: "riffle",
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamo,
  });
  sqs = sqsClient(endpoints.sqs);
}, 120_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  sqs?.destroy();
  await stopEmulators();
});

/** Imports the function's code asset as a fresh module (one per function, as one container each) under `env`. */
async function loadFunction(fn: Resource, env: Record<string, string>): Promise<LambdaRoles> {
  const key = String(fn.props.Code.S3Key).replace(/\.zip$/, "");
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return loadAsset(join(s.outDir, `asset.${key}`), fn.id) as LambdaRoles;
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/**
 * fauxqs names its queues `http://sqs.<region>.localhost:<port>/…`, a host that does not
 * resolve here; the SDK sends to a QueueUrl's own host, so the functions get the URLs
 * with the emulator's address.
 */
function reachable(q: QueueWithDlq): QueueWithDlq {
  const fix = (url: string) => url.replace(/^http:\/\/sqs\.[^.]+\.localhost:/, "http://127.0.0.1:");
  return { ...q, url: fix(q.url), dlqUrl: fix(q.dlqUrl) };
}

describe("the synthesized clicks stack on the emulators", () => {
  it("runs the deployed state machine over the deployed functions until a checkpoint completes and the output is exact", async () => {
    // Queues, as the template names them.
    const queues = resources(s, "AWS::SQS::Queue");
    const mains = queues.filter((q) => !String(q.props.QueueName).endsWith("-dlq.fifo"));
    expect(mains).toHaveLength(s.deployment.tasks.length);
    const created = await ensureQueuesWithDlq(
      sqs,
      mains.map((q) => String(q.props.QueueName).replace(/\.fifo$/, "")),
      // A short visibility timeout, so that a retried batch does not stall the test (the template's is asserted in synth.test.ts).
      { visibilityTimeoutSeconds: 2, maxReceiveCount: mains[0]?.props.RedrivePolicy.maxReceiveCount },
    );
    const local = new Map<string, QueueWithDlq & { dlq: boolean }>();
    for (const q of queues) {
      const name = String(q.props.QueueName).replace(/(-dlq)?\.fifo$/, "");
      const c = created[name];
      if (!c) throw new Error(`queue ${q.props.QueueName} was not created`);
      local.set(q.id, { ...reachable(c), dlq: String(q.props.QueueName).endsWith("-dlq.fifo") });
    }
    const ref = (id: string, attribute: string | undefined): string => {
      const q = local.get(id);
      if (q) return attribute === "Arn" ? (q.dlq ? q.dlqArn : q.arn) : q.dlq ? q.dlqUrl : q.url;
      const r = resource(s, id);
      if (r.type === "AWS::Lambda::Function" && attribute === "Arn") {
        return `arn:aws:lambda:us-east-1:123456789012:function:${id}`;
      }
      if (r.type === "AWS::SecretsManager::Secret") return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}`;
      throw new Error(`no local value for ${id}.${attribute ?? "Ref"}`);
    };

    // Functions: the asset, with each one's environment from the template.
    const fns = resources(s, "AWS::Lambda::Function").filter((f) => roleOf(f) !== undefined);
    const prefixes = new Set(fns.map((f) => f.props.Environment.Variables.RIFFLE_TABLE_PREFIX));
    expect(prefixes).toEqual(new Set([s.deployment.prefix]));
    await ensureTables(dynamoClient(process.env.AWS_ENDPOINT_URL_DYNAMODB), tableNames(s.deployment.prefix));
    const instances = new Map<string, LambdaRoles>();
    for (const f of fns) {
      const env = resolveIntrinsics(f.props.Environment.Variables, ref) as Record<string, string>;
      if (env.RIFFLE_API_KEYS !== undefined) {
        expect(env.RIFFLE_API_KEYS.startsWith(SECRET_REF)).toBe(true);
        env.RIFFLE_API_KEYS = KEY; // what CloudFormation resolves the reference to
      }
      instances.set(f.id, await loadFunction(f, env));
    }
    const handlerOf = (id: string) => {
      const role = roleOf(resource(s, id)) as keyof LambdaRoles;
      const instance = instances.get(id);
      if (!instance) throw new Error(`function ${id} is not a riffle function`);
      return instance[role];
    };

    // Event source mappings, as the template wires them.
    for (const esm of resources(s, "AWS::Lambda::EventSourceMapping")) {
      const q = local.get(refTarget(esm.props.EventSourceArn) ?? "") as QueueWithDlq;
      const fnId = refTarget(esm.props.FunctionName) ?? "";
      const mapping: EventSourceMapping = startEventSourceMapping({
        client: sqs,
        queueUrl: q.url,
        queueArn: q.arn,
        handler: handlerOf(fnId) as never,
        batchSize: esm.props.BatchSize,
        concurrency: 4,
        waitTimeSeconds: 0,
        pollIntervalMs: 20,
        retryDelayMs: 0,
        functionName: fnId,
      });
      stops.push(() => mapping.stop());
    }

    // The state machine: the synthesized definition, tokens substituted, each Task bound to the function it names.
    const machine = resources(s, "AWS::StepFunctions::StateMachine")[0] as Resource;
    const definition = JSON.parse(String(resolveIntrinsics(machine.props.DefinitionString, ref))) as AslDefinition;
    const bound = (state: string) => {
      const task = definition.States[state];
      if (task?.Type !== "Task") throw new Error(`state ${state} is not a Task`);
      const id = /function:(.+)$/.exec(task.Resource)?.[1] ?? "";
      const handler = handlerOf(id) as (input: unknown) => Promise<unknown>;
      return (input: unknown) => handler(input);
    };
    expect(
      roleOf(
        resource(s, /function:(.+)$/.exec((definition.States[TRIGGER] as { Resource: string }).Resource)?.[1] ?? ""),
      ),
    ).toBe("trigger");
    const coordinator: LocalCoordinator = runCoordinatorLocally(
      definition,
      {
        trigger: bound(TRIGGER),
        poll: bound(POLL),
        complete: bound("Complete"),
        abort: bound("Abort"),
        restore: bound(RESTORE),
      },
      { job: s.deployment.job, waitMs: { interval: 150, poll: 40, retry: 100 } },
    );
    stops.push(() => coordinator.stop());

    // The HTTP API function: the secret's key is required.
    const http = handlerOf(fns.find((f) => roleOf(f) === "http")?.id ?? "") as LambdaRoles["http"];
    const post = (body: unknown, key?: string) =>
      http(
        event({
          path: "/jobs/clicks/sources/clicks/events",
          method: "POST",
          body: JSON.stringify(body),
          anonymous: true,
          headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) },
        }),
      );
    const { batches, counts } = clickBatches(4, 5);
    expect((await post(batches[0])).statusCode).toBe(401);
    expect((await post(batches[0], "not-the-key")).statusCode).toBe(401);
    for (const b of batches) {
      const res = await post(b, KEY);
      expect(res.statusCode, String(res.body)).toBe(202);
    }

    // Until a checkpoint completes and its output is committed.
    const dynamo = dynamoClient(process.env.AWS_ENDPOINT_URL_DYNAMODB);
    const tables = tableNames(s.deployment.prefix);
    const checkpoints = new DynamoCheckpointStore(dynamo, tables);
    const output = new DynamoOutputStore(dynamo, tables);
    const read = () => readOutput<{ user: string; n: number }>(output, "clicks", "counts");
    await until("a completed checkpoint and every count committed", async () => {
      const done = (await checkpoints.listManifests("clicks")).some((m) => m.status === "completed");
      return done && (await read()).length >= total(counts);
    });
    expectExactlyOnce(await read(), counts);
    const status = await http(event({ path: "/jobs/clicks", anonymous: true, headers: { "x-api-key": KEY } }));
    expect(JSON.parse(String(status.body)).generation).toBe(1);
    dynamo.destroy();
  }, 120_000);
});
