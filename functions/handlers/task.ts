/**
 * The task Lambda: one SQS FIFO batch in, one TaskRunner per message group
 * (partition) run, FIFO partial batch failures out. A thin composition root: the
 * job's code is bundled with it, the task id comes from the environment
 * (`RIFFLE_TASK`), and all the work is the core TaskRunner's.
 */

import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { Job } from "../../core/api/environment.ts";
import { buildGraph } from "../../core/api/environment.ts";
import { failedReason, failJob, partitionFailure } from "../../core/checkpoint/job-failure.ts";
import { wakeIfSleeping } from "../../core/checkpoint/sleep.ts";
import type { Envelope } from "../../core/envelope.ts";
import { describeCause, failsJob, RiffleError } from "../../core/errors.ts";
import type { JobGraph } from "../../core/graph/graph.ts";
import type { Plan } from "../../core/graph/plan.ts";
import { planJob, taskById } from "../../core/graph/planner.ts";
import { rescaledPlan } from "../../core/graph/rescale.ts";
import type { CheckpointStore } from "../../core/ports/checkpoint-store.ts";
import type { Clock } from "../../core/ports/clock.ts";
import type { CoordinatorWaker } from "../../core/ports/coordinator-waker.ts";
import type { IngestLog } from "../../core/ports/ingest-log.ts";
import type { Queue } from "../../core/ports/queue.ts";
import type { StateStore } from "../../core/ports/state-store.ts";
import type { TimerHints } from "../../core/ports/timer-hints.ts";
import { type InboundMessage, TaskRunner } from "../../core/runtime/task-runner.ts";
import { decodeEnvelope } from "../aws/sqs-queue.ts";
import type { LogFields, Telemetry } from "../aws/telemetry.ts";

/** Receives a log line and its structured fields (partition, generation, …). */
type Log = (line: string, fields?: LogFields) => void;

/** What the groups of one invocation did, summed. */
interface GroupCounts {
  recordsIn: number;
  recordsOut: number;
  segments: number;
  deadLetters: number;
}

/** The ports a task Lambda talks to. */
export interface TaskPorts {
  readonly state: StateStore;
  readonly checkpoints: CheckpointStore;
  readonly queue: Queue;
  readonly clock: Clock;
  readonly ingest?: IngestLog;
  /** Where each partition records its next processing-time timer, for the coordinator's ticks. */
  readonly timers?: TimerHints;
}

/** Options of {@link createTaskHandler}. */
export interface TaskHandlerOptions {
  readonly job: Job;
  /** The task this function runs (default: env `RIFFLE_TASK`). */
  readonly task?: string;
  /** Default parallelism, as the job was deployed (default: env `RIFFLE_PARALLELISM`, else the job's). */
  readonly parallelism?: number;
  readonly ports: TaskPorts;
  /**
   * Errors the container does not survive (default: none). When a group fails
   * with one, the invocation ends as a dead container's would: the warm runners
   * are dropped and, once every group is done, the error is rethrown, so nothing
   * of the batch is deleted. Tests pass the faults they inject into the ports.
   */
  readonly fatal?: (error: unknown) => boolean;
  /**
   * Wakes the job's sleeping coordinator (scale to zero): after an invocation that
   * committed a segment, the handler reads the job record again and, if the
   * coordinator sleeps, starts it. Without one, nothing is woken.
   */
  readonly waker?: CoordinatorWaker;
  /**
   * Receives one line per failed group, with its partition and generation (default:
   * the telemetry's structured logger, else `console.error`).
   */
  readonly log?: Log;
  /** Structured logs and EMF metrics (one line per invocation); the deployed function passes Powertools'. */
  readonly telemetry?: Telemetry;
  /** Called after each invocation. */
  readonly onInvoke?: (info: { records: number; failed: number; durationMs: number }) => void;
}

/** Builds the task Lambda's handler (a middy handler). */
export function createTaskHandler(options: TaskHandlerOptions) {
  const graph: JobGraph = buildGraph(options.job, parallelismOf(options.parallelism));
  const deployed: Plan = planJob(graph);
  const taskId = options.task ?? process.env.RIFFLE_TASK;
  if (!taskId) throw new RiffleError("config", "RIFFLE_TASK is not set: which task does this function run?");
  // The plan of the running generation: the deployed one at the job record's parallelism (autoscaling).
  let plan: Plan = deployed;
  let task = taskById(plan, taskId);
  const log: Log = options.log ?? options.telemetry?.error ?? ((line: string) => console.error(line));
  const ports = options.ports;
  let generation = 0;
  let runners = new Map<number, TaskRunner>();

  const runner = (partition: number): TaskRunner => {
    let r = runners.get(partition);
    if (!r) {
      r = new TaskRunner({
        plan,
        graph,
        task: task.id,
        partition,
        queue: ports.queue,
        store: ports.state,
        clock: ports.clock,
        generation,
        checkpoints: ports.checkpoints,
        ...(ports.ingest ? { ingest: ports.ingest } : {}),
        ...(ports.timers ? { timers: ports.timers } : {}),
      });
      runners.set(partition, r);
    }
    return r;
  };

  const handle = async (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> => {
    const t0 = performance.now();
    const record = await currentRecord(ports, plan.job);
    if (record.failed) {
      // Nothing of a failed job commits again: a resume starts a new generation, which drops these envelopes.
      log(`${taskId}: dropped ${event.Records.length} messages of a failed job`);
      return { batchItemFailures: [] };
    }
    if (record.generation !== generation) {
      generation = record.generation;
      runners = new Map();
      plan = rescaledPlan(deployed, record.parallelism);
      task = taskById(plan, taskId);
    }
    const failures: { itemIdentifier: string }[] = [];
    let died: { error: unknown } | undefined;
    let mistake: { partition: number; error: unknown } | undefined;
    let committed = false;
    const counts: GroupCounts = { recordsIn: 0, recordsOut: 0, segments: 0, deadLetters: 0 };
    const groups = byGroup(event.Records);
    await Promise.all(
      [...groups].map(async ([partition, records]) => {
        const { failedFrom, error, segment } = await runGroup(
          runner,
          partition,
          records,
          { task: task.id, parallelism: task.parallelism, generation, counts },
          log,
        );
        if (segment) committed = true;
        for (const r of records.slice(failedFrom)) failures.push({ itemIdentifier: r.messageId });
        if (error !== undefined && options.fatal?.(error)) died ??= { error };
        if (failsJob(error)) mistake ??= { partition, error };
      }),
    );
    // A mistake in the job's code: the job fails at once (the coordinator's next round ends in JobFailed).
    if (mistake)
      await failOnMistake(
        ports,
        plan.job,
        partitionFailure(task.id, mistake.partition, mistake.error),
        options.waker,
        log,
      );
    const durationMs = performance.now() - t0;
    options.onInvoke?.({ records: event.Records.length, failed: failures.length, durationMs });
    options.telemetry?.taskInvocation({
      messages: event.Records.length,
      failed: failures.length,
      durationMs,
      ...counts,
    });
    if (died) {
      runners = new Map(); // the container died: nothing in memory survives
      throw died.error;
    }
    // Commit, then read the record: a coordinator that fell asleep meanwhile is woken (sleep.ts).
    if (committed && options.waker) await wakeIfSleeping(ports.checkpoints, plan.job, options.waker);
    return { batchItemFailures: failures };
  };
  return middy<SQSEvent, SQSBatchResponse>().handler(handle);
}

/**
 * Fails the job for a mistake in its code ({@link failJob}: the restore step's reason
 * and write), logs it in one line, and wakes a sleeping coordinator, so its next
 * round ends the execution in JobFailed. The batch's failed items stay failed: their
 * next receive finds the job failed and drops them.
 */
async function failOnMistake(
  ports: TaskPorts,
  job: string,
  why: string,
  waker: CoordinatorWaker | undefined,
  log: Log,
): Promise<void> {
  const reason = failedReason(job, why);
  await failJob(ports.checkpoints, job, reason); // a job another partition failed first keeps its reason
  log(reason);
  if (waker) await wakeIfSleeping(ports.checkpoints, job, waker);
}

/** How long an invocation waits for a restore in progress before it gives up (and SQS redelivers). */
const RESTORE_WAIT_MS = 20_000;

/** The job record, once no restore is rewriting the logs. */
async function currentRecord(ports: TaskPorts, job: string) {
  const deadline = ports.clock.now() + RESTORE_WAIT_MS;
  for (;;) {
    const record = await ports.checkpoints.loadJob(job);
    if (!record) throw new RiffleError("job-not-started", `job '${job}' has no record yet`, { retryable: true });
    if (!record.restoring) return record;
    if (ports.clock.now() > deadline) {
      throw new RiffleError("job-restoring", `job '${job}' is restoring generation ${record.generation}`, {
        retryable: true,
      });
    }
    await ports.clock.sleep(50);
  }
}

/** Runs one group's records: the index of the first failed record (records.length: none), and why it failed. */
async function runGroup(
  runner: (partition: number) => TaskRunner,
  partition: number,
  records: readonly SQSRecord[],
  at: { readonly task: string; readonly parallelism: number; readonly generation: number; counts: GroupCounts },
  log: Log,
): Promise<{ failedFrom: number; error?: unknown; segment?: true }> {
  const { task, parallelism } = at;
  const where = { partition, generation: at.generation };
  if (Number.isInteger(partition) && partition >= parallelism && olderGeneration(records, task, at.generation)) {
    return { failedFrom: records.length }; // a partition a rescale removed: its leftovers are void
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= parallelism) {
    log(`${task}: message group '${partition}' is not a partition (parallelism ${parallelism})`, where);
    return { failedFrom: 0 };
  }
  const inbound: InboundMessage[] = [];
  for (const r of records) {
    let body: Envelope;
    try {
      body = decodeEnvelope(r.body, task);
    } catch (e) {
      log(`${task}[${partition}]: ${describeCause(e)}`, where);
      break; // a malformed message fails from here on; after maxReceiveCount SQS moves it to the DLQ
    }
    inbound.push({ body, receiveCount: Number(r.attributes.ApproximateReceiveCount ?? 1) });
  }
  if (inbound.length === 0) return { failedFrom: 0 };
  const r = runner(partition);
  const before = { ...r.stats };
  const result = await r.handle(inbound);
  at.counts.recordsIn += r.stats.recordsIn - before.recordsIn;
  at.counts.recordsOut += r.stats.recordsOut - before.recordsOut;
  at.counts.segments += r.stats.segments - before.segments;
  at.counts.deadLetters += r.stats.deadLetters - before.deadLetters;
  if (result.failedFrom !== undefined && !failsJob(result.error)) {
    log(
      `${task}[${partition}] failed from message ${result.failedFrom} of ${inbound.length}: ${describeCause(result.error)}`,
      { ...where, ...(result.segment ? { segment: result.segment.n } : {}) },
    );
  }
  const failedFrom = Math.min(result.failedFrom ?? inbound.length, inbound.length);
  return {
    failedFrom,
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.segment ? { segment: true } : {}),
  };
}

/** True when every record is an envelope of a generation before `generation` (one that fails to decode is not). */
function olderGeneration(records: readonly SQSRecord[], task: string, generation: number): boolean {
  try {
    return records.every((r) => decodeEnvelope(r.body, task).gen < generation);
  } catch {
    return false;
  }
}

/** Records by message group (partition), in order. */
function byGroup(records: readonly SQSRecord[]): Map<number, SQSRecord[]> {
  const groups = new Map<number, SQSRecord[]>();
  for (const r of records) {
    const g = Number(r.attributes.MessageGroupId);
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  return groups;
}

function parallelismOf(explicit: number | undefined): { parallelism?: number } {
  const p = explicit ?? (process.env.RIFFLE_PARALLELISM ? Number(process.env.RIFFLE_PARALLELISM) : undefined);
  return p === undefined ? {} : { parallelism: p };
}
