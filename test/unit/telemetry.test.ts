/**
 * The deployed task handler's telemetry (Powertools for AWS Lambda): every
 * invocation writes one CloudWatch Embedded Metric Format line that follows the EMF
 * specification's shape (checked rule by rule below) and counts what the invocation
 * did; failures are logged as structured JSON lines with the job, task, partition and
 * generation. With its function's request counting, the line carries the cost units
 * the invocation spent; the coordinator's round publishes each checkpoint it completes.
 */
import { CreateQueueCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import { InvocationCost } from "../../functions/aws/invocation-cost.ts";
import { sqsClient } from "../../functions/aws/sqs-queue.ts";
import {
  CHECKPOINT_METRICS,
  COORDINATOR_TELEMETRY,
  COST_METRICS,
  lambdaTelemetry,
  METRICS_NAMESPACE,
  TASK_METRICS,
  taskDimensions,
} from "../../functions/aws/telemetry.ts";
import { createCoordinatorHandlers } from "../../functions/handlers/coordinator.ts";
import { type LocalSqs, startLocalSqs } from "../../functions/local/sqs-local.ts";
import { uniquePrefix } from "../support/dynamo-local.ts";
import { deployInMemory } from "../support/in-memory-tasks.ts";

/** The units the EMF specification allows (CloudWatch's StandardUnit). */
const UNITS = new Set(
  "Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second Terabits/Second Count/Second None".split(
    " ",
  ),
);

/**
 * The EMF specification's rules for one log event (an empty list: it conforms):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
function emfViolations(doc: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws !== "object" || aws === null) return ["no _aws object"];
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 0) bad.push("Timestamp is not epoch ms");
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0)
    return [...bad, "CloudWatchMetrics is not a non-empty array"];
  for (const d of directives as Record<string, unknown>[]) {
    const ns = d.Namespace;
    if (typeof ns !== "string" || ns.length < 1 || ns.length > 255) bad.push("Namespace is not 1-255 characters");
    const sets = d.Dimensions;
    if (!Array.isArray(sets)) bad.push("Dimensions is not an array");
    for (const set of (sets ?? []) as unknown[]) {
      if (!Array.isArray(set) || set.length > 30) bad.push("a DimensionSet is not an array of at most 30");
      for (const name of set as unknown[]) {
        if (typeof name !== "string" || typeof doc[name] !== "string")
          bad.push(`dimension ${name} has no string value`);
      }
    }
    const metrics = d.Metrics;
    if (!Array.isArray(metrics) || metrics.length > 100) bad.push("Metrics is not an array of at most 100");
    for (const m of (metrics ?? []) as { Name?: unknown; Unit?: unknown }[]) {
      if (typeof m.Name !== "string" || m.Name.length < 1 || m.Name.length > 255) bad.push("a metric has no Name");
      if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) bad.push(`unit ${String(m.Unit)} is not allowed`);
      const v = doc[m.Name as string];
      const numbers = Array.isArray(v) ? v : [v];
      if (numbers.length > 100 || !numbers.every((x) => typeof x === "number" && Number.isFinite(x))) {
        bad.push(`metric ${String(m.Name)} has no numeric value`);
      }
    }
  }
  return bad;
}

const job = defineJob("telemetry", (env) => {
  env.setRecordFailureStrategy("dead-letter");
  env
    .fromElements([1, 2, 3, 4, 5, 6])
    .keyBy((n) => n % 2)
    .process<number>({
      processElement(n, ctx) {
        if (n === 5) throw new Error("5 is poison");
        ctx.emit(n * 10);
      },
    })
    .uid("tens")
    .sinkTo("out");
});

let lines: string[] = [];
beforeEach(() => {
  lines = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      return true;
    });
  }
  // Powertools writes through the global console outside Lambda, through stdout on it.
  for (const m of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, m).mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
  }
});
afterEach(() => vi.restoreAllMocks());
let fauxqs: LocalSqs | undefined;
afterAll(async () => {
  await fauxqs?.stop();
});

/** The EMF documents among the captured lines, each checked against the specification. */
function emfDocs(): Record<string, unknown>[] {
  const emf = lines
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((doc) => doc._aws !== undefined);
  for (const doc of emf) expect(emfViolations(doc)).toEqual([]);
  return emf;
}

describe("task handler telemetry", () => {
  it("writes one EMF line per invocation, in the specification's shape, counting the records", async () => {
    const d = await deployInMemory(job, (task) => ({ telemetry: lambdaTelemetry("telemetry", task), log: undefined }));
    await d.pump(8);
    vi.restoreAllMocks();
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const emf = docs.filter((doc) => doc._aws !== undefined);
    expect(emf.length).toBeGreaterThan(0);
    for (const doc of emf) {
      expect(emfViolations(doc)).toEqual([]);
      const directive = (doc._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] })
        .CloudWatchMetrics[0];
      expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
      // Exactly the dimensions the stack's dashboard charts.
      const dims = taskDimensions("telemetry", String(doc.task));
      expect(directive?.Dimensions.map((set) => [...set].sort())).toEqual([Object.keys(dims).sort()]);
      for (const [k, v] of Object.entries(dims)) expect(doc[k]).toBe(v);
      for (const name of Object.keys(TASK_METRICS)) expect(typeof doc[name], name).toBe("number");
    }
    const sum = (task: string, name: string) =>
      emf.filter((doc) => doc.task === task).reduce((n, doc) => n + (doc[name] as number), 0);
    const keyed = d.plan.tasks.find((t) => t.keyed)?.id as string;
    const source = d.plan.tasks.find((t) => t.isSource)?.id as string;
    expect([sum(source, "RecordsIn"), sum(source, "RecordsOut"), sum(source, "DeadLetters")]).toEqual([6, 6, 0]);
    // The keyed task took all six in and set the poison one aside (its chain ends in the sink: no envelope out).
    expect([sum(keyed, "RecordsIn"), sum(keyed, "RecordsOut"), sum(keyed, "DeadLetters")]).toEqual([6, 0, 1]);
    expect(sum(keyed, "FailedMessages")).toBeGreaterThan(0);
    // The poison record's failed tries were logged as structured JSON lines.
    const failures = docs.filter((doc) => doc.level === "ERROR");
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatchObject({ job: "telemetry", task: keyed, partition: 0, generation: 1 });
    expect(String(failures[0]?.message)).toContain("5 is poison");
  });

  it("adds the cost units each invocation spent: billed SQS requests, capacity units and GB-seconds", async () => {
    fauxqs ??= await startLocalSqs();
    const sqs = sqsClient(fauxqs.endpoint);
    const cost = new InvocationCost("task-fn", 1024, [sqs]);
    const telemetry = lambdaTelemetry("telemetry", "map-1", cost);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniquePrefix("emf") }));
    const Entries = [0, 1].map((i) => ({ Id: `e${i}`, MessageBody: "x".repeat(70_000 + i) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Entries.slice(0, 1) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Entries.slice(1) }));
    const invocation = { messages: 1, failed: 0, recordsIn: 1, recordsOut: 1, segments: 1, deadLetters: 0 };
    telemetry.taskInvocation({ ...invocation, durationMs: 1500 });
    telemetry.taskInvocation({ ...invocation, durationMs: 250.2 }); // no request since the first
    sqs.destroy();
    vi.restoreAllMocks();
    const [first, second] = emfDocs();
    for (const name of Object.keys(COST_METRICS)) expect(typeof first?.[name], name).toBe("number");
    // CreateQueue (1) + two sends of one 70 KB message each (2 billed requests apiece); no DynamoDB or S3.
    expect(first).toMatchObject({ SqsRequests: 5, S3Requests: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0 });
    expect(first?.LambdaGBSeconds).toBeCloseTo(1.5, 6); // 1,500 ms at 1 GB
    expect(second).toMatchObject({ SqsRequests: 0, S3Requests: 0 });
    expect(second?.LambdaGBSeconds).toBeCloseTo(0.251, 6); // billed by the started ms
  });

  it("has the coordinator's round publish each checkpoint it completes: duration, alignment and bytes", async () => {
    const d = await deployInMemory(job);
    const coordinator = createCoordinatorHandlers(d.context, {
      startExecution: async () => {},
      telemetry: lambdaTelemetry("telemetry", COORDINATOR_TELEMETRY),
    });
    let checkpoint: number | null = null;
    for (let i = 0; i < 20 && emfDocs().length === 0; i++) {
      const out = (await coordinator.round({ job: "telemetry", checkpoint })) as { checkpoint: number | null };
      checkpoint = out.checkpoint ?? checkpoint;
      await d.pump(4);
      d.context.clock.advance(1_000);
    }
    vi.restoreAllMocks();
    const emf = emfDocs();
    expect(emf.length).toBeGreaterThan(0);
    const doc = emf[0] as Record<string, unknown>;
    const directive = (doc._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0];
    expect(directive?.Dimensions.map((set) => [...set].sort())).toEqual([
      Object.keys(taskDimensions("telemetry", COORDINATOR_TELEMETRY)).sort(),
    ]);
    expect(doc.task).toBe(COORDINATOR_TELEMETRY);
    for (const name of Object.keys(CHECKPOINT_METRICS)) expect(typeof doc[name], name).toBe("number");
    const manifest = await d.checkpoints.getManifest("telemetry", Number(doc.checkpoint));
    expect(manifest?.status).toBe("completed");
    expect([doc.CheckpointDuration, doc.CheckpointBytes]).toEqual([manifest?.durationMs, manifest?.bytes]);
  });
});
