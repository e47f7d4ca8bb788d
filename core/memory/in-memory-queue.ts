/**
 * In-memory FIFO task queues with SQS FIFO semantics: per-group order, one
 * in-flight batch per group, visibility timeout and redelivery, and a dead-letter
 * queue after `maxReceiveCount` receives.
 */

import type { Envelope, OutboxEntry } from "../envelope.ts";
import type { Clock } from "../ports/clock.ts";
import type { Queue, QueueDeadLetter, ReceivedMessage } from "../ports/queue.ts";

interface Message {
  readonly id: number;
  readonly body: Envelope;
  receiveCount: number;
  /** Not deliverable before this time. */
  visibleAt: number;
  /** Receipt of the current in-flight delivery, if any. */
  receipt: string | undefined;
  lastError: string;
}

interface TaskQueue {
  readonly groups: Map<number, Message[]>;
  readonly deadLetters: QueueDeadLetter[];
  /** Round-robin cursor over groups. */
  cursor: number;
}

/** Options of {@link InMemoryQueue}. */
export interface InMemoryQueueOptions {
  /** How long a received batch stays invisible before it is redelivered. */
  readonly visibilityTimeoutMs?: number;
  /** Receives after which a message moves to the dead-letter queue. */
  readonly maxReceiveCount?: number;
  /** Let one receive take messages of several groups (as SQS may); default: one group per receive. */
  readonly spanGroups?: boolean;
}

/** The in-memory implementation of the {@link Queue} port. */
export class InMemoryQueue implements Queue {
  private readonly tasks = new Map<string, TaskQueue>();
  private readonly clock: Clock;
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  private readonly spanGroups: boolean;
  private nextId = 1;
  /** Messages sent, for accounting. */
  sent = 0;

  constructor(clock: Clock, options: InMemoryQueueOptions = {}) {
    this.clock = clock;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = options.maxReceiveCount ?? 10;
    this.spanGroups = options.spanGroups ?? false;
  }

  private queue(task: string): TaskQueue {
    let q = this.tasks.get(task);
    if (!q) {
      q = { groups: new Map(), deadLetters: [], cursor: 0 };
      this.tasks.set(task, q);
    }
    return q;
  }

  async send(entries: readonly OutboxEntry[]): Promise<void> {
    for (const { to, envelope } of entries) {
      const q = this.queue(to.task);
      let g = q.groups.get(to.partition);
      if (!g) {
        g = [];
        q.groups.set(to.partition, g);
      }
      g.push({ id: this.nextId++, body: envelope, receiveCount: 0, visibleAt: 0, receipt: undefined, lastError: "" });
      this.sent++;
    }
  }

  async receive(task: string, max: number): Promise<ReceivedMessage[]> {
    const q = this.tasks.get(task);
    if (!q || q.groups.size === 0) return [];
    const now = this.clock.now();
    const groups = [...q.groups.keys()];
    const out: ReceivedMessage[] = [];
    const start = q.cursor;
    for (let i = 0; i < groups.length && out.length < max; i++) {
      const group = groups[(start + i) % groups.length] as number;
      const msgs = q.groups.get(group);
      if (!msgs) continue;
      const got = this.take(task, q, group, msgs, max - out.length, now);
      if (got.length === 0) continue;
      for (const m of got) out.push(m);
      q.cursor = (start + i + 1) % groups.length;
      if (!this.spanGroups) break;
    }
    return out;
  }

  peek(task: string, group: number, max: number): Envelope[] {
    const msgs = this.tasks.get(task)?.groups.get(group);
    if (!msgs) return [];
    const now = this.clock.now();
    const out: Envelope[] = [];
    for (const m of msgs) {
      if (out.length >= max || m.receiveCount >= this.maxReceiveCount) break;
      if (m.receipt !== undefined && m.visibleAt > now) {
        if (out.length > 0) break; // in flight after visible ones: not next in line
        continue; // the batch in flight
      }
      if (m.visibleAt > now) break; // FIFO: a delayed head blocks the group
      out.push(m.body);
    }
    return out;
  }

  private take(
    task: string,
    q: TaskQueue,
    group: number,
    msgs: Message[],
    max: number,
    now: number,
  ): ReceivedMessage[] {
    // Expire in-flight deliveries whose visibility timeout has passed.
    for (const m of msgs) if (m.receipt !== undefined && m.visibleAt <= now) m.receipt = undefined;
    if (msgs.some((m) => m.receipt !== undefined)) return []; // one in-flight batch per group
    const out: ReceivedMessage[] = [];
    while (out.length < max && msgs.length > out.length) {
      const m = msgs[out.length] as Message;
      if (m.visibleAt > now) break; // FIFO: a delayed head blocks the group
      if (m.receiveCount >= this.maxReceiveCount) {
        msgs.splice(out.length, 1);
        q.deadLetters.push({ task, group, body: m.body, receiveCount: m.receiveCount, error: m.lastError });
        continue;
      }
      m.receiveCount++;
      m.receipt = `${m.id}.${m.receiveCount}`;
      m.visibleAt = now + this.visibilityTimeoutMs;
      out.push({ receipt: m.receipt, group, body: m.body, receiveCount: m.receiveCount });
    }
    if (msgs.length === 0) q.groups.delete(group);
    return out;
  }

  async ack(task: string, receipts: readonly string[]): Promise<void> {
    this.settle(task, receipts, (msgs, i) => msgs.splice(i, 1));
  }

  async nack(task: string, receipts: readonly string[], delayMs: number, error: string): Promise<void> {
    const at = this.clock.now() + delayMs;
    this.settle(task, receipts, (msgs, i) => {
      const m = msgs[i] as Message;
      m.receipt = undefined;
      m.visibleAt = at;
      m.lastError = error;
    });
  }

  /** Applies `fn` to each message whose current receipt is in `receipts`; stale receipts are ignored. */
  private settle(task: string, receipts: readonly string[], fn: (msgs: Message[], index: number) => void): void {
    const q = this.tasks.get(task);
    if (!q) return;
    const wanted = new Set(receipts);
    for (const [group, msgs] of q.groups) {
      for (let i = msgs.length - 1; i >= 0; i--) {
        const r = (msgs[i] as Message).receipt;
        if (r !== undefined && wanted.has(r)) fn(msgs, i);
      }
      if (msgs.length === 0) q.groups.delete(group);
    }
  }

  /** Messages waiting (visible or not) for `task`, or for one partition (group) of it. */
  backlog(task: string, partition?: number): number {
    const groups = this.tasks.get(task)?.groups;
    if (partition !== undefined) return groups?.get(partition)?.length ?? 0;
    let n = 0;
    for (const msgs of groups?.values() ?? []) n += msgs.length;
    return n;
  }

  /** Total messages waiting in all task queues. */
  totalBacklog(): number {
    let n = 0;
    for (const task of this.tasks.keys()) n += this.backlog(task);
    return n;
  }

  /** Earliest time at which some waiting message becomes deliverable, or `undefined` when all queues are empty. */
  nextVisibleAt(): number | undefined {
    let t: number | undefined;
    for (const q of this.tasks.values()) {
      for (const msgs of q.groups.values()) {
        const head = msgs[0];
        if (head && (t === undefined || head.visibleAt < t)) t = head.visibleAt;
      }
    }
    return t;
  }

  /** Messages moved to `task`'s dead-letter queue. */
  deadLetters(task: string): readonly QueueDeadLetter[] {
    return this.tasks.get(task)?.deadLetters ?? [];
  }
}
