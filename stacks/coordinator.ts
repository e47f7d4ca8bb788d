/**
 * The checkpoint coordinator: the Step Functions state machine that the core ASL
 * generator (`core/checkpoint/asl.ts`) describes, its Task states calling the
 * coordinator step functions by ARN, and a custom resource that starts its first
 * execution `{job, round: 0}` when the stack is created (later executions are
 * started by the machine itself, through ContinueAsNew).
 */

import { Stack } from "aws-cdk-lib";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as cr from "aws-cdk-lib/custom-resources";
import type { Construct, IDependable } from "constructs";
import { type CoordinatorFunctions, coordinatorDefinition, tickSecondsFor } from "../core/checkpoint/asl.ts";
import type { DeploymentPlan } from "./deploy-plan.ts";

/** The coordinator's resources. */
export interface Coordinator {
  readonly machine: sfn.StateMachine;
  readonly start: cr.AwsCustomResource;
}

/**
 * Creates the state machine named `d.stateMachineName` over the step functions, lets
 * it invoke them, and starts it once everything in `startAfter` exists.
 */
export function createCoordinator(
  scope: Construct,
  d: DeploymentPlan,
  steps: { readonly [K in keyof CoordinatorFunctions]: lambda.IFunction },
  startAfter: readonly IDependable[],
): Coordinator {
  const tickSeconds = tickSecondsFor(d.plan, d.aws);
  const definition = coordinatorDefinition({
    checkpoint: d.checkpoint,
    ...(tickSeconds === undefined ? {} : { tickSeconds }),
    functions: {
      trigger: steps.trigger.functionArn,
      poll: steps.poll.functionArn,
      complete: steps.complete.functionArn,
      abort: steps.abort.functionArn,
      restore: steps.restore.functionArn,
      continueAsNew: steps.continueAsNew.functionArn,
    },
  });
  const machine = new sfn.StateMachine(scope, "Coordinator", {
    stateMachineName: d.stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    comment: `riffle job '${d.job}': checkpoint coordinator`,
    definitionBody: sfn.DefinitionBody.fromString(Stack.of(scope).toJsonString(definition)),
  });
  for (const f of Object.values(steps)) f.grantInvoke(machine);
  const start = new cr.AwsCustomResource(scope, "StartCoordinator", {
    onCreate: {
      service: "SFN",
      action: "startExecution",
      parameters: { stateMachineArn: machine.stateMachineArn, input: JSON.stringify({ job: d.job, round: 0 }) },
      physicalResourceId: cr.PhysicalResourceId.of(`${d.stateMachineName}-first-execution`),
    },
    policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [machine.stateMachineArn] }),
    installLatestAwsSdk: false,
  });
  start.node.addDependency(machine, ...startAfter);
  return { machine, start };
}
