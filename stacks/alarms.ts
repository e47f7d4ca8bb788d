/**
 * CloudWatch alarms per task queue, published to one SNS topic: a message in the
 * task's DLQ (an envelope SQS gave up on: the channel behind it stalls), and the
 * oldest message of the task queue older than the job's `oldestMessageAlarmSeconds`
 * (the task is stuck or falling behind). And one for the job: a failed, timed-out or
 * aborted coordinator execution (no more checkpoints, so no more committed output).
 */

import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import type { DeploymentPlan } from "./deploy-plan.ts";
import type { TaskQueues } from "./queues.ts";

/** The alarms and their topic. */
export interface JobAlarms {
  readonly topic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];
}

/** Creates two alarms per task and one on the coordinator. */
export function createAlarms(
  scope: Construct,
  d: DeploymentPlan,
  queues: ReadonlyMap<string, TaskQueues>,
  machine: sfn.StateMachine,
): JobAlarms {
  const topic = new sns.Topic(scope, "Alarms", { displayName: `riffle ${d.job} alarms` });
  const action = new SnsAction(topic);
  const alarms: cloudwatch.Alarm[] = [];
  const period = Duration.minutes(1);
  const stopped = new cloudwatch.MathExpression({
    expression: "failed + timedOut + aborted",
    usingMetrics: {
      failed: machine.metricFailed({ period, statistic: "Sum" }),
      timedOut: machine.metricTimedOut({ period, statistic: "Sum" }),
      aborted: machine.metricAborted({ period, statistic: "Sum" }),
    },
    period,
  }).createAlarm(scope, "CoordinatorAlarm", {
    alarmDescription: `riffle job '${d.job}': a coordinator execution failed, timed out or was aborted (checkpoints stop)`,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  stopped.addAlarmAction(action);
  alarms.push(stopped);
  for (const t of d.tasks) {
    const q = queues.get(t.task.id);
    if (!q) continue;
    const dlq = q.dlq
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" })
      .createAlarm(scope, `Task${t.index}DlqAlarm`, {
        alarmDescription: `riffle job '${d.job}', task '${t.task.id}': messages in the dead-letter queue`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const age = q.queue
      .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: "Maximum" })
      .createAlarm(scope, `Task${t.index}AgeAlarm`, {
        alarmDescription: `riffle job '${d.job}', task '${t.task.id}': oldest message older than ${d.aws.oldestMessageAlarmSeconds} s`,
        threshold: d.aws.oldestMessageAlarmSeconds,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    for (const a of [dlq, age]) a.addAlarmAction(action);
    alarms.push(dlq, age);
  }
  return { topic, alarms };
}
