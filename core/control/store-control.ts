/**
 * A {@link JobControl} over the stores alone, for runtimes whose coordinator is
 * stateless steps (AWS, `riffle dev --runtime aws-local`): every operation reads
 * and writes the same stores and queues that the task and coordinator functions use.
 */

import { isPublished } from "../checkpoint/publish.ts";
import { checkSavepointName, SavepointError, takeSavepoint } from "../checkpoint/savepoint.ts";
import { wakeIfSleeping } from "../checkpoint/sleep.ts";
import { CoordinatorSteps, type StepContext, type TriggerAnswer } from "../checkpoint/steps.ts";
import { RiffleError } from "../errors.ts";
import type { Plan } from "../graph/plan.ts";
import { runningPlan } from "../graph/rescale.ts";
import type { CheckpointManifest, SavepointInfo } from "../ports/checkpoint-store.ts";
import type { IngestLog } from "../ports/ingest-log.ts";
import type { QueueDeadLetter } from "../ports/queue.ts";
import type { TableReadContext } from "../tables/read.ts";
import { ackedReports, recordsByTask } from "./acked-reports.ts";
import { IngestRouter, UnknownSourceError } from "./ingest-routing.ts";
import type { DeadLetters, IngestSourceInfo, JobControl, JobCost, JobStatus } from "./job-control.ts";
import { replayOnStores } from "./store-replay.ts";

/** Where a {@link StoreJobControl} gets the job's cost, and tells of ingest. */
export interface CostProvider {
  /** The cost so far (see {@link JobCost}). */
  cost(): Promise<JobCost>;
  /** `records` were appended by one ingest call that took `durationMs`. */
  ingested?(records: number, durationMs: number): void;
}

/** What a {@link StoreJobControl} needs beyond the coordinator's steps. */
export interface StoreControlOptions extends StepContext {
  readonly ingest: IngestLog;
  /** Messages waiting in a task's queue. */
  readonly backlog?: (task: string) => Promise<number>;
  /** Envelopes in the task queues' dead-letter queues. */
  readonly queueDeadLetters?: () => Promise<QueueDeadLetter[]>;
  /** How long a savepoint waits for its checkpoint (default 60 s). */
  readonly savepointTimeoutMs?: number;
  /** The job's live cost for {@link StoreJobControl.status} (absent: status has no cost). */
  readonly cost?: CostProvider;
}

export { UnknownSourceError };

/** Job control over the stores; see the module comment. */
export class StoreJobControl implements JobControl {
  readonly job: string;
  private readonly o: StoreControlOptions;
  private readonly router: IngestRouter;
  private readonly steps: CoordinatorSteps;

  constructor(options: StoreControlOptions) {
    this.o = options;
    this.job = options.plan.job;
    this.router = new IngestRouter(options.graph, options.plan);
    this.steps = new CoordinatorSteps(options);
  }

  /** Creates the job record and starts the sources if the job never ran. */
  start(): Promise<{ generation: number; created: boolean }> {
    return this.steps.start();
  }

  ingestSources(): IngestSourceInfo[] {
    return this.router.sources();
  }

  async ingest(source: string, records: readonly unknown[], key?: string) {
    const t0 = this.o.clock.now();
    const { wake, ...range } = await this.router.append(this.o.ingest, source, records, key);
    const record = await this.o.checkpoints.loadJob(this.job);
    // Not started yet: the start signal will poll anyway.
    if (record) await this.o.queue.send([wake(record.generation, this.o.clock.now())]);
    await this.wakeCoordinator();
    this.o.cost?.ingested?.(records.length, this.o.clock.now() - t0);
    return range;
  }

  async status(): Promise<JobStatus> {
    const record = await this.o.checkpoints.loadJob(this.job);
    const last = record?.lastCompleted
      ? await this.o.checkpoints.getManifest(this.job, record.lastCompleted)
      : undefined;
    const backlog: Record<string, number> = {};
    for (const t of this.o.plan.tasks) backlog[t.id] = this.o.backlog ? await this.o.backlog(t.id) : 0;
    const running = runningPlan(this.o.plan, record?.parallelism);
    const parallelism = Object.fromEntries(running.tasks.map((t) => [t.id, t.parallelism]));
    const partitions = record ? await ackedReports(this.o.checkpoints, record, parallelism) : [];
    return {
      job: this.job,
      generation: record?.generation ?? 0,
      ...(last ? { lastCheckpoint: last } : {}),
      backlog,
      records: recordsByTask(partitions),
      partitions,
      // Finished once the final checkpoint's output is published, not when it completes.
      finished:
        last?.final === true &&
        last.generation === record?.generation &&
        (await isPublished(this.o.plan, this.o.output, last)),
      ...(record?.failed ? { failed: record.failed } : {}),
      ...(this.o.cost ? { cost: await this.o.cost.cost() } : {}),
    };
  }

  async checkpoints(): Promise<CheckpointManifest[]> {
    return (await this.o.checkpoints.listManifests(this.job)).slice(-100);
  }

  async plan(): Promise<Plan> {
    const record = await this.o.checkpoints.loadJob(this.job);
    return runningPlan(this.o.plan, record?.parallelism);
  }

  listSavepoints(): Promise<SavepointInfo[]> {
    return this.o.checkpoints.listSavepoints(this.job);
  }

  async savepoint(name: string): Promise<SavepointInfo> {
    checkSavepointName(name);
    if (await this.o.checkpoints.getSavepoint(this.job, name)) {
      throw new SavepointError(`job '${this.job}' already has a savepoint named '${name}'`);
    }
    const deadline = this.o.clock.now() + (this.o.savepointTimeoutMs ?? 60_000);
    const generation = (await this.o.checkpoints.loadJob(this.job))?.generation;
    let id: number | null = null;
    while (id === null) {
      const t = await this.steps.trigger().catch((e: unknown) => {
        // Another trigger (the coordinator's round, a wake) won the job record: try again.
        if (e instanceof RiffleError && e.reason === "checkpoint-race") return { checkpoint: null } as TriggerAnswer;
        throw e;
      });
      if (t.finished) throw new SavepointError(`job '${this.job}' has finished; take a savepoint while it runs`);
      id = t.inFlight ? null : t.checkpoint; // one triggered before the request would miss what came since
      if (id === null) await this.wait(deadline, "another checkpoint to finish");
    }
    for (;;) {
      const { status } = await this.steps.poll(id);
      const m = await this.o.checkpoints.getManifest(this.job, id);
      if (m?.status === "completed") {
        // Publish its output first: a restore right after must find it published.
        await this.steps.complete();
        const sp = await takeSavepoint(this.o.plan, this.o.state, this.o.checkpoints, this.o.clock, m, name);
        const { sources: _s, state: _v, replays: _r, ...info } = sp;
        return info;
      }
      if (m?.status === "aborted" || status === "failover" || status === "timeout") {
        throw new SavepointError(`checkpoint ${id} for savepoint '${name}' was aborted (${m?.reason ?? status})`);
      }
      // A restore (or failover) since the trigger started a new generation: its checkpoint may never complete.
      const now = (await this.o.checkpoints.loadJob(this.job))?.generation;
      if (now !== generation) {
        throw new SavepointError(
          `job '${this.job}' moved to generation ${now} (a restore or failover) while savepoint '${name}' waited for checkpoint ${id}: take it again`,
        );
      }
      await this.wait(deadline, `checkpoint ${id}`);
    }
  }

  private async wait(deadline: number, what: string): Promise<void> {
    if (this.o.clock.now() > deadline) {
      throw new RiffleError("savepoint-timeout", `job '${this.job}': timed out waiting for ${what}`, {
        retryable: true,
      });
    }
    await this.o.clock.sleep(100);
  }

  /** Restores from a savepoint through the shared restore step (publishes first; a retry resumes it). */
  async restore(savepoint: string): Promise<{ generation: number }> {
    const restored = await this.steps.restoreSavepoint(savepoint);
    await this.wakeCoordinator(); // the sources start again: the coordinator must checkpoint them
    return restored;
  }

  /** Appended, then read: wakes a coordinator that sleeps (scale to zero, `core/checkpoint/sleep.ts`). */
  private async wakeCoordinator(): Promise<void> {
    if (this.o.waker) await wakeIfSleeping(this.o.checkpoints, this.job, this.o.waker);
  }

  tables(): TableReadContext | undefined {
    const { job } = this;
    const { checkpoints, dynamicTables } = this.o;
    if (!dynamicTables) return undefined;
    return {
      job,
      store: dynamicTables,
      savepointCheckpoint: async (name) =>
        (await checkpoints.listSavepoints(job)).find((s) => s.name === name)?.checkpoint,
    };
  }

  async deadLetters(): Promise<DeadLetters> {
    return {
      records: await this.o.output.deadLetters(this.job),
      envelopes: this.o.queueDeadLetters ? await this.o.queueDeadLetters() : [],
    };
  }

  /** Replays dead letters (see `store-replay.ts`: marked with their envelopes, undone by a restore that cuts them away). */
  replay(ids?: readonly string[]): Promise<{ replayed: number }> {
    return replayOnStores(this.o, ids, this.o.savepointTimeoutMs ?? 60_000);
  }
}
