/**
 * The checkpoint coordinator: the two state machines that the core ASL generators
 * describe — the Express machine of rounds (`core/checkpoint/asl-rounds.ts`), its
 * Round task calling the round function by ARN, and the Standard machine
 * (`core/checkpoint/asl.ts`) that runs one Express execution after another — and a
 * custom resource that starts the Standard machine's first execution `{job, round: 0}`
 * when the stack is created (later executions are started by the machine itself,
 * through ContinueAsNew, or by a wake).
 */

import { Arn, ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as cr from "aws-cdk-lib/custom-resources";
import type { Construct, IDependable } from "constructs";
import {
  type CoordinatorAslOptions,
  type CoordinatorFunctions,
  coordinatorDefinition,
  tickSecondsFor,
} from "../core/checkpoint/asl.ts";
import { roundsDefinition } from "../core/checkpoint/asl-rounds.ts";
import type { DeploymentPlan } from "./deploy-plan.ts";

/** The coordinator's resources. */
export interface Coordinator {
  /** The Standard machine: its executions are the coordinator (one per job at a time). */
  readonly machine: sfn.StateMachine;
  /** The Express machine of rounds. */
  readonly rounds: sfn.StateMachine;
  readonly start: cr.AwsCustomResource;
}

/** The EventBridge rule through which Step Functions learns that a `.sync` child execution ended. */
const SYNC_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule";

/**
 * Creates both machines over the round and continue-as-new functions, lets each
 * invoke its own, lets the Standard machine run the Express one synchronously, and
 * starts it once everything in `startAfter` exists.
 */
export function createCoordinator(
  scope: Construct,
  d: DeploymentPlan,
  steps: { readonly [K in keyof CoordinatorFunctions]: lambda.IFunction },
  startAfter: readonly IDependable[],
): Coordinator {
  const stack = Stack.of(scope);
  const tickSeconds = tickSecondsFor(d.plan, d.aws);
  const roundsArn = stack.formatArn({
    service: "states",
    resource: "stateMachine",
    resourceName: d.roundsMachineName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const asl: CoordinatorAslOptions = {
    checkpoint: d.checkpoint,
    ...(tickSeconds === undefined ? {} : { tickSeconds }),
    functions: { round: steps.round.functionArn, continueAsNew: steps.continueAsNew.functionArn },
    roundsMachine: roundsArn,
  };
  const rounds = new sfn.StateMachine(scope, "CoordinatorRounds", {
    stateMachineName: d.roundsMachineName,
    stateMachineType: sfn.StateMachineType.EXPRESS,
    comment: `riffle job '${d.job}': checkpoint rounds`,
    definitionBody: sfn.DefinitionBody.fromString(stack.toJsonString(roundsDefinition(asl))),
  });
  steps.round.grantInvoke(rounds);
  const machine = new sfn.StateMachine(scope, "Coordinator", {
    stateMachineName: d.stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    comment: `riffle job '${d.job}': checkpoint coordinator`,
    definitionBody: sfn.DefinitionBody.fromString(stack.toJsonString(coordinatorDefinition(asl))),
  });
  machine.node.addDependency(rounds);
  steps.continueAsNew.grantInvoke(machine);
  // startExecution.sync:2 on the Express machine: start it, follow and stop its executions,
  // and the managed EventBridge rule that reports their end.
  machine.addToRolePolicy(new iam.PolicyStatement({ actions: ["states:StartExecution"], resources: [roundsArn] }));
  const executions = stack.formatArn({
    service: "states",
    resource: "execution",
    resourceName: `${d.roundsMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  machine.addToRolePolicy(
    new iam.PolicyStatement({ actions: ["states:DescribeExecution", "states:StopExecution"], resources: [executions] }),
  );
  machine.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      resources: [Arn.format({ service: "events", resource: "rule", resourceName: SYNC_RULE }, stack)],
    }),
  );
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
  return { machine, rounds, start };
}
