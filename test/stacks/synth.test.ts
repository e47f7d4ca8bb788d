/**
 * The SST stacks synthesized offline for two example jobs of different shapes —
 * `clicks` (an HTTP ingest source and one keyed task) and Nexmark q5 at parallelism 2
 * (a generator source and two chained keyed tasks) — and for a job that sets its own
 * AWS settings. Each template is checked for what the deployment must have: the
 * resources of every task, FIFO queues with DLQs, event sources, runtime and
 * architecture, visibility ≥ 6× timeout, least-privilege grants without wildcards,
 * the tables, the API routes and their credential, the alarms and the coordinator.
 */

import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { COORDINATOR_STATES } from "../../core/checkpoint/asl.ts";
import { ROUNDS_STATES } from "../../core/checkpoint/asl-rounds.ts";
import {
  CHECKPOINT_METRICS,
  COORDINATOR_TELEMETRY,
  COST_METRICS,
  METRICS_NAMESPACE,
  TASK_METRICS,
  taskDimensions,
} from "../../functions/aws/telemetry.ts";
import { ROUTES, routeMethods } from "../../functions/http/routes.ts";
import { ROOT } from "../../stacks/bundle.ts";
import { VISIBILITY_FACTOR } from "../../stacks/deploy-plan.ts";
import { BATCH_SIZE, COORDINATOR_ROLES } from "../../stacks/functions.ts";
import { offlineApp, type SynthesizedJob } from "../../stacks/synth.ts";
import {
  actionsOf,
  hasWildcard,
  policyStatements,
  projectRoot,
  type Resource,
  refTarget,
  resolveIntrinsics,
  resource,
  resources,
  resourcesOf,
  roleOf,
  synthForTest,
} from "../support/stack-template.ts";

const JOBS = [
  { name: "clicks", file: "examples/clicks.ts", tasks: 2 },
  { name: "nexmark-q5", file: "examples/nexmark/q5.ts", tasks: 3, parallelism: 2 },
  { name: "aws-configured", file: "test/fixtures/aws-configured.ts", tasks: 2 },
] as const;

const synthesized = new Map<string, SynthesizedJob>();

beforeAll(async () => {
  // One after the other: SST keeps its app in module state while a stack is built.
  for (const j of JOBS) {
    synthesized.set(j.name, await synthForTest(j.file, "parallelism" in j ? { parallelism: j.parallelism } : {}));
  }
}, 120_000);

function synth(name: string): SynthesizedJob {
  const s = synthesized.get(name);
  if (!s) throw new Error(`job ${name} was not synthesized`);
  return s;
}

/** The riffle functions (handler `entry.<role>`). */
function riffleFunctions(s: SynthesizedJob): Resource[] {
  return resources(s, "AWS::Lambda::Function").filter((f) => roleOf(f) !== undefined);
}

/** Per task id: its queue, DLQ, function and event source mapping. */
function taskResources(s: SynthesizedJob) {
  const queues = resources(s, "AWS::SQS::Queue");
  const esms = resources(s, "AWS::Lambda::EventSourceMapping");
  const fns = riffleFunctions(s);
  return s.deployment.tasks.map((t) => {
    const queue = queues.find((q) => q.props.QueueName === `${t.queueName}.fifo`);
    const dlq = queues.find((q) => q.props.QueueName === `${t.queueName}-dlq.fifo`);
    const fn = fns.find((f) => roleOf(f) === "task" && f.props.Environment.Variables.RIFFLE_TASK === t.task.id);
    const esm = esms.find((e) => refTarget(e.props.EventSourceArn) === queue?.id);
    if (!queue || !dlq || !fn || !esm)
      throw new Error(`task ${t.task.id}: queue, DLQ, function or event source missing`);
    return { t, queue, dlq, fn, esm };
  });
}

describe.each(JOBS)("stack of $name", (j) => {
  it("has the planned tasks and, per task, one queue, one DLQ, one function, one event source and two alarms", () => {
    const s = synth(j.name);
    expect(s.deployment.tasks).toHaveLength(j.tasks);
    if ("parallelism" in j) expect(s.deployment.tasks.every((t) => t.task.parallelism === j.parallelism)).toBe(true);
    const n = s.deployment.tasks.length;
    const t = Template.fromJSON(s.template);
    t.resourceCountIs("AWS::SQS::Queue", 2 * n);
    t.resourceCountIs("AWS::Lambda::EventSourceMapping", n);
    t.resourceCountIs("AWS::CloudWatch::Alarm", 2 * n + 1);
    t.resourceCountIs("AWS::DynamoDB::Table", 5);
    t.resourceCountIs("AWS::StepFunctions::StateMachine", 2); // the coordinator and its Express rounds
    t.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    t.resourceCountIs("AWS::SecretsManager::Secret", 1);
    const fns = riffleFunctions(s);
    expect(fns.filter((f) => roleOf(f) === "task")).toHaveLength(n);
    expect(
      fns
        .filter((f) => roleOf(f) !== "task")
        .map(roleOf)
        .sort(),
    ).toEqual([...COORDINATOR_ROLES, "http"].sort());
    for (const r of taskResources(s)) expect(r.fn.props.Handler).toBe("entry.task");
  });

  it("uses FIFO queues (high throughput, 1 MiB) with FIFO DLQs after the job's maxReceiveCount", () => {
    const s = synth(j.name);
    for (const { queue, dlq } of taskResources(s)) {
      expect(queue.props).toMatchObject({
        FifoQueue: true,
        DeduplicationScope: "messageGroup",
        FifoThroughputLimit: "perMessageGroupId",
        ContentBasedDeduplication: false,
        MaximumMessageSize: 1_048_576,
      });
      expect(dlq.props.FifoQueue).toBe(true);
      expect(refTarget(queue.props.RedrivePolicy.deadLetterTargetArn)).toBe(dlq.id);
      expect(queue.props.RedrivePolicy.maxReceiveCount).toBe(s.deployment.aws.maxReceiveCount);
    }
  });

  it("feeds each task function from its own queue in batches of 10 with partial batch responses", () => {
    for (const { fn, esm } of taskResources(synth(j.name))) {
      expect(esm.props.BatchSize).toBe(BATCH_SIZE);
      expect(BATCH_SIZE).toBe(10);
      expect(esm.props.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
      expect(refTarget(esm.props.FunctionName)).toBe(fn.id);
    }
  });

  it("runs every function on nodejs22.x and arm64, tasks with the memory and timeout of the job config", () => {
    const s = synth(j.name);
    for (const f of riffleFunctions(s)) {
      expect(f.props.Runtime).toBe("nodejs22.x");
      expect(f.props.Architectures).toEqual(["arm64"]);
    }
    for (const { t, fn } of taskResources(s)) {
      expect(fn.props.MemorySize).toBe(t.memoryMb);
      expect(fn.props.Timeout).toBe(t.timeoutSeconds);
    }
  });

  it("gives each task queue a visibility timeout of at least 6× its function's timeout", () => {
    for (const { queue, fn } of taskResources(synth(j.name))) {
      expect(queue.props.VisibilityTimeout).toBeGreaterThanOrEqual(VISIBILITY_FACTOR * fn.props.Timeout);
    }
  });

  it("grants no wildcard resource on SQS or DynamoDB", () => {
    const grants = policyStatements(synth(j.name)).filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith("sqs:") || a.startsWith("dynamodb:")),
    );
    expect(grants.length).toBeGreaterThan(0);
    const wild = grants.filter(({ statement }) => resourcesOf(statement).some(hasWildcard));
    expect(wild.map((w) => `${w.policy}: ${JSON.stringify(w.statement)}`)).toEqual([]);
    for (const { statement } of grants) expect(actionsOf(statement).some((a) => a.includes("*"))).toBe(false);
  });

  it("lets a task function consume only its queue, send only downstream (and to itself if a source), and touch only its tables", () => {
    const s = synth(j.name);
    const all = taskResources(s);
    const queueOf = new Map(all.map((r) => [r.queue.id, r.t.task.id]));
    const tableIds = Object.fromEntries(
      resources(s, "AWS::DynamoDB::Table").map((t) => [
        t.id,
        String(t.props.TableName).replace(`${s.deployment.prefix}-`, ""),
      ]),
    );
    for (const { t, fn } of all) {
      const role = refTarget(fn.props.Role);
      const mine = policyStatements(s).filter((p) => p.roles.includes(role ?? ""));
      const targets = (prefix: string, action: string) =>
        mine
          .filter((p) => actionsOf(p.statement).includes(`${prefix}:${action}`))
          .flatMap((p) => resourcesOf(p.statement).map(refTarget));
      expect(new Set(targets("sqs", "ReceiveMessage").map((q) => queueOf.get(q ?? "")))).toEqual(new Set([t.task.id]));
      expect(new Set(targets("sqs", "SendMessage").map((q) => queueOf.get(q ?? "")))).toEqual(new Set(t.sendsTo));
      expect(new Set(t.sendsTo)).toEqual(
        new Set([...(t.task.isSource ? [t.task.id] : []), ...t.task.outputs.map((o) => o.to)]),
      );
      const rw = new Set(targets("dynamodb", "PutItem").map((x) => tableIds[x ?? ""]));
      expect(rw).toEqual(new Set(["log", "state", "checkpoints"]));
      const read = new Set(targets("dynamodb", "Query").map((x) => tableIds[x ?? ""]));
      expect(read).toEqual(new Set(["log", "state", "checkpoints", ...(t.readsIngest ? ["ingest"] : [])]));
    }
  });

  it("creates the five tables on demand, with point-in-time recovery, and TTL on the log table", () => {
    const s = synth(j.name);
    const tables = resources(s, "AWS::DynamoDB::Table");
    expect(tables.map((t) => t.props.TableName).sort()).toEqual(
      ["checkpoints", "ingest", "log", "output", "state"].map((r) => `${s.deployment.prefix}-${r}`),
    );
    for (const t of tables) {
      expect(t.props.BillingMode).toBe("PAY_PER_REQUEST");
      expect(t.props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(t.props.KeySchema).toEqual([
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ]);
      const ttl = String(t.props.TableName).endsWith("-log") ? { AttributeName: "exp", Enabled: true } : undefined;
      expect(t.props.TimeToLiveSpecification).toEqual(ttl);
      // A stage other than prod is removed whole, tables included.
      expect(s.template.Resources[t.id]).toMatchObject({ DeletionPolicy: "Delete" });
    }
  });

  it("routes every riffle API route to the API function, which names the secret holding its credential", () => {
    const s = synth(j.name);
    const api = riffleFunctions(s).find((f) => roleOf(f) === "http");
    if (!api) throw new Error("no API function");
    const integrations = resources(s, "AWS::ApiGatewayV2::Integration");
    expect(integrations).toHaveLength(1);
    const integration = integrations[0] as Resource;
    expect(integration.props).toMatchObject({ IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
    expect(refTarget(integration.props.IntegrationUri)).toBe(api.id);
    const routes = resources(s, "AWS::ApiGatewayV2::Route");
    const dashboard = ["GET /ui", "HEAD /ui", "GET /ui/{proxy+}", "HEAD /ui/{proxy+}"];
    const want = [...ROUTES.flatMap((r) => routeMethods(r).map((m) => `${m} ${r.path}`)), ...dashboard];
    expect(want).toContain("HEAD /jobs/{job}/checkpoints");
    expect(routes.map((r) => r.props.RouteKey).sort()).toEqual(want.sort());
    for (const r of routes) {
      expect(r.props.Target).toEqual({ "Fn::Join": ["", ["integrations/", { Ref: integration.id }]] });
      // No gateway authorizer: the function authenticates every request first (functions/http/auth.ts).
      expect(r.props.AuthorizationType ?? "NONE").toBe("NONE");
    }
    const secret = resources(s, "AWS::SecretsManager::Secret")[0] as Resource;
    expect(secret.props.GenerateSecretString).toMatchObject({ PasswordLength: 40, ExcludePunctuation: true });
    // The ARN, read at run time (test/stacks/security.test.ts checks that no value is in any environment).
    expect(api.props.Environment.Variables.RIFFLE_API_KEYS_SECRET).toEqual({ Ref: secret.id });
    expect(riffleFunctions(s).filter((f) => f.props.Environment.Variables.RIFFLE_API_KEYS_SECRET)).toHaveLength(1);
  });

  it("alarms on DLQ depth and on the oldest message's age of every task queue, and on a stopped coordinator", () => {
    const s = synth(j.name);
    const alarms = resources(s, "AWS::CloudWatch::Alarm");
    for (const { queue, dlq } of taskResources(s)) {
      const on = (q: Resource, metric: string) =>
        alarms.filter(
          (a) =>
            a.props.MetricName === metric &&
            a.props.Namespace === "AWS/SQS" &&
            refTarget(a.props.Dimensions?.[0]?.Value) === q.id,
        );
      const depth = on(dlq, "ApproximateNumberOfMessagesVisible");
      expect(depth).toHaveLength(1);
      expect(depth[0]?.props).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
      const age = on(queue, "ApproximateAgeOfOldestMessage");
      expect(age).toHaveLength(1);
      expect(age[0]?.props.Threshold).toBe(s.deployment.aws.oldestMessageAlarmSeconds);
      for (const a of [...depth, ...age]) expect(a.props.AlarmActions).toHaveLength(1);
    }
    const machine = resources(s, "AWS::StepFunctions::StateMachine").find(
      (m) => m.props.StateMachineType === "STANDARD",
    ) as Resource;
    const coordinator = alarms.filter((a) => a.props.Metrics !== undefined);
    expect(coordinator).toHaveLength(1);
    const metrics = coordinator[0]?.props.Metrics as {
      MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } };
    }[];
    expect(metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])).sort()).toEqual([
      "ExecutionsAborted",
      "ExecutionsFailed",
      "ExecutionsTimedOut",
    ]);
    for (const m of metrics)
      if (m.MetricStat) expect(refTarget(m.MetricStat.Metric.Dimensions[0]?.Value)).toBe(machine.id);
  });

  it("adds a CloudWatch dashboard of every task's EMF metrics (with the dimensions the task functions write), its queues and the alarms", () => {
    const s = synth(j.name);
    const boards = resources(s, "AWS::CloudWatch::Dashboard");
    expect(boards).toHaveLength(1);
    const body = JSON.parse(String(resolveIntrinsics(boards[0]?.props.DashboardBody, (id) => id))) as {
      widgets: { properties: { metrics?: unknown[][]; alarms?: string[] } }[];
    };
    const metrics = body.widgets.flatMap((w) => w.properties.metrics ?? []);
    const job = s.deployment.job;
    for (const t of s.deployment.tasks) {
      for (const name of [...Object.keys(TASK_METRICS), ...Object.keys(COST_METRICS)].filter((m) => m !== "Messages")) {
        const found = metrics.filter((m) => m[0] === METRICS_NAMESPACE && m[1] === name && m.includes(t.task.id));
        expect(found, `${name} of ${t.task.id}`).toHaveLength(1);
        const pairs = (found[0] as unknown[]).slice(2).filter((x) => typeof x === "string") as string[];
        const dims = Object.fromEntries(pairs.flatMap((x, i) => (i % 2 === 0 ? [[x, pairs[i + 1]]] : [])));
        expect(dims).toEqual(taskDimensions(job, t.task.id));
      }
      expect(metrics.some((m) => m[0] === "AWS/SQS" && m[1] === "ApproximateAgeOfOldestMessage")).toBe(true);
    }
    // The coordinator's checkpoint metrics, with the dimensions its round function writes.
    for (const name of Object.keys(CHECKPOINT_METRICS)) {
      const found = metrics.filter((m) => m[0] === METRICS_NAMESPACE && m[1] === name);
      expect(found, name).toHaveLength(1);
      const pairs = (found[0] as unknown[]).slice(2).filter((x) => typeof x === "string") as string[];
      const dims = Object.fromEntries(pairs.flatMap((x, i) => (i % 2 === 0 ? [[x, pairs[i + 1]]] : [])));
      expect(dims).toEqual(taskDimensions(job, COORDINATOR_TELEMETRY));
    }
    const alarms = body.widgets.flatMap((w) => w.properties.alarms ?? []);
    expect(alarms).toHaveLength(resources(s, "AWS::CloudWatch::Alarm").length);
  });

  it("runs the coordinator from the core ASL: a Standard machine running the Express rounds, whose Round calls the round function; started on create", () => {
    const s = synth(j.name);
    const machines = resources(s, "AWS::StepFunctions::StateMachine");
    const machine = machines.find((m) => m.props.StateMachineType === "STANDARD") as Resource;
    const rounds = machines.find((m) => m.props.StateMachineType === "EXPRESS") as Resource;
    expect(machine.props.StateMachineName).toBe(s.deployment.stateMachineName);
    expect(rounds.props.StateMachineName).toBe(s.deployment.roundsMachineName);
    const fnIds = new Map<string, string>();
    const definitionOf = (m: Resource) =>
      JSON.parse(
        (m.props.DefinitionString["Fn::Join"][1] as unknown[])
          .map((p) => {
            const id = refTarget(p);
            if (!id) return typeof p === "string" ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`;
            fnIds.set(`<${id}>`, id);
            return `<${id}>`;
          })
          .join(""),
      );
    const definition = definitionOf(machine);
    const roundsDef = definitionOf(rounds);
    expect(Object.keys(definition.States).sort()).toEqual([...COORDINATOR_STATES].sort());
    expect(Object.keys(roundsDef.States).sort()).toEqual([...ROUNDS_STATES].sort());
    const roleAt = (def: { States: Record<string, { Resource: string }> }, state: string) =>
      roleOf(resource(s, fnIds.get(def.States[state]?.Resource ?? "") ?? ""));
    expect(roleAt(roundsDef, "Round")).toBe("round");
    expect(roleAt(definition, "ContinueAsNew")).toBe("continueAsNew");
    expect(definition.States.RunRounds.Resource).toBe("arn:aws:states:::states:startExecution.sync:2");
    expect(String(definition.States.RunRounds.Parameters.StateMachineArn)).toContain(
      `:stateMachine:${s.deployment.roundsMachineName}`,
    );
    expect(roundsDef.States.WaitInterval.Seconds).toBe(
      Math.max(1, Math.ceil(s.deployment.checkpoint.intervalMs / 1000)),
    );
    for (const role of ["continueAsNew", "round"]) {
      const f = riffleFunctions(s).find((x) => roleOf(x) === role);
      expect(JSON.stringify(f?.props.Environment.Variables.RIFFLE_STATE_MACHINE_ARN), role).toContain(
        `:stateMachine:${s.deployment.stateMachineName}`,
      );
    }
    const start = resources(s, "Custom::AWS")[0] as Resource;
    const create = JSON.parse(String(resolveIntrinsics(start.props.Create, (id) => `<${id}>`)));
    expect(create).toMatchObject({ service: "SFN", action: "startExecution" });
    expect(create.parameters.stateMachineArn).toBe(`<${machine.id}>`);
    expect(JSON.parse(create.parameters.input)).toEqual({ job: s.deployment.job, round: 0 });
  });
});

describe("job AWS settings", () => {
  it("flow from env.configureAws into functions, queues, DLQ and alarms (one task overridden)", () => {
    const s = synth("aws-configured");
    const byTask = Object.fromEntries(taskResources(s).map((r) => [r.t.task.id, r]));
    expect(byTask["elements-0"]?.fn.props).toMatchObject({ MemorySize: 512, Timeout: 20 });
    expect(byTask["process-2"]?.fn.props).toMatchObject({ MemorySize: 2048, Timeout: 60 });
    for (const role of ["round", "continueAsNew"]) {
      expect(riffleFunctions(s).find((x) => roleOf(x) === role)?.props.MemorySize, role).toBe(192);
    }
    expect(riffleFunctions(synth("clicks")).find((x) => roleOf(x) === "round")?.props.MemorySize).toBe(256);
    expect(byTask["elements-0"]?.queue.props.VisibilityTimeout).toBe(120);
    expect(byTask["process-2"]?.queue.props.VisibilityTimeout).toBe(360);
    for (const r of Object.values(byTask)) expect(r.queue.props.RedrivePolicy.maxReceiveCount).toBe(7);
    const ages = resources(s, "AWS::CloudWatch::Alarm").filter(
      (a) => a.props.MetricName === "ApproximateAgeOfOldestMessage",
    );
    expect(ages.map((a) => a.props.Threshold)).toEqual([300, 300]);
  });
});

describe("sst.config.ts", () => {
  it("adds the stack of RIFFLE_JOB as `sst deploy` loads it, and says so when RIFFLE_JOB is missing", async () => {
    // SST's own loader (esbuild bundle of the config), as the sst CLI uses it.
    const { load } = await import("sst/stacks/build.js");
    const [, config] = (await load(join(ROOT, "sst.config.ts"))) as [
      unknown,
      { stacks: (app: unknown) => Promise<void> },
    ];
    const saved = process.env.RIFFLE_JOB;
    try {
      delete process.env.RIFFLE_JOB;
      const app = await offlineApp({ stage: "cfgtest", root: projectRoot() });
      await expect(config.stacks(app)).rejects.toThrow("RIFFLE_JOB is not set: which job should be deployed?");
      process.env.RIFFLE_JOB = "examples/clicks.ts";
      await config.stacks(app);
      await app.finish();
      const assembly = app.synth();
      expect(assembly.stacks.map((x) => x.stackName)).toEqual(["cfgtest-riffle-clicks"]);
      const template = Template.fromJSON(assembly.stacks[0]?.template);
      template.resourceCountIs("AWS::Lambda::EventSourceMapping", 2);
      template.resourceCountIs("AWS::StepFunctions::StateMachine", 2);
    } finally {
      if (saved === undefined) delete process.env.RIFFLE_JOB;
      else process.env.RIFFLE_JOB = saved;
    }
  }, 60_000);
});
