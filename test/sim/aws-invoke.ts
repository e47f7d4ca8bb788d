/**
 * The simulation's AWS mode: each receive runs through the task Lambda's handler
 * (`functions/handlers/task.ts`) as an SQS event, on the simulation's in-memory
 * ports and under its faults. So the handler's group split, its FIFO partial batch
 * failures and its generation check are proven by the same seeds as the runners.
 * Containers come and go: a crash, or a chance cold start, replaces a task's
 * handler (its warm runners die with it), and a zombie container runs the same
 * event concurrently now and then.
 */
import type { Context, SQSEvent } from "aws-lambda";
import type { Job } from "../../core/api/environment.ts";
import type { TaskPlan } from "../../core/graph/plan.ts";
import type { CheckpointStore } from "../../core/ports/checkpoint-store.ts";
import type { Clock } from "../../core/ports/clock.ts";
import type { Queue, ReceivedMessage } from "../../core/ports/queue.ts";
import type { StateStore } from "../../core/ports/state-store.ts";
import { encodeEnvelope } from "../../functions/aws/sqs-queue.ts";
import { createTaskHandler } from "../../functions/handlers/task.ts";
import { InjectedCrash } from "../support/faults.ts";

type Handler = ReturnType<typeof createTaskHandler>;

/** What the invocations run on. */
export interface InvokePorts {
  readonly job: Job;
  readonly state: StateStore;
  readonly queue: Queue;
  readonly clock: Clock;
  readonly checkpoints: () => CheckpointStore;
}

/** Fault decisions per invocation, drawn by the seed. */
export interface InvokeFaults {
  /** True: this invocation runs in a fresh container (cold start, or the last one died). */
  readonly coldStart: () => boolean;
  /** True: a zombie container runs the same event concurrently. */
  readonly zombie: () => boolean;
}

/** SQS's view of a receive: one record per message, grouped by partition. */
function sqsEvent(messages: readonly ReceivedMessage[]): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.receipt,
      receiptHandle: m.receipt,
      body: encodeEnvelope(m.body),
      attributes: {
        MessageGroupId: String(m.group),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: "0",
        SenderId: "sim",
        SentTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:sim",
      awsRegion: "sim",
    })),
  } as SQSEvent;
}

/** Builds the simulation's `invoke` hook over task handlers. */
export function awsInvoke(ports: InvokePorts, faults: InvokeFaults) {
  const containers = new Map<string, Handler>();
  const fresh = (task: string): Handler =>
    createTaskHandler({
      job: ports.job,
      task,
      ports: { state: ports.state, queue: ports.queue, clock: ports.clock, checkpoints: ports.checkpoints() },
      fatal: (e) => e instanceof InjectedCrash,
      log: () => {},
    });
  const context = { functionName: "sim" } as Context;
  const run = async (handler: Handler, event: SQSEvent) => {
    try {
      const r = await handler(event, context);
      return { retry: new Set((r?.batchItemFailures ?? []).map((f) => f.itemIdentifier)), died: false };
    } catch (e) {
      return { retry: new Set(event.Records.map((r) => r.messageId)), died: true, error: String(e) };
    }
  };
  return async (task: TaskPlan, messages: readonly ReceivedMessage[]) => {
    let handler = containers.get(task.id);
    if (!handler || faults.coldStart()) {
      handler = fresh(task.id);
      containers.set(task.id, handler);
    }
    const event = sqsEvent(messages);
    const [result] = await Promise.all([
      run(handler, event),
      faults.zombie() ? run(fresh(task.id), event) : Promise.resolve(undefined),
    ]);
    if (result.died) containers.delete(task.id); // the container died: its warm runners with it
    return { retry: result.retry, ...(result.error ? { error: result.error } : {}) };
  };
}
