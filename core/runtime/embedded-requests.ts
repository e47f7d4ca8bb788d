/**
 * What an embedded job is asked while it runs: savepoints (and the one a stop
 * takes), restores from a savepoint, and dead-letter replays. Each is checked and queued when asked, and
 * served by the runtime's loop between batches (the request queues of
 * `savepoint-requests.ts` and `replay-requests.ts` do the work).
 */

import { checkSavepointName, SavepointError, takeSavepoint } from "../checkpoint/savepoint.ts";
import { RestoreRequests, SavepointRequests } from "../checkpoint/savepoint-requests.ts";
import { replayGroups } from "../control/replay.ts";
import { replayRouter } from "../control/replay-routing.ts";
import type { OutboxEntry } from "../envelope.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan } from "../graph/plan.ts";
import type { CheckpointManifest, CheckpointStore, SavepointInfo } from "../ports/checkpoint-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { StoredDeadLetter } from "../ports/output-store.ts";
import type { StateStore } from "../ports/state-store.ts";
import type { CheckpointDriver } from "./lifecycle.ts";
import { type ReplayDone, ReplayError, ReplayInterruptedError, ReplayRequests } from "./replay-requests.ts";

/** The running job as its requests see it (the embedded runtime). */
export interface RunningJob {
  readonly plan: Plan;
  readonly graph: JobGraph;
  readonly store: StateStore;
  readonly checkpoints: CheckpointStore;
  readonly clock: Clock;
  readonly generation: number;
  readonly lastCheckpoint: CheckpointManifest | undefined;
  readonly finished: boolean;
  send(entries: readonly OutboxEntry[]): Promise<void>;
}

/** What serving the requests needs beyond {@link RunningJob}: the runtime's own parts. */
export interface RequestHooks {
  /** True once the job was started (created, resumed or restored). */
  started(): boolean;
  readonly driver: Pick<CheckpointDriver, "inFlight" | "trigger">;
  /** Restores the job from savepoint `name` and relaunches it; resolves with the new generation. */
  restoreFrom(name: string): Promise<{ generation: number }>;
}

/** The requests asked of one running embedded job. */
export class EmbeddedRequests {
  private readonly job: RunningJob;
  private readonly hooks: RequestHooks;
  private readonly savepoints = new SavepointRequests();
  private readonly restores = new RestoreRequests();
  private readonly replays = new ReplayRequests();

  constructor(job: RunningJob, hooks: RequestHooks) {
    this.job = job;
    this.hooks = hooks;
  }

  /** See `EmbeddedRuntime.savepoint`. */
  async savepoint(name: string): Promise<SavepointInfo> {
    const { plan, checkpoints } = this.job;
    checkSavepointName(name);
    if (this.job.finished) throw new SavepointError(`job '${plan.job}' has finished; take a savepoint while it runs`);
    if (await checkpoints.getSavepoint(plan.job, name)) {
      throw new SavepointError(`job '${plan.job}' already has a savepoint named '${name}'`);
    }
    return this.savepoints.add(name);
  }

  /** See `EmbeddedRuntime.replay`. */
  async replay(letters: readonly StoredDeadLetter[], now: number): Promise<ReplayDone> {
    const { plan, graph } = this.job;
    if (this.job.finished) throw new ReplayError(`job '${plan.job}' has finished; replay while it runs`);
    return this.replays.add(replayGroups(letters, replayRouter(plan, graph)), now);
  }

  /** See `EmbeddedRuntime.restore`. */
  async restore(name: string): Promise<{ generation: number }> {
    checkSavepointName(name);
    if (this.job.finished || !this.hooks.started()) {
      throw new SavepointError(`job '${this.job.plan.job}' is not running; restore a savepoint while it runs`);
    }
    return this.restores.add(name);
  }

  /** Advances savepoints and replays, then serves one restore; true when a restore relaunched the job. */
  async serve(): Promise<boolean> {
    const { plan, store, checkpoints, clock, lastCheckpoint } = this.job;
    const { driver } = this.hooks;
    await this.savepoints.serve({
      inFlight: driver.inFlight,
      triggerCheckpoint: () => driver.trigger(),
      lastCheckpoint,
      take: (m, name) => takeSavepoint(plan, store, checkpoints, clock, m, name),
    });
    await this.serveReplays(true);
    return this.restores.serve((name) => this.hooks.restoreFrom(name));
  }

  /** The stop's checkpoint completed: materializes it as savepoint `name`, when one was asked for. */
  async stopped(name: string | undefined): Promise<void> {
    const { plan, store, checkpoints, clock, lastCheckpoint } = this.job;
    if (name && lastCheckpoint) await takeSavepoint(plan, store, checkpoints, clock, lastCheckpoint, name);
  }

  /** The job finished: answers the replays its final checkpoint covers (or that a finished partition refuses). */
  async finishReplays(): Promise<void> {
    for (let n = 3 * this.replays.size; n > 0 && this.replays.size > 0; n--) await this.serveReplays(false);
  }

  /** The job ended: rejects every request still pending. */
  end(): void {
    const { job } = this.job.plan;
    this.restores.rejectAll(new SavepointError(`job '${job}' is no longer running`));
    this.replays.rejectAll(new ReplayInterruptedError(`job '${job}' ended before the replay was durable`));
  }

  private async serveReplays(trigger: boolean): Promise<void> {
    const { generation, lastCheckpoint, store: state } = this.job;
    const { driver } = this.hooks;
    await this.replays.serve({
      generation,
      lastCheckpoint,
      inFlight: driver.inFlight,
      state,
      send: (entries) => this.job.send(entries),
      triggerCheckpoint: () => (trigger ? driver.trigger() : Promise.resolve(undefined)),
    });
  }
}
