/**
 * The `Queue` port: one FIFO queue per task, one message group per partition, with
 * the semantics of SQS FIFO under a Lambda event source mapping: order within a
 * group, one in-flight batch per group, a visibility timeout, redelivery, and a
 * dead-letter queue after `maxReceiveCount` receives.
 */

import type { Envelope, OutboxEntry } from "../envelope.ts";

/** A received message. */
export interface ReceivedMessage {
  /** Handle for ack/nack. */
  readonly receipt: string;
  /** Message group (the partition). */
  readonly group: number;
  readonly body: Envelope;
  /** How many times this message has been received, this time included. */
  readonly receiveCount: number;
}

/** A message moved to a task's dead-letter queue after too many receives. */
export interface QueueDeadLetter {
  readonly task: string;
  readonly group: number;
  readonly body: Envelope;
  readonly receiveCount: number;
  /** The last failure reported for it. */
  readonly error: string;
}

/** Sender and receiver side of the task queues. */
export interface Queue {
  /** Sends envelopes; order is kept per destination (task, partition). */
  send(entries: readonly OutboxEntry[]): Promise<void>;
  /**
   * Receives up to `max` messages of `task`'s queue, in order within each group; a
   * batch may span groups (as an SQS receive does). Nothing from a group that has a
   * batch in flight. Callers split the batch by group: one TaskRunner per partition.
   */
  receive(task: string, max: number): Promise<ReceivedMessage[]>;
  /** Deletes processed messages. */
  ack(task: string, receipts: readonly string[]): Promise<void>;
  /** Returns failed messages to the queue, visible again after `delayMs`, with `error` noted for the DLQ. */
  nack(task: string, receipts: readonly string[], delayMs: number, error: string): Promise<void>;
  /**
   * The bodies of up to `max` messages of `task`'s `group` that the next receive of
   * the group would take, after its batch in flight; nothing is received. A hint for
   * work that may start early (see `TaskRunnerOptions.lookAhead`): a queue that cannot
   * tell leaves it out.
   */
  peek?(task: string, group: number, max: number): readonly Envelope[];
}
