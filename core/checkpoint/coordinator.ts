/**
 * The checkpoint coordinator: triggers checkpoints, turns partition acks into
 * completed manifests, aborts what times out, and says when the job must fail
 * over. Every collaborator comes in through the constructor; all durable state is
 * in the {@link CheckpointStore}, so the embedded runtime and the Step Functions
 * Lambdas can run these same steps.
 */

import { RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import {
  AbortReason,
  type CheckpointManifest,
  type CheckpointStore,
  type JobRecord,
  type PendingEntry,
} from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { CheckpointConfig } from "./config.ts";
import { decideTrigger } from "./decider.ts";
import {
  type AckResult,
  ackFinished,
  type DeferredRecord,
  livePending,
  monotonicCut,
  PendingCheckpoint,
} from "./pending.ts";

export { DeferredRecord, livePending, monotonicCut } from "./pending.ts";

/** Something the coordinator decided. */
export type CoordinatorEvent =
  | { readonly kind: "completed"; readonly manifest: CheckpointManifest }
  | { readonly kind: "aborted"; readonly id: number; readonly reason: AbortReason }
  | { readonly kind: "timeout"; readonly id: number }
  | { readonly kind: "failover"; readonly reason: string };

/** Collaborators and settings of a coordinator. */
export interface CoordinatorOptions {
  readonly plan: Plan;
  readonly store: CheckpointStore;
  readonly clock: Clock;
  readonly config: CheckpointConfig;
  /**
   * With one, a completion does not write the job record itself: it leaves the change
   * here, and the next {@link CheckpointCoordinator.trigger} writes it with its own
   * change (one record write per checkpoint), or {@link CheckpointCoordinator.flush}
   * does. Until then {@link CheckpointCoordinator.record} shows it.
   */
  readonly deferred?: DeferredRecord;
}

/** Counts of ack outcomes, for visibility. */
export type AckCounts = Record<AckResult, number>;

/** Coordinates the checkpoints of one job. */
export class CheckpointCoordinator {
  private readonly o: CoordinatorOptions;
  private readonly job: string;
  private readonly partitions: string[];
  private readonly pending = new Map<number, PendingCheckpoint>();
  private lastTriggerAt: number | undefined;
  private lastCompletedAt: number | undefined;
  /** Outcomes of every ack seen. */
  readonly ackCounts: AckCounts = { success: 0, duplicate: 0, unknown: 0, discarded: 0 };

  constructor(options: CoordinatorOptions) {
    this.o = options;
    this.job = options.plan.job;
    this.partitions = options.plan.tasks.flatMap((t) =>
      Array.from({ length: t.parallelism }, (_, p) => `${t.id}#${p}`),
    );
  }

  /** Parallelism of every task in the plan. */
  private parallelism(): Record<string, number> {
    return Object.fromEntries(this.o.plan.tasks.map((t) => [t.id, t.parallelism]));
  }

  /** Loads the job record, creating it (generation 1) for a new job. */
  async init(): Promise<JobRecord> {
    const existing = await this.o.store.loadJob(this.job);
    if (existing) return existing;
    const record: JobRecord = {
      job: this.job,
      generation: 1,
      nextCheckpoint: 1,
      lastCompleted: 0,
      parallelism: this.parallelism(),
      failures: 0,
    };
    if (!(await this.o.store.saveJob(record, undefined))) return (await this.o.store.loadJob(this.job)) as JobRecord;
    return record;
  }

  /** The current job record. */
  async record(): Promise<JobRecord> {
    const r = await this.o.store.loadJob(this.job);
    if (!r) throw new Error(`job '${this.job}' has no record: call init() first`);
    return this.o.deferred ? this.o.deferred.apply(r) : r;
  }

  /**
   * Writes what a completion deferred ({@link CoordinatorOptions.deferred}), once: when
   * another writer changed the record meanwhile, the completion is left to the next
   * poll, which finds the checkpoint in flight again and completes it again (the same
   * manifest; publishing is idempotent).
   */
  async flush(): Promise<void> {
    const deferred = this.o.deferred;
    if (!deferred?.change) return;
    const r = await this.o.store.loadJob(this.job);
    const change = deferred.change;
    deferred.change = undefined;
    if (r) await this.o.store.saveJob(change(r), { generation: r.generation, nextCheckpoint: r.nextCheckpoint });
  }

  /** Applies `change` to the record now (with anything deferred), once; false when another writer got there first. */
  private async write(change: (r: JobRecord) => JobRecord): Promise<boolean> {
    const job = await this.record();
    const saved = await this.o.store.saveJob(change(job), {
      generation: job.generation,
      nextCheckpoint: job.nextCheckpoint,
    });
    if (saved && this.o.deferred) this.o.deferred.change = undefined;
    return saved;
  }

  /**
   * Reloads the checkpoints of the current generation still pending in the store.
   * A stateless coordinator step (a Lambda) starts with an empty memory: this makes
   * its view the same as a long-lived coordinator's.
   */
  async resume(): Promise<void> {
    for (const e of livePending(await this.record())) {
      if (!this.pending.has(e.id)) this.pending.set(e.id, new PendingCheckpoint(e.id, e.at, this.partitions));
    }
  }

  /** The coordinator clock's time. */
  now(): number {
    return this.o.clock.now();
  }

  /** Trigger times of the checkpoints in flight, by id. */
  get pendingSince(): ReadonlyMap<number, number> {
    return new Map([...this.pending].map(([id, p]) => [id, p.triggeredAt]));
  }

  /** Ids of the checkpoints in flight, ascending. */
  get pendingIds(): number[] {
    return [...this.pending.keys()].sort((a, b) => a - b);
  }

  /** Triggers a checkpoint if the policy allows one now; returns its id. */
  async maybeTrigger(): Promise<number | undefined> {
    const now = this.o.clock.now();
    const d = decideTrigger(
      { pending: this.pending.size, lastTriggerAt: this.lastTriggerAt, lastCompletedAt: this.lastCompletedAt },
      this.o.config,
      now,
    );
    return d.trigger ? this.trigger() : undefined;
  }

  /**
   * Triggers a checkpoint now, whatever the interval says; returns its id. The caller
   * injects the barriers. One conditional write of the job record (with what a
   * completion deferred): its counter and its list of checkpoints in flight.
   */
  async trigger(): Promise<number> {
    const now = this.o.clock.now();
    const job = await this.record();
    const id = job.nextCheckpoint;
    const entry: PendingEntry = { id, at: now, generation: job.generation };
    const saved = await this.write((r) => ({
      ...r,
      nextCheckpoint: id + 1,
      lastTriggeredAt: now,
      pending: [...livePending(r), entry],
    }));
    if (!saved) {
      throw new RiffleError("checkpoint-race", `job '${this.job}' changed while triggering checkpoint ${id}`, {
        retryable: true,
      });
    }
    this.pending.set(id, new PendingCheckpoint(id, now, this.partitions));
    this.lastTriggerAt = now;
    return id;
  }

  /** Number of checkpoints in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Reads acks, completes checkpoints whose every partition acked (a finished
   * partition counts with its last segment), aborts timed-out ones, completes the
   * final checkpoint of a finished bounded job, and reports failover when too many
   * checkpoints in a row failed.
   */
  async poll(options: { abortTimeouts?: boolean } = {}): Promise<CoordinatorEvent[]> {
    const abortTimeouts = options.abortTimeouts ?? true;
    const events: CoordinatorEvent[] = [];
    const now = this.o.clock.now();
    const job = await this.record();
    // A finished partition counts as acked at its last segment (`complete` keeps the cut
    // from moving back: a finished source still commits the barriers it receives).
    const pending = [...this.pending].sort((a, b) => a[0] - b[0]);
    // Reads only, written once and never changed: made concurrently.
    const [finished, ...acks] = await Promise.all([
      this.o.store.finishedPartitions(this.job, job.generation),
      ...pending.map(([id]) => this.o.store.acks(this.job, id)),
    ]);
    for (const [i, [id, p]] of pending.entries()) {
      for (const ack of acks[i] ?? []) this.ackCounts[p.acknowledge(ack)]++;
      ackFinished(p, finished);
      if (p.complete) {
        events.push({ kind: "completed", manifest: await this.complete(p, now, false) });
      } else if (now - p.triggeredAt > this.o.config.timeoutMs) {
        events.push(abortTimeouts ? await this.abort(id, AbortReason.Timeout) : { kind: "timeout", id });
      }
    }
    const current = await this.record();
    if (current.failures > this.o.config.tolerableFailures) {
      events.push({ kind: "failover", reason: `${current.failures} checkpoints in a row failed` });
    }
    if (finished.length === this.partitions.length && this.pending.size === 0) {
      const last = current.lastCompleted ? await this.o.store.getManifest(this.job, current.lastCompleted) : undefined;
      if (!last?.final || last.generation !== current.generation) {
        const id = await this.trigger();
        const p = this.pending.get(id) as PendingCheckpoint;
        ackFinished(p, finished);
        events.push({ kind: "completed", manifest: await this.complete(p, now, true) });
      }
    }
    return events;
  }

  private async complete(p: PendingCheckpoint, now: number, final: boolean): Promise<CheckpointManifest> {
    const job = await this.record();
    const { alignmentMs, bytes } = p.totals();
    const previous = job.lastCompleted ? await this.o.store.getManifest(this.job, job.lastCompleted) : undefined;
    const manifest: CheckpointManifest = {
      job: this.job,
      id: p.id,
      generation: job.generation,
      status: "completed",
      triggeredAt: p.triggeredAt,
      completedAt: now,
      durationMs: now - p.triggeredAt,
      alignmentMs,
      bytes,
      cut: monotonicCut(p.cut(), previous?.generation === job.generation ? previous.cut : undefined),
      parallelism: this.parallelism(),
      ...(final ? { final: true } : {}),
    };
    await this.o.store.putManifest(manifest);
    this.pending.delete(p.id);
    this.lastCompletedAt = now;
    // Older checkpoints still pending are subsumed by this one.
    for (const id of [...this.pending.keys()]) if (id < p.id) await this.abort(id, AbortReason.Declined);
    // The manifest is the commit; the record follows (now, or with the next trigger's write).
    const generation = job.generation;
    const done = (r: JobRecord): JobRecord =>
      r.generation !== generation
        ? r
        : {
            ...r,
            lastCompleted: Math.max(r.lastCompleted, p.id),
            failures: 0,
            pending: (r.pending ?? []).filter((e) => e.id > p.id),
          };
    if (this.o.deferred) this.o.deferred.add(done);
    else await this.write(done);
    return manifest;
  }

  /**
   * Aborts checkpoint `id`: an aborted manifest, and the record without it (one more
   * failure in a row when it timed out or was declined).
   */
  async abort(id: number, reason: AbortReason): Promise<CoordinatorEvent> {
    const p = this.pending.get(id);
    p?.abort();
    this.pending.delete(id);
    const job = await this.record();
    const m = await this.o.store.getManifest(this.job, id);
    const entry = (job.pending ?? []).find((e) => e.id === id);
    if (m?.status === "pending" || (!m && entry)) {
      const now = this.o.clock.now();
      const triggeredAt = m?.triggeredAt ?? entry?.at ?? now;
      await this.o.store.putManifest({
        job: this.job,
        id,
        generation: m?.generation ?? entry?.generation ?? job.generation,
        parallelism: m?.parallelism ?? this.parallelism(),
        triggeredAt,
        status: "aborted",
        reason,
        completedAt: now,
        durationMs: now - triggeredAt,
      });
    }
    const counted = reason === AbortReason.Timeout || reason === AbortReason.Declined;
    if (counted || entry) {
      await this.write((r) => ({
        ...r,
        failures: r.failures + (counted ? 1 : 0),
        pending: (r.pending ?? []).filter((e) => e.id !== id),
      }));
    }
    return { kind: "aborted", id, reason };
  }

  /** Aborts every checkpoint in flight (on restore or stop). */
  async abortAll(reason: AbortReason): Promise<void> {
    for (const id of [...this.pending.keys()]) await this.abort(id, reason);
  }

  /** The newest completed checkpoint, if any. */
  async lastCompleted(): Promise<CheckpointManifest | undefined> {
    const job = await this.record();
    return job.lastCompleted ? this.o.store.getManifest(this.job, job.lastCompleted) : undefined;
  }
}
