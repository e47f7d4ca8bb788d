/**
 * Fault-injecting wrappers around the in-memory ports, for exactly-once tests:
 * a crash is an exception at a chosen point, after which the test discards the
 * runner's memory (`runner.crash()`) as a dead container would.
 */

import type { OutboxEntry } from "../../core/envelope.ts";
import type { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import type { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import type { Queue, ReceivedMessage } from "../../core/ports/queue.ts";
import type { PartitionBase, Segment, StateChange, StateRef, StateStore } from "../../core/ports/state-store.ts";

/** Thrown by an injected fault. */
export class InjectedCrash extends Error {
  constructor(where: string) {
    super(`injected crash ${where}`);
  }
}

/** A queue that can fail or duplicate sends. */
export class FaultyQueue implements Queue {
  readonly inner: InMemoryQueue;
  /** Entries of the next send to let through before crashing; `undefined`: no fault. */
  crashSendAfter: number | undefined;
  /** Send every entry twice. */
  duplicate = false;

  constructor(inner: InMemoryQueue) {
    this.inner = inner;
  }

  /** Clears every armed fault. */
  disarm(): void {
    this.duplicate = false;
    this.crashSendAfter = undefined;
  }

  async send(entries: readonly OutboxEntry[]): Promise<void> {
    if (this.crashSendAfter !== undefined) {
      const n = this.crashSendAfter;
      this.crashSendAfter = undefined;
      await this.inner.send(entries.slice(0, n));
      throw new InjectedCrash(`after sending ${n} of ${entries.length} envelopes`);
    }
    await this.inner.send(entries);
    if (this.duplicate) await this.inner.send(entries);
  }
  receive(task: string, max: number): Promise<ReceivedMessage[]> {
    return this.inner.receive(task, max);
  }
  ack(task: string, receipts: readonly string[]): Promise<void> {
    return this.inner.ack(task, receipts);
  }
  nack(task: string, receipts: readonly string[], delayMs: number, error: string): Promise<void> {
    return this.inner.nack(task, receipts, delayMs, error);
  }
  nextVisibleAt(): number | undefined {
    return this.inner.nextVisibleAt();
  }
  backlog(task: string): number {
    return this.inner.backlog(task);
  }
  deadLetters(task: string) {
    return this.inner.deadLetters(task);
  }
}

/** A store that can crash just before or just after a segment append. */
export class FaultyStore implements StateStore {
  readonly inner: InMemoryStateStore;
  crashBeforeAppend = false;
  crashAfterAppend = false;

  constructor(inner: InMemoryStateStore) {
    this.inner = inner;
  }

  /** Clears every armed fault. */
  disarm(): void {
    this.crashBeforeAppend = false;
    this.crashAfterAppend = false;
  }

  async append(task: string, partition: number, segment: Segment): Promise<number> {
    if (this.crashBeforeAppend) {
      this.crashBeforeAppend = false;
      throw new InjectedCrash("before commit");
    }
    const bytes = await this.inner.append(task, partition, segment);
    if (this.crashAfterAppend) {
      this.crashAfterAppend = false;
      throw new InjectedCrash("after commit, before send");
    }
    return bytes;
  }
  readSegments(task: string, partition: number, after: number): Promise<Segment[]> {
    return this.inner.readSegments(task, partition, after);
  }
  readBase(task: string, partition: number): Promise<PartitionBase | undefined> {
    return this.inner.readBase(task, partition);
  }
  compact(task: string, partition: number, through: number): Promise<number> {
    return this.inner.compact(task, partition, through);
  }
  truncate(task: string, partition: number, through: number, generation: number): Promise<void> {
    return this.inner.truncate(task, partition, through, generation);
  }
  exportState(
    task: string,
    partition: number,
    through: number,
    kgStart: number,
    kgEnd: number,
  ): Promise<StateChange[]> {
    return this.inner.exportState(task, partition, through, kgStart, kgEnd);
  }
  resetTask(task: string): Promise<void> {
    return this.inner.resetTask(task);
  }
  putBase(task: string, partition: number, base: PartitionBase): Promise<void> {
    return this.inner.putBase(task, partition, base);
  }
  putState(task: string, values: readonly StateChange[]): Promise<void> {
    return this.inner.putState(task, values);
  }
  getState(task: string, refs: readonly StateRef[]): Promise<unknown[]> {
    return this.inner.getState(task, refs);
  }
  scanState(task: string, s: string, kgStart: number, kgEnd: number): Promise<[string, unknown][]> {
    return this.inner.scanState(task, s, kgStart, kgEnd);
  }
}

/** Every record committed to `sink` by `task`'s partitions, per partition in commit order. */
export async function committed(store: StateStore, task: string, partitions: number, sink: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let p = 0; p < partitions; p++) {
    for (const seg of await store.readSegments(task, p, 0)) out.push(...(seg.sink?.[sink] ?? []));
  }
  return out;
}
