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
} from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { CheckpointConfig } from "./config.ts";
import { decideTrigger } from "./decider.ts";
import { type AckResult, PendingCheckpoint } from "./pending.ts";

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
}

/** Most pending checkpoints {@link CheckpointCoordinator.resume} looks back over. */
const MAX_RESUMED = 16;

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
    return r;
  }

  /**
   * Reloads the checkpoints of the current generation still pending in the store.
   * A stateless coordinator step (a Lambda) starts with an empty memory: this makes
   * its view the same as a long-lived coordinator's.
   */
  async resume(): Promise<void> {
    const job = await this.record();
    const from = Math.max(job.lastCompleted + 1, job.nextCheckpoint - MAX_RESUMED);
    for (let id = from; id < job.nextCheckpoint; id++) {
      if (this.pending.has(id)) continue;
      const m = await this.o.store.getManifest(this.job, id);
      if (m?.status === "pending" && m.generation === job.generation) {
        this.pending.set(id, new PendingCheckpoint(id, m.triggeredAt, this.partitions));
      }
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

  /** Triggers a checkpoint now, whatever the interval says; returns its id. The caller injects the barriers. */
  async trigger(): Promise<number> {
    const now = this.o.clock.now();
    const job = await this.record();
    const id = job.nextCheckpoint;
    const next = { ...job, nextCheckpoint: id + 1 };
    if (!(await this.o.store.saveJob(next, { generation: job.generation, nextCheckpoint: id }))) {
      throw new RiffleError("checkpoint-race", `job '${this.job}' changed while triggering checkpoint ${id}`, {
        retryable: true,
      });
    }
    const manifest: CheckpointManifest = {
      job: this.job,
      id,
      generation: job.generation,
      status: "pending",
      triggeredAt: now,
      parallelism: this.parallelism(),
    };
    await this.o.store.putManifest(manifest);
    // A restore that moved the generation meanwhile may not have seen it (see `abortOlderPending`).
    if ((await this.record()).generation !== job.generation) {
      await this.o.store.putManifest({
        ...manifest,
        status: "aborted",
        reason: AbortReason.JobRestored,
        completedAt: now,
      });
      throw new RiffleError("checkpoint-race", `job '${this.job}' was restored while triggering checkpoint ${id}`, {
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
    const finished = await this.o.store.finishedPartitions(this.job, job.generation);
    for (const [id, p] of [...this.pending].sort((a, b) => a[0] - b[0])) {
      for (const ack of await this.o.store.acks(this.job, id)) this.ackCounts[p.acknowledge(ack)]++;
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
    const latest = await this.record();
    await this.o.store.saveJob(
      { ...latest, lastCompleted: Math.max(latest.lastCompleted, p.id), failures: 0 },
      { generation: latest.generation, nextCheckpoint: latest.nextCheckpoint },
    );
    return manifest;
  }

  /** Aborts checkpoint `id`. */
  async abort(id: number, reason: AbortReason): Promise<CoordinatorEvent> {
    const p = this.pending.get(id);
    p?.abort();
    this.pending.delete(id);
    const m = await this.o.store.getManifest(this.job, id);
    if (m && m.status === "pending") {
      const now = this.o.clock.now();
      await this.o.store.putManifest({
        ...m,
        status: "aborted",
        reason,
        completedAt: now,
        durationMs: now - m.triggeredAt,
      });
    }
    if (reason === AbortReason.Timeout || reason === AbortReason.Declined) {
      const job = await this.record();
      await this.o.store.saveJob(
        { ...job, failures: job.failures + 1 },
        { generation: job.generation, nextCheckpoint: job.nextCheckpoint },
      );
    }
    return { kind: "aborted", id, reason };
  }

  /**
   * After a restore wrote generation `job.generation + 1`: aborts the checkpoints of
   * `job` (the record it replaced) still pending, which a trigger recorded after the
   * restore's {@link abortAll} looked (the trigger aborts its own if it reads the
   * record after the restore wrote it; this covers the rest).
   */
  async abortOlderPending(job: JobRecord): Promise<void> {
    for (let id = Math.max(job.lastCompleted + 1, job.nextCheckpoint - MAX_RESUMED); id < job.nextCheckpoint; id++) {
      const m = await this.o.store.getManifest(this.job, id);
      if (m?.status === "pending" && m.generation <= job.generation) {
        await this.o.store.putManifest({
          ...m,
          status: "aborted",
          reason: AbortReason.JobRestored,
          completedAt: this.now(),
        });
      }
    }
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

/**
 * A cut never moves back within a generation: each partition's segment is at least
 * the previous completed cut's. (A finished partition reports its last data segment,
 * yet may have committed barrier segments after it that an earlier cut covers and
 * compaction may already have folded.)
 */
export function monotonicCut(
  cut: Readonly<Record<string, number>>,
  previous: Readonly<Record<string, number>> | undefined,
): Record<string, number> {
  const out: Record<string, number> = { ...cut };
  for (const [k, n] of Object.entries(previous ?? {})) if (k in out) out[k] = Math.max(out[k] ?? 0, n);
  return out;
}

/** A finished partition acks every checkpoint with its last segment. */
function ackFinished(
  p: PendingCheckpoint,
  finished: readonly { task: string; partition: number; segment: number }[],
): void {
  for (const f of finished) {
    p.acknowledge({
      checkpoint: p.id,
      task: f.task,
      partition: f.partition,
      segment: f.segment,
      alignmentMs: 0,
      bytes: 0,
    });
  }
}
