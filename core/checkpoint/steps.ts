/**
 * The coordinator as stateless steps: trigger, poll, complete, abort, restore.
 * Each step loads what it needs from the stores, does one thing, and returns a
 * small JSON answer, so each can be one Lambda behind a Step Functions Task state
 * (see `asl.ts`), and the same logic runs anywhere a loop can call it.
 */

import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import { AbortReason, type CheckpointStore } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { OutputStore } from "../ports/output-store.ts";
import type { Queue } from "../ports/queue.ts";
import type { StateStore } from "../ports/state-store.ts";
import { CheckpointCoordinator } from "./coordinator.ts";
import { type PublishResult, publishCompleted } from "./publish.ts";
import { restoreToCheckpoint } from "./restore.ts";
import { barrierEntries, startEntries } from "./signals.ts";

/** What the steps work on. */
export interface StepContext {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly state: StateStore;
  readonly checkpoints: CheckpointStore;
  /** Only `send` is used. */
  readonly queue: Pick<Queue, "send">;
  readonly output: OutputStore;
  readonly clock: Clock;
}

/** Answer of the trigger step. */
export interface TriggerAnswer {
  /** The checkpoint triggered; `null` when none was (one is in flight, or the job finished). */
  readonly checkpoint: number | null;
  /** True once the job finished (bounded input fully processed and published). */
  readonly finished?: boolean;
}

/** Status the poll step reports for a checkpoint. */
export type PollStatus = "pending" | "completed" | "timeout" | "aborted" | "failover" | "finished";

/** The coordinator's steps for one job. */
export class CoordinatorSteps {
  private readonly c: StepContext;

  constructor(context: StepContext) {
    this.c = context;
  }

  private async coordinator(): Promise<CheckpointCoordinator> {
    const { plan, checkpoints, clock, graph } = this.c;
    const coordinator = new CheckpointCoordinator({ plan, store: checkpoints, clock, config: graph.config.checkpoint });
    return coordinator;
  }

  /**
   * Creates the job record and starts the sources, if the job never ran. Returns
   * the generation. Idempotent: a job that exists is left as it is.
   */
  async start(): Promise<{ generation: number; created: boolean }> {
    const existing = await this.c.checkpoints.loadJob(this.c.plan.job);
    if (existing) return { generation: existing.generation, created: false };
    const record = await (await this.coordinator()).init();
    await this.c.queue.send(startEntries(this.c.plan, record.generation));
    return { generation: record.generation, created: true };
  }

  /** Triggers a checkpoint and sends its barriers, unless one is in flight or the job finished. */
  async trigger(): Promise<TriggerAnswer> {
    await this.start();
    const coordinator = await this.coordinator();
    await coordinator.resume();
    const last = await coordinator.lastCompleted();
    const record = await coordinator.record();
    if (last?.final && last.generation === record.generation) return { checkpoint: null, finished: true };
    if (record.restoring) return { checkpoint: null };
    if (coordinator.inFlight >= this.c.graph.config.checkpoint.maxConcurrent) return { checkpoint: null };
    const id = await coordinator.trigger();
    await this.c.queue.send(barrierEntries(this.c.plan, record.generation, id));
    return { checkpoint: id };
  }

  /** Collects acks: completes what every partition acked, and says how checkpoint `id` stands. */
  async poll(id: number): Promise<{ status: PollStatus; completed?: number }> {
    const coordinator = await this.coordinator();
    await coordinator.resume();
    const events = await coordinator.poll({ abortTimeouts: false });
    if (events.some((e) => e.kind === "failover")) return { status: "failover" };
    const done = events.filter((e) => e.kind === "completed").map((e) => e.manifest);
    const newest = done[done.length - 1];
    if (newest) return { status: "completed", completed: newest.id };
    if (events.some((e) => e.kind === "timeout" && e.id === id)) return { status: "timeout" };
    const m = await this.c.checkpoints.getManifest(this.c.plan.job, id);
    if (m?.status === "completed") return { status: "completed", completed: id };
    if (m?.status === "aborted") return { status: "aborted" };
    const last = await coordinator.lastCompleted();
    if (last?.final) return { status: "finished" };
    return { status: "pending" };
  }

  /** Publishes the output of the newest completed checkpoint and compacts behind it. */
  async complete(): Promise<PublishResult & { checkpoint: number | null }> {
    const last = await (await this.coordinator()).lastCompleted();
    if (!last) return { checkpoint: null, records: 0, deadLetters: 0, compacted: 0 };
    const r = await publishCompleted(this.c.plan, this.c.state, this.c.output, last);
    return { checkpoint: last.id, ...r };
  }

  /** Aborts checkpoint `id` (timed out); says whether the job must now fail over. */
  async abort(id: number): Promise<{ failover: boolean }> {
    const coordinator = await this.coordinator();
    await coordinator.resume();
    await coordinator.abort(id, AbortReason.Timeout);
    const record = await coordinator.record();
    return { failover: record.failures > this.c.graph.config.checkpoint.tolerableFailures };
  }

  /**
   * Fails the job over: a new generation, every log cut back to the newest completed
   * checkpoint, sources restarted from its positions.
   */
  async restore(): Promise<{ generation: number; checkpoint: number | null }> {
    const coordinator = await this.coordinator();
    await coordinator.resume();
    const last = await coordinator.lastCompleted();
    const { plan, state, checkpoints } = this.c;
    const generation = await restoreToCheckpoint(plan, state, checkpoints, coordinator, last);
    await this.c.queue.send(startEntries(plan, generation));
    return { generation, checkpoint: last?.id ?? null };
  }
}
