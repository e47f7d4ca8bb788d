/**
 * What will really be deployed, run on the emulators: the `clicks` job's stack is
 * synthesized offline (at parallelism 2), then
 *
 * - its queues (names and maxReceiveCount from the template) and its segment bucket
 *   are created on fauxqs and its tables (the template's table prefix) on DynamoDB
 *   Local; every segment payload goes to the bucket (inline threshold 0);
 * - every riffle function is the synthesized Lambda asset (`entry.mjs` from the cloud
 *   assembly), loaded once per function with the function's environment from the
 *   template, its references resolved to the local queue URLs and the secret's ARN;
 *   its `handler` setting picks the export;
 * - the API key secret is served by a Secrets Manager stub: the API function reads it
 *   at run time (its environment holds only the ARN);
 * - each event source mapping of the template feeds its function from its queue;
 * - both state machine definitions are taken from the template (the Standard one
 *   and the Express one of rounds), their tokens (the functions' and the Express
 *   machine's ARNs) substituted, and run in aws-local-stepfunctions: the Standard
 *   machine's RunRounds runs the Express machine named by its `StateMachineArn`, whose
 *   Round task is bound to the function its `Resource` names;
 * - clicks are posted to the API function with and without the key,
 *
 * until a checkpoint completes and the committed counts equal the oracle. Then a
 * round that times a checkpoint out and fails the job over runs once, and every AWS
 * request each function made is checked against its role's synthesized policy (an
 * offline IAM evaluation): a grant too narrow for what the code calls fails here.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AslDefinition, type AslTaskState, RUN_ROUNDS } from "../../core/checkpoint/asl.ts";
import { ROUND } from "../../core/checkpoint/asl-rounds.ts";
import { DynamoCheckpointStore } from "../../functions/aws/dynamo-checkpoint-store.ts";
import { dynamoClient, ensureTables, tableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoOutputStore } from "../../functions/aws/dynamo-output-store.ts";
import { ensureBucket, S3BlobStore, s3Client } from "../../functions/aws/s3-blob-store.ts";
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
import { deniedRequests, RequestRecorder } from "../support/iam-recorder.ts";
import { type SecretsManagerStub, startSecretsManagerStub } from "../support/secrets-manager-stub.ts";
import {
  loadAsset,
  type Resource,
  refTarget,
  resolveIntrinsics,
  resource,
  resources,
  roleOf,
  roleStatements,
  synthForTest,
} from "../support/stack-template.ts";

const KEY = "deployed-test-key";
const ACCOUNT = "arn:aws:%s:us-east-1:123456789012";

let s: SynthesizedJob;
let sqs: SQSClient;
let secrets: SecretsManagerStub;
const recorder = new RequestRecorder();
const stops: (() => Promise<void>)[] = [];

const secretArn = (id: string) => `${ACCOUNT.replace("%s", "secretsmanager")}:secret:${id}`;
/** The local name of the template's segment bucket. */
const BUCKET = "riffle-deployed-segments";

beforeAll(async () => {
  const [synthesized, endpoints] = await Promise.all([
    synthForTest("examples/clicks.ts", { parallelism: 2 }),
    emulators(),
  ]);
  s = synthesized;
  const secret = resources(s, "AWS::SecretsManager::Secret")[0] as Resource;
  secrets = await startSecretsManagerStub({ [secretArn(secret.id)]: KEY });
  // What the Lambda runtime would provide; the endpoints point the SDK at the emulators.
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "riffle",
    AWS_SECRET_ACCESS_KEY: "riffle",
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.sqs, // fauxqs serves S3 too
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamo,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
  });
  sqs = sqsClient(endpoints.sqs);
  recorder.start();
}, 120_000);

afterAll(async () => {
  recorder.stop();
  for (const stop of stops.reverse()) await stop();
  sqs?.destroy();
  await secrets?.stop();
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

type LocalQueue = QueueWithDlq & { dlq: boolean };

/** Creates the template's queues on fauxqs; by logical id. */
async function createQueues(): Promise<Map<string, LocalQueue>> {
  const queues = resources(s, "AWS::SQS::Queue");
  const mains = queues.filter((q) => !String(q.props.QueueName).endsWith("-dlq.fifo"));
  expect(mains).toHaveLength(s.deployment.tasks.length);
  const created = await ensureQueuesWithDlq(
    sqs,
    mains.map((q) => String(q.props.QueueName).replace(/\.fifo$/, "")),
    // A short visibility timeout, so that a retried batch does not stall the test (the template's is asserted in synth.test.ts).
    { visibilityTimeoutSeconds: 2, maxReceiveCount: mains[0]?.props.RedrivePolicy.maxReceiveCount },
  );
  const local = new Map<string, LocalQueue>();
  for (const q of queues) {
    const name = String(q.props.QueueName).replace(/(-dlq)?\.fifo$/, "");
    const c = created[name];
    if (!c) throw new Error(`queue ${q.props.QueueName} was not created`);
    local.set(q.id, { ...reachable(c), dlq: String(q.props.QueueName).endsWith("-dlq.fifo") });
  }
  return local;
}

/** The local value of a template reference: queue URLs and ARNs, table names and ARNs, function and secret ARNs. */
function resolver(local: ReadonlyMap<string, LocalQueue>) {
  return (id: string, attribute: string | undefined): string => {
    const q = local.get(id);
    if (q) return attribute === "Arn" ? (q.dlq ? q.dlqArn : q.arn) : q.dlq ? q.dlqUrl : q.url;
    const r = resource(s, id);
    if (r.type === "AWS::Lambda::Function" && attribute === "Arn")
      return `${ACCOUNT.replace("%s", "lambda")}:function:${id}`;
    if (r.type === "AWS::SecretsManager::Secret" && attribute === undefined) return secretArn(id);
    if (r.type === "AWS::S3::Bucket") return attribute === "Arn" ? `arn:aws:s3:::${BUCKET}` : BUCKET;
    if (r.type === "AWS::DynamoDB::Table") {
      const name = String(r.props.TableName);
      return attribute === "Arn" ? `${ACCOUNT.replace("%s", "dynamodb")}:table/${name}` : name;
    }
    throw new Error(`no local value for ${id}.${attribute ?? "Ref"}`);
  };
}

/** The AWS requests the functions made that their roles' statements do not allow. */
function denials(local: ReadonlyMap<string, LocalQueue>): string[] {
  const ref = resolver(local);
  const tableId = (name: string) =>
    resources(s, "AWS::DynamoDB::Table").find((x) => x.props.TableName === name)?.id ?? `no table ${name}`;
  const queueArn = (url: string) =>
    [...local.values()].map((q) => (url === q.url ? q.arn : url === q.dlqUrl ? q.dlqArn : "")).find(Boolean) ?? url;
  return deniedRequests(
    recorder.requests,
    (fn) => roleStatements(s, fn, ref),
    { table: (name) => ref(tableId(name), "Arn"), queue: queueArn },
    (fn) => roleOf(resource(s, fn)) ?? fn,
  );
}

type Handler = (...args: unknown[]) => Promise<unknown>;

/** Loads every riffle function with its template environment; its handler, recorded, by logical id. */
async function loadFunctions(ref: ReturnType<typeof resolver>): Promise<(id: string) => Handler> {
  const fns = resources(s, "AWS::Lambda::Function").filter((f) => roleOf(f) !== undefined);
  const prefixes = new Set(fns.map((f) => f.props.Environment.Variables.RIFFLE_TABLE_PREFIX));
  expect(prefixes).toEqual(new Set([s.deployment.prefix]));
  const instances = new Map<string, LambdaRoles>();
  for (const f of fns) {
    const env = resolveIntrinsics(f.props.Environment.Variables, ref) as Record<string, string>;
    expect(env.RIFFLE_BUCKET, f.id).toBe(BUCKET);
    // Every payload through the bucket, so that each role's S3 grants are exercised.
    env.RIFFLE_SEGMENT_INLINE_BYTES = "0";
    expect(Object.values(env), f.id).not.toContain(KEY);
    instances.set(f.id, await loadFunction(f, env));
  }
  return (id) => {
    const role = roleOf(resource(s, id)) as keyof LambdaRoles;
    const instance = instances.get(id);
    if (!instance) throw new Error(`function ${id} is not a riffle function`);
    return recorder.as(id, instance[role] as Handler);
  };
}

/** Starts each event source mapping of the template, feeding its function from its queue. */
function startMappings(local: ReadonlyMap<string, LocalQueue>, handlerOf: (id: string) => Handler): void {
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
}

/** Runs the synthesized definitions, tokens substituted, the Round task bound to the function it names. */
function startMachine(ref: ReturnType<typeof resolver>, handlerOf: (id: string) => Handler) {
  const machines = resources(s, "AWS::StepFunctions::StateMachine");
  const definitionOf = (type: string) => {
    const m = machines.find((x) => x.props.StateMachineType === type) as Resource;
    return JSON.parse(String(resolveIntrinsics(m.props.DefinitionString, ref))) as AslDefinition;
  };
  const coordinator = definitionOf("STANDARD");
  const rounds = definitionOf("EXPRESS");
  // The Standard machine runs the Express machine of the template by its ARN.
  const express = machines.find((x) => x.props.StateMachineType === "EXPRESS") as Resource;
  const runRounds = coordinator.States[RUN_ROUNDS] as AslTaskState;
  expect(runRounds.Parameters.StateMachineArn).toBe(
    `${ACCOUNT.replace("%s", "states")}:stateMachine:${express.props.StateMachineName}`,
  );
  const roundFn = /function:(.+)$/.exec((rounds.States[ROUND] as AslTaskState).Resource)?.[1] ?? "";
  expect(roleOf(resource(s, roundFn))).toBe("round");
  const handler = handlerOf(roundFn);
  const round = (input: unknown) => handler(input);
  const running: LocalCoordinator = runCoordinatorLocally(
    { coordinator, rounds },
    { round },
    { job: s.deployment.job, waitMs: { interval: 150, poll: 40, retry: 100 } },
  );
  stops.push(() => running.stop());
  return { coordinator: running, round };
}

describe("the synthesized clicks stack on the emulators", () => {
  it("runs the deployed state machine over the deployed functions until a checkpoint completes and the output is exact, within each function's grants", async () => {
    const local = await createQueues();
    const ref = resolver(local);
    await ensureTables(dynamoClient(process.env.AWS_ENDPOINT_URL_DYNAMODB), tableNames(s.deployment.prefix));
    const s3 = s3Client(process.env.AWS_ENDPOINT_URL_S3);
    await ensureBucket(s3, BUCKET);
    const handlerOf = await loadFunctions(ref);
    startMappings(local, handlerOf);
    const { coordinator, round } = startMachine(ref, handlerOf);

    // The HTTP API function: the secret's key is required; it reads the secret at run time, once while it is cached.
    const httpFn = resources(s, "AWS::Lambda::Function").find((f) => roleOf(f) === "http");
    const http = handlerOf(httpFn?.id ?? "") as LambdaRoles["http"];
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
    const secret = resources(s, "AWS::SecretsManager::Secret")[0] as Resource;
    expect(secrets.requests).toEqual([{ operation: "GetSecretValue", secretId: secretArn(secret.id) }]);

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
    // The deployed API function serves the dashboard from its own asset (stacks/bundle.ts copies the build there).
    const ui = await http(event({ path: "/ui/", anonymous: true }));
    const built = readFileSync(join(import.meta.dirname, "../../dashboard/dist/index.html"), "utf8");
    expect([ui.statusCode, String(ui.body)]).toEqual([200, built]);

    // A round that finds too many failed checkpoints in a row fails the job over, as the machine would run it.
    await coordinator.stop();
    const record = await checkpoints.loadJob("clicks");
    if (!record) throw new Error("no job record");
    const failures = s.deployment.checkpoint.tolerableFailures + 1;
    // As after the last of those aborts: nothing in flight (one still in flight at the stop would
    // complete in the round below, and a completion clears the failures).
    expect(await checkpoints.saveJob({ ...record, failures, pending: [] }, record)).toBe(true);
    const started = new Date().toISOString();
    expect(await round({ job: "clicks", checkpoint: record.lastCompleted, started })).toMatchObject({
      checkpoint: null,
      restored: 2,
    });
    dynamo.destroy();

    // Payloads went through the bucket: tasks wrote them, the round read them to publish.
    const s3Ops = (role: string) =>
      recorder.requests.filter((r) => r.target === "" && roleOf(resource(s, r.fn)) === role).map((r) => r.method);
    expect(s3Ops("task")).toContain("PUT");
    expect(s3Ops("round")).toContain("GET");
    expect((await new S3BlobStore(s3, BUCKET).list(`${s.deployment.job}/`)).length).toBeGreaterThan(0);
    s3.destroy();

    // Every request each function made was within its role's grants.
    expect(denials(local)).toEqual([]);
    const roles = new Set(recorder.requests.map((r) => roleOf(resource(s, r.fn))));
    for (const role of ["task", "round", "http"]) {
      expect(roles.has(role), `${role} made requests`).toBe(true);
    }
  }, 120_000);
});
