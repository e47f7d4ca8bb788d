/**
 * The stack of one riffle job: queues, tables, functions, the coordinator state
 * machine, the HTTP API and alarms, all derived from the job's plan
 * (`deploy-plan.ts`). Each concern lives in its own module; this one wires them.
 */

import { CfnOutput, Tags } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type { StackContext } from "sst/constructs";
import { createAlarms } from "./alarms.ts";
import { createApiSecret, createHttpApi } from "./api.ts";
import { createSegmentBucket } from "./bucket.ts";
import type { JobBundle } from "./bundle.ts";
import { createCoordinator } from "./coordinator.ts";
import { createDashboard } from "./dashboard.ts";
import type { DeploymentPlan } from "./deploy-plan.ts";
import { createFunctions, stateMachineArn } from "./functions.ts";
import { createQueues } from "./queues.ts";
import { createTables } from "./tables.ts";

/** What the stack is built from. */
export interface RiffleStackInput {
  readonly deployment: DeploymentPlan;
  readonly bundle: JobBundle;
}

/** An SST functional stack (`app.stack(fn)`); it returns its main resources. */
export type RiffleStackFunction = (ctx: StackContext) => RiffleStackOutputs;

/** The stack's main resources, as `use(fn)` returns them. */
export interface RiffleStackOutputs {
  readonly apiUrl: string;
  readonly stateMachineArn: string;
}

/** Builds the stack function of one job. */
export function riffleStack(input: RiffleStackInput): RiffleStackFunction {
  const d = input.deployment;
  return function RiffleJob({ stack }: StackContext): RiffleStackOutputs {
    Tags.of(stack).add("riffle:job", d.job);
    const queues = createQueues(stack, d);
    const tables = createTables(stack, d.prefix);
    const bucket = createSegmentBucket(stack);
    const secret = createApiSecret(stack, d);
    const machineArn = stateMachineArn(d.stateMachineName);
    const fns = createFunctions(stack, {
      deployment: d,
      code: lambda.Code.fromAsset(input.bundle.dir),
      queues,
      tables,
      bucket,
      stateMachineArn: machineArn,
      apiEnvironment: secret.environment,
      apiSecrets: [secret.secret.secretArn],
    });
    const coordinator = createCoordinator(stack, d, fns.coordinator, [
      ...Object.values(tables),
      ...[...queues.values()].flatMap((q) => [q.queue, q.dlq]),
      ...fns.tasks.values(),
    ]);
    const api = createHttpApi(stack, d, fns.api);
    const alarms = createAlarms(stack, d, queues, coordinator.machine);
    const dashboard = createDashboard(stack, d, queues, coordinator.machine, alarms.alarms);
    const outputs = {
      ApiUrl: api.apiEndpoint,
      ApiKeySecretArn: secret.secret.secretArn,
      StateMachineArn: coordinator.machine.stateMachineArn,
      AlarmTopicArn: alarms.topic.topicArn,
      DashboardName: dashboard.dashboardName,
      TablePrefix: d.prefix,
      SegmentBucketName: bucket.bucketName,
    };
    for (const [id, value] of Object.entries(outputs)) new CfnOutput(stack, id, { value });
    return { apiUrl: api.apiEndpoint, stateMachineArn: coordinator.machine.stateMachineArn };
  };
}
