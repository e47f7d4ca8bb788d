/**
 * A local emulation of Lambda's SQS event source mapping (FIFO queue,
 * `ReportBatchItemFailures`): polls a queue, invokes a real Lambda handler with real
 * `SQSEvent`s and deletes or leaves the messages as Lambda would.
 *
 * - One poller long-polls (`WaitTimeSeconds`) for up to `batchSize` messages whenever
 *   an invocation slot is free, and hands them to at most `concurrency` concurrent
 *   invocations. A batch may span message groups; within a group it keeps queue order.
 * - It never runs two batches of one message group at once, whatever the queue does:
 *   a message received while its group has a batch in flight (a redelivery after the
 *   visibility timeout) waits here until that batch has settled.
 * - Results are read by {@link evaluateResponse}: unlisted records are deleted; failed
 *   ones stay in flight until the queue's visibility timeout ends (as on AWS), or
 *   `retryDelayMs` later. After `maxReceiveCount` receipts the queue's RedrivePolicy
 *   moves a message to its DLQ (see {@link ../aws/sqs-admin.ts}).
 */

import { type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { describeCause, RiffleError } from "../../core/errors.ts";
import { type EventSourceMapping, type EventSourceMappingOptions, int } from "./esm-options.ts";
import {
  type BatchOutcome,
  evaluateResponse,
  lambdaContext,
  type QueueIdentity,
  queueIdentity,
  RECORD_ATTRIBUTES,
  toSqsRecord,
} from "./esm-records.ts";
import { changeVisibility, type Settler, settleBatch } from "./esm-settle.ts";

export type {
  EventSourceMapping,
  EventSourceMappingOptions,
  EventSourceMappingStats,
  InvocationInfo,
  SqsEventHandler,
} from "./esm-options.ts";

interface Pending {
  readonly record: SQSRecord;
  readonly group: string;
}

/**
 * Starts polling `options.queueUrl` and invoking `options.handler`.
 * @throws RiffleError (reason `esm-config`) on an out-of-range option.
 */
export function startEventSourceMapping(options: EventSourceMappingOptions): EventSourceMapping {
  const poller = new Poller(options);
  return {
    stop: () => poller.stop(),
    stats: () => ({ ...poller.counters, maximumConcurrency: poller.concurrency, peakInFlight: poller.peakInFlight }),
    setMaximumConcurrency: (n) => poller.setConcurrency(n),
  };
}

class Poller {
  readonly counters = { invocations: 0, records: 0, failedRecords: 0, errors: 0, sqsErrors: 0 };
  private readonly options: EventSourceMappingOptions;
  private readonly queue: QueueIdentity;
  private readonly batchSize: number;
  /** Concurrent invocations allowed now. */
  concurrency: number;
  /** Most invocations in flight at once since `concurrency` was last set. */
  peakInFlight = 0;
  private readonly waitTimeSeconds: number;
  private readonly log: (line: string) => void;
  private readonly name: string;
  private readonly settler: Settler;
  /** Received, not yet delivered: groups with a batch in flight wait here, in order. */
  private backlog: Pending[] = [];
  private readonly busy = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly loopDone: Promise<void>;

  constructor(options: EventSourceMappingOptions) {
    this.options = options;
    this.batchSize = int("batchSize", options.batchSize ?? 10, 1, 10);
    this.concurrency = int("concurrency", options.concurrency ?? 4, 1, 1000);
    this.waitTimeSeconds = int("waitTimeSeconds", options.waitTimeSeconds ?? 1, 0, 20);
    int("pollIntervalMs", options.pollIntervalMs ?? 50, 0, 60_000);
    if (options.retryDelayMs !== undefined) int("retryDelayMs", Math.ceil(options.retryDelayMs), 0, 43_200_000);
    this.queue = queueIdentity(options.queueUrl, options.queueArn);
    this.name = options.functionName ?? "local-function";
    this.log = options.log ?? (() => {});
    this.settler = {
      client: options.client,
      queueUrl: options.queueUrl,
      name: this.name,
      log: this.log,
      sqsError: () => this.counters.sqsErrors++,
    };
    this.loopDone = this.loop();
  }

  setConcurrency(n: number): void {
    this.concurrency = int("maximumConcurrency", n, 1, 1000);
    this.peakInFlight = this.inflight.size;
    this.dispatch();
    this.wake();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.wake();
      await this.loopDone;
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      const rest = this.backlog.splice(0).map((p) => p.record);
      if (rest.length > 0) await changeVisibility(this.settler, rest, 0, "release");
    })();
    return this.stopped;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      if (this.inflight.size >= this.concurrency || this.backlog.length >= 10 * this.concurrency) {
        await this.sleep(Number.POSITIVE_INFINITY);
        continue;
      }
      let messages: Message[];
      try {
        const out = await this.options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: this.batchSize,
            WaitTimeSeconds: this.waitTimeSeconds,
            MessageSystemAttributeNames: [...RECORD_ATTRIBUTES],
            MessageAttributeNames: ["All"],
          }),
        );
        messages = out.Messages ?? [];
        failures = 0;
      } catch (cause) {
        this.counters.sqsErrors++;
        failures++;
        this.log(
          `${this.name}: receive from ${this.queue.name} failed (${failures} in a row): ${describeCause(cause)}`,
        );
        await this.sleep(Math.min(5000, Math.max(this.options.pollIntervalMs ?? 50, 100) * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (messages.length === 0) {
        if (this.waitTimeSeconds === 0) await this.sleep(this.options.pollIntervalMs ?? 50);
        continue;
      }
      this.accept(messages);
      this.dispatch();
    }
  }

  /** Adds received messages to the backlog; a message already there keeps its place and takes the newer receipt. */
  private accept(messages: readonly Message[]): void {
    for (const m of messages) {
      let record: SQSRecord;
      try {
        record = toSqsRecord(m, this.queue);
      } catch (cause) {
        this.counters.sqsErrors++;
        this.log(
          `${this.name}: dropped a malformed receive (it returns after the visibility timeout): ${describeCause(cause)}`,
        );
        continue;
      }
      const group = record.attributes.MessageGroupId ?? `\u0000${record.messageId}`;
      if (this.busy.has(group)) {
        this.log(
          `${this.name}: holding message ${record.messageId} of group '${group}': the group has a batch in flight`,
        );
      }
      const at = this.backlog.findIndex((p) => p.record.messageId === record.messageId);
      if (at >= 0) this.backlog[at] = { record, group };
      else this.backlog.push({ record, group });
    }
  }

  /** Starts invocations while slots are free, each with a batch of groups not in flight. */
  private dispatch(): void {
    while (!this.stopping && this.inflight.size < this.concurrency) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      const groups = new Set(batch.map((p) => p.group));
      for (const g of groups) this.busy.add(g);
      const run: Promise<void> = this.invoke(batch.map((p) => p.record))
        .catch((cause) => this.log(`${this.name}: internal error settling a batch: ${describeCause(cause)}`))
        .finally(() => {
          this.inflight.delete(run);
          for (const g of groups) this.busy.delete(g);
          this.dispatch();
          this.wake();
        });
      this.inflight.add(run);
      this.peakInFlight = Math.max(this.peakInFlight, this.inflight.size);
    }
  }

  /** Up to `batchSize` backlog entries whose groups are free; a group's entries are taken in order, never skipping one. */
  private takeBatch(): Pending[] {
    const taken: Pending[] = [];
    const rest: Pending[] = [];
    const blocked = new Set(this.busy);
    for (const p of this.backlog) {
      if (taken.length < this.batchSize && !blocked.has(p.group)) taken.push(p);
      else {
        rest.push(p);
        blocked.add(p.group);
      }
    }
    this.backlog = rest;
    return taken;
  }

  private async invoke(records: SQSRecord[]): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    const context = lambdaContext(this.name, this.queue, timeoutMs);
    const started = performance.now();
    // Not enforced (the handler shares this process), but said: AWS would have ended it, and a
    // group whose batch never settles holds every later message of the group.
    const overdue = setTimeout(
      () =>
        this.log(
          `${this.name}: an invocation of ${records.length} records (groups ${groupsOf(records)}) has run ${timeoutMs} ms, past the function's timeout; its groups stay held until it settles`,
        ),
      timeoutMs,
    );
    overdue.unref();
    let outcome: BatchOutcome;
    let error: unknown;
    try {
      outcome = evaluateResponse(records, await this.options.handler({ Records: records }, context));
      if (outcome.invalid !== undefined) {
        error = new RiffleError(
          "esm-invalid-response",
          `${this.name}: ${outcome.invalid}; all ${records.length} records are retried`,
        );
      }
    } catch (cause) {
      error = cause;
      outcome = { failed: new Set(records.map((r) => r.messageId)), implied: [] };
    }
    clearTimeout(overdue);
    const durationMs = performance.now() - started;
    this.counters.invocations++;
    this.counters.records += records.length;
    this.counters.failedRecords += outcome.failed.size;
    if (error !== undefined) {
      this.counters.errors++;
      this.log(`${this.name}: invocation of ${records.length} records failed as a whole: ${describeCause(error)}`);
    } else if (outcome.failed.size > 0) {
      const implied =
        outcome.implied.length > 0
          ? ` (${outcome.implied.length} by the FIFO rule: ${outcome.implied.join(", ")})`
          : "";
      this.log(`${this.name}: ${outcome.failed.size} of ${records.length} records failed${implied}`);
    }
    await this.settle(records, outcome.failed);
    try {
      this.options.onInvoke?.({
        records: records.length,
        durationMs,
        failed: outcome.failed.size,
        ...(error !== undefined ? { error } : {}),
      });
    } catch (cause) {
      this.log(`${this.name}: onInvoke threw: ${describeCause(cause)}`);
    }
  }

  /** Deletes the records that did not fail; with `retryDelayMs`, shortens the failed ones' invisibility. */
  private async settle(records: readonly SQSRecord[], failed: ReadonlySet<string>): Promise<void> {
    await settleBatch(this.settler, records, failed, this.options.retryDelayMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => this.wake(), ms) : undefined;
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
      if (this.stopping) this.wake();
    });
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }
}

/** The message groups of `records`, for a log line. */
function groupsOf(records: readonly SQSRecord[]): string {
  return [...new Set(records.map((r) => r.attributes.MessageGroupId ?? "-"))].join(", ");
}
