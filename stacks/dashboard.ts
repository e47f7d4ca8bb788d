/**
 * The job's CloudWatch dashboard, beside its alarms: per task, records in and out,
 * batch duration, dead letters, failed messages, committed segments and the cost
 * units its invocations spent (the EMF metrics the task Lambdas write,
 * `functions/aws/telemetry.ts`), and the task queue's backlog and age of its oldest
 * message; for the job, checkpoint duration, alignment and bytes (the coordinator's
 * EMF), the coordinator's executions and the state of every alarm.
 */

import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import {
  type CHECKPOINT_METRICS,
  COORDINATOR_TELEMETRY,
  type COST_METRICS,
  METRICS_NAMESPACE,
  taskDimensions,
} from "../functions/aws/telemetry.ts";
import type { DeploymentPlan } from "./deploy-plan.ts";
import type { TaskQueues } from "./queues.ts";

const PERIOD = Duration.minutes(1);

function taskMetric(d: DeploymentPlan, task: string, name: string, statistic = "Sum"): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: taskDimensions(d.job, task),
    statistic,
    period: PERIOD,
    label: `${task} ${name}`,
  });
}

/** Creates the dashboard `<prefix>` over the tasks' metrics, queues, the coordinator and the alarms. */
export function createDashboard(
  scope: Construct,
  d: DeploymentPlan,
  queues: ReadonlyMap<string, TaskQueues>,
  machine: sfn.StateMachine,
  alarms: readonly cloudwatch.IAlarm[],
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, "Dashboard", {
    dashboardName: d.prefix,
    defaultInterval: Duration.hours(3),
  });
  const ids = d.tasks.map((t) => t.task.id);
  const graph = (title: string, left: cloudwatch.IMetric[]) =>
    new cloudwatch.GraphWidget({ title, left, width: 12, height: 6 });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({ markdown: `# riffle job \`${d.job}\``, width: 24, height: 1 }),
    new cloudwatch.AlarmStatusWidget({ title: "Alarms", alarms: [...alarms], width: 24, height: 3 }),
  );
  dashboard.addWidgets(
    graph(
      "Records in per minute",
      ids.map((t) => taskMetric(d, t, "RecordsIn")),
    ),
    graph(
      "Records out per minute",
      ids.map((t) => taskMetric(d, t, "RecordsOut")),
    ),
  );
  dashboard.addWidgets(
    graph(
      "Batch duration p99 (ms)",
      ids.map((t) => taskMetric(d, t, "BatchDuration", "p99")),
    ),
    graph(
      "Dead letters and failed messages",
      ids.flatMap((t) => [taskMetric(d, t, "DeadLetters"), taskMetric(d, t, "FailedMessages")]),
    ),
  );
  const backlog = ids.flatMap((t) => {
    const q = queues.get(t)?.queue;
    return q ? [q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: "Maximum", label: t })] : [];
  });
  const age = ids.flatMap((t) => {
    const q = queues.get(t)?.queue;
    return q ? [q.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: "Maximum", label: t })] : [];
  });
  dashboard.addWidgets(graph("Backlog (messages)", backlog), graph("Age of oldest message (s)", age));
  dashboard.addWidgets(
    graph(
      "Segments committed per minute",
      ids.map((t) => taskMetric(d, t, "SegmentsCommitted")),
    ),
    graph("Coordinator executions", [
      machine.metricStarted({ period: PERIOD, statistic: "Sum" }),
      machine.metricSucceeded({ period: PERIOD, statistic: "Sum" }),
      machine.metricFailed({ period: PERIOD, statistic: "Sum" }),
    ]),
  );
  const cost = (names: (keyof typeof COST_METRICS)[]) => ids.flatMap((t) => names.map((n) => taskMetric(d, t, n)));
  dashboard.addWidgets(
    graph("DynamoDB capacity units per minute", cost(["ReadCapacityUnits", "WriteCapacityUnits"])),
    graph("SQS and S3 requests, Lambda GB-seconds per minute", cost(["SqsRequests", "S3Requests", "LambdaGBSeconds"])),
  );
  const checkpoint = (name: keyof typeof CHECKPOINT_METRICS, statistic: string) =>
    taskMetric(d, COORDINATOR_TELEMETRY, name, statistic);
  dashboard.addWidgets(
    graph("Checkpoint duration and alignment, max (ms)", [
      checkpoint("CheckpointDuration", "Maximum"),
      checkpoint("CheckpointAlignment", "Maximum"),
    ]),
    graph("Checkpoint bytes per minute", [checkpoint("CheckpointBytes", "Sum")]),
  );
  return dashboard;
}
