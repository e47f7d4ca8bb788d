/**
 * Fault injection for exactly-once tests, kept out of the production code: port
 * decorators that throw {@link InjectedCrash} at a chosen point. A crash is an
 * exception there, after which the test (or, on the AWS runtime, the task
 * handler told so by its `fatal` option) discards the runner's memory as a dead
 * container would.
 */

import type { OutboxEntry } from "../../core/envelope.ts";
import { RiffleError } from "../../core/errors.ts";
import type { InMemoryQueue } from "../../core/memory/in-memory-queue.ts";
import type { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import type { BlobStore } from "../../core/ports/blob-store.ts";
import type { Queue, ReceivedMessage } from "../../core/ports/queue.ts";
import type {
  PartitionBase,
  PayloadsWanted,
  Segment,
  SegmentsRead,
  StateChange,
  StateRef,
  StateStore,
} from "../../core/ports/state-store.ts";
import type { TaskPorts } from "../../functions/handlers/task.ts";

/** Thrown by an injected fault: the container "died" at that point. */
export class InjectedCrash extends RiffleError {
  constructor(where: string) {
    super("injected-crash", `injected crash ${where}`, { retryable: true });
  }
}

/**
 * Where a test can kill an invocation: before the segment commit, between the
 * commit and the send of its outbox, and after the send (before the queue deletes
 * the batch). riffle sends only after it commits, so "after send" is also "before
 * the next commit".
 */
export type CrashPoint = "before-commit" | "after-commit" | "after-send";

/** Decides, each time a crash point is reached, whether to crash there. */
export type CrashPolicy = (point: CrashPoint) => boolean;

/**
 * A policy that crashes at the 2nd, 7th, 12th… call of each crash point (every fifth), and the
 * crashes it made per point, which a test checks to know that every point was hit.
 */
export function everyFifthCall(): { readonly policy: CrashPolicy; readonly crashes: Record<string, number> } {
  const calls: Record<string, number> = {};
  const crashes: Record<string, number> = {};
  const policy: CrashPolicy = (point) => {
    calls[point] = (calls[point] ?? 0) + 1;
    const crash = calls[point] % 5 === 2;
    if (crash) crashes[point] = (crashes[point] ?? 0) + 1;
    return crash;
  };
  return { policy, crashes };
}

/** The task ports with {@link CrashingStore} and {@link CrashingQueue} around the state store and the queue. */
export function withCrashes(ports: TaskPorts, crashAt: CrashPolicy): TaskPorts {
  return { ...ports, state: new CrashingStore(ports.state, crashAt), queue: new CrashingQueue(ports.queue, crashAt) };
}

/** Any queue, crashing right after a send succeeded when its policy says so. */
export class CrashingQueue implements Queue {
  readonly inner: Queue;
  private readonly crashAt: CrashPolicy;

  constructor(inner: Queue, crashAt: CrashPolicy) {
    this.inner = inner;
    this.crashAt = crashAt;
  }

  async send(entries: readonly OutboxEntry[]): Promise<void> {
    await this.inner.send(entries);
    if (this.crashAt("after-send")) throw new InjectedCrash("after send, before delete");
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

/** Any state store, crashing just before or just after a segment append when its policy says so. */
export class CrashingStore<S extends StateStore = StateStore> implements StateStore {
  readonly inner: S;
  private readonly crashAt: CrashPolicy;

  constructor(inner: S, crashAt: CrashPolicy = () => false) {
    this.inner = inner;
    this.crashAt = crashAt;
    const readLog = inner.readLog?.bind(inner);
    if (readLog) this.readLog = readLog;
    const seal = inner.seal?.bind(inner);
    if (seal) this.seal = seal;
  }

  /** Present when the wrapped store has it (a subclass may wrap it with crash points). */
  seal?: (task: string, partition: number, through: number) => Promise<number>;

  /** Whether to crash at `point` (the policy; subclasses arm their own). */
  protected crashes(point: CrashPoint): boolean {
    return this.crashAt(point);
  }

  async append(task: string, partition: number, segment: Segment): Promise<number> {
    if (this.crashes("before-commit")) throw new InjectedCrash("before commit");
    const bytes = await this.inner.append(task, partition, segment);
    if (this.crashes("after-commit")) throw new InjectedCrash("after commit, before send");
    return bytes;
  }
  readSegments(task: string, partition: number, after: number, payloads?: PayloadsWanted): Promise<Segment[]> {
    return this.inner.readSegments(task, partition, after, payloads);
  }
  /** Present when the wrapped store has it. */
  readonly readLog?: (
    task: string,
    partition: number,
    after: number,
    payloads?: PayloadsWanted,
  ) => Promise<SegmentsRead>;
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
  dropLogs(task: string): Promise<void> {
    return this.inner.dropLogs(task);
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

/**
 * An in-memory store with one-shot faults: arm a crash just before or just after the
 * next segment append, or just before or just after the next partition's seal (the
 * coordinator then dies with the other partitions of the job unsealed or mid-seal).
 */
export class FaultyStore<S extends StateStore = InMemoryStateStore> extends CrashingStore<S> {
  crashBeforeAppend = false;
  crashAfterAppend = false;
  crashBeforeSeal = false;
  crashAfterSeal = false;

  constructor(inner: S, crashAt?: CrashPolicy) {
    super(inner, crashAt);
    const seal = this.seal;
    if (!seal) return;
    this.seal = async (task, partition, through) => {
      if (this.crashBeforeSeal) {
        this.crashBeforeSeal = false;
        throw new InjectedCrash(`before the seal of ${task}[${partition}]`);
      }
      const upTo = await seal(task, partition, through);
      if (this.crashAfterSeal) {
        this.crashAfterSeal = false;
        throw new InjectedCrash(`after the seal of ${task}[${partition}], before the others'`);
      }
      return upTo;
    };
  }

  /** Clears every armed fault. */
  disarm(): void {
    this.crashBeforeAppend = false;
    this.crashAfterAppend = false;
    this.crashBeforeSeal = false;
    this.crashAfterSeal = false;
  }

  protected override crashes(point: CrashPoint): boolean {
    if (point === "before-commit" && this.crashBeforeAppend) {
      this.crashBeforeAppend = false;
      return true;
    }
    if (point === "after-commit" && this.crashAfterAppend) {
      this.crashAfterAppend = false;
      return true;
    }
    return false;
  }
}

/**
 * A blob store (segment payloads, core/log/payload.ts) with one-shot faults: the
 * next PUT fails; the next PUT succeeds and then the container dies (the object
 * stays, an orphan no segment names); GETs wait for `pause` first (a slow reader,
 * which other partitions and zombies overtake).
 */
export class FaultyBlobStore implements BlobStore {
  readonly inner: BlobStore;
  failPut = false;
  crashAfterPut = false;
  slowGets = false;
  private readonly pause: () => Promise<void>;

  constructor(inner: BlobStore, pause: () => Promise<void>) {
    this.inner = inner;
    this.pause = pause;
  }

  /** Clears every armed fault. */
  disarm(): void {
    this.failPut = false;
    this.crashAfterPut = false;
    this.slowGets = false;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (this.failPut) {
      this.failPut = false;
      throw new RiffleError("s3-call", `injected failure of the PUT of ${key}`, { retryable: true });
    }
    await this.inner.put(key, bytes);
    if (this.crashAfterPut) {
      this.crashAfterPut = false;
      throw new InjectedCrash("after the payload PUT, before the append");
    }
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    if (this.slowGets) await this.pause();
    return this.inner.get(key);
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.inner.delete(keys);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
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
