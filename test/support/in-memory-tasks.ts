/**
 * A deployment of a job's task handlers on in-memory ports, for handler tests: the
 * job started by the coordinator's steps, one handler per task, and a pump that runs
 * each task queue's receives through its handler as SQS events (a failed item is
 * retried at once).
 */
import type { Context, SQSEvent } from "aws-lambda";
import { buildGraph, type Job } from "../../core/api/environment.ts";
import { CoordinatorSteps } from "../../core/checkpoint/steps.ts";
import { planJob } from "../../core/graph/planner.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryOutputStore } from "../../core/memory/in-memory-output-store.ts";
import { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import type { ReceivedMessage } from "../../core/ports/queue.ts";
import { encodeEnvelope } from "../../functions/aws/sqs-queue.ts";
import { createTaskHandler, type TaskHandlerOptions } from "../../functions/handlers/task.ts";

/** The SQS event a batch of received messages makes. */
export function sqsEvent(messages: readonly ReceivedMessage[]): SQSEvent {
  const Records = messages.map((m) => ({
    messageId: m.receipt,
    receiptHandle: m.receipt,
    body: encodeEnvelope(m.body),
    attributes: { MessageGroupId: String(m.group), ApproximateReceiveCount: String(m.receiveCount) },
  }));
  return { Records } as unknown as SQSEvent;
}

/** A deployment on in-memory ports: the job started, and each task's handler. */
export async function deployInMemory(
  job: Job,
  extra: Partial<TaskHandlerOptions> | ((task: string) => Partial<TaskHandlerOptions>) = {},
) {
  const clock = new ManualClock(1_000);
  const graph = buildGraph(job, { parallelism: 1 });
  const plan = planJob(graph);
  const state = new InMemoryStateStore();
  const checkpoints = new InMemoryCheckpointStore();
  const queue = new InMemoryQueue(clock, { maxReceiveCount: 1000 });
  const context = { plan, graph, state, checkpoints, queue, output: new InMemoryOutputStore(), clock };
  const steps = new CoordinatorSteps(context);
  await steps.start();
  const lines: string[] = [];
  const handlers = new Map(
    plan.tasks.map((t) => [
      t.id,
      createTaskHandler({
        job,
        task: t.id,
        ports: { state, checkpoints, queue, clock },
        log: (l) => lines.push(l),
        ...(typeof extra === "function" ? extra(t.id) : extra),
      }),
    ]),
  );
  const failures: string[] = [];
  /** Runs every queue's receives through its handler, `times` rounds; a failed item is retried at once. */
  const pump = async (times: number) => {
    for (let i = 0; i < times; i++) {
      for (const t of plan.tasks) {
        const msgs = await queue.receive(t.id, 10);
        if (msgs.length === 0) continue;
        const handler = handlers.get(t.id) as ReturnType<typeof createTaskHandler>;
        const r = await handler(sqsEvent(msgs), {} as Context);
        const failed = new Set((r?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        failures.push(...failed);
        const done = msgs.filter((m) => !failed.has(m.receipt)).map((m) => m.receipt);
        if (done.length) await queue.ack(t.id, done);
        if (failed.size) await queue.nack(t.id, [...failed], 0, "failed");
      }
    }
  };
  return { steps, context, checkpoints, queue, plan, lines, failures, pump };
}
