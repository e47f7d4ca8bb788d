/**
 * The {@link JobControl} of a job running on the embedded runtime (`riffle dev`):
 * ingest appends to the runtime's ingest log and wakes the reading partition;
 * savepoints and restores are served by the runtime between batches.
 */

import type { Plan } from "../graph/plan.ts";
import type { CheckpointManifest, SavepointInfo } from "../ports/checkpoint-store.ts";
import type { IngestLog } from "../ports/ingest-log.ts";
import type { StoredDeadLetter } from "../ports/output-store.ts";
import type { EmbeddedRuntime } from "../runtime/embedded.ts";
import type { TableReadContext } from "../tables/read.ts";
import { IngestRouter } from "./ingest-routing.ts";
import type { DeadLetters, IngestSourceInfo, JobControl, JobStatus } from "./job-control.ts";
import { lettersToReplay, replayEntries } from "./replay.ts";
import { replayRouter } from "./replay-routing.ts";

/** Job control of an {@link EmbeddedRuntime}. */
export class EmbeddedJobControl implements JobControl {
  readonly job: string;
  private readonly runtime: EmbeddedRuntime;
  private readonly log: IngestLog;
  private readonly router: IngestRouter;
  private readonly replayed = new Map<string, number>();

  /** `ingest` must be the log the runtime was created with. */
  constructor(runtime: EmbeddedRuntime, ingest: IngestLog) {
    this.runtime = runtime;
    this.log = ingest;
    this.job = runtime.plan.job;
    this.router = new IngestRouter(runtime.graph, runtime.plan);
  }

  ingestSources(): IngestSourceInfo[] {
    return this.router.sources();
  }

  async ingest(source: string, records: readonly unknown[], key?: string) {
    const { wake, ...range } = await this.router.append(this.log, source, records, key);
    await this.runtime.send([wake(this.runtime.generation)]);
    return range;
  }

  async status(): Promise<JobStatus> {
    const last = this.runtime.lastCheckpoint;
    const failed = (await this.runtime.checkpoints.loadJob(this.job))?.failed;
    return {
      job: this.job,
      generation: this.runtime.generation,
      ...(last ? { lastCheckpoint: last } : {}),
      backlog: Object.fromEntries(this.runtime.progress().map((p) => [p.task, p.backlog])),
      records: Object.fromEntries(this.runtime.progress().map((p) => [p.task, { in: p.recordsIn, out: p.recordsOut }])),
      partitions: this.runtime.partitionReports(),
      finished: this.runtime.finished,
      ...(failed ? { failed } : {}),
    };
  }

  async checkpoints(): Promise<CheckpointManifest[]> {
    return (await this.runtime.checkpoints.listManifests(this.job)).slice(-100);
  }

  async plan(): Promise<Plan> {
    return this.runtime.plan;
  }

  listSavepoints(): Promise<SavepointInfo[]> {
    return this.runtime.checkpoints.listSavepoints(this.job);
  }

  savepoint(name: string): Promise<SavepointInfo> {
    return this.runtime.savepoint(name);
  }

  /** Restores the running job from a savepoint, at a new generation (served between batches). */
  restore(savepoint: string): Promise<{ generation: number }> {
    return this.runtime.restore(savepoint);
  }

  private letters(): StoredDeadLetter[] {
    const seen = new Map<string, number>();
    return this.runtime.deadLetters.map((d) => {
      const prefix = `${d.task}#${d.partition}#${d.channel}#${d.seq}`;
      const i = seen.get(prefix) ?? 0;
      seen.set(prefix, i + 1);
      const id = `${prefix}#${i}`;
      const at = this.replayed.get(id);
      return { ...d, id, segment: 0, ...(at !== undefined ? { replayedAt: at } : {}) };
    });
  }

  tables(): TableReadContext {
    const checkpoints = this.runtime.checkpoints;
    const job = this.job;
    return {
      job,
      store: this.runtime.tables,
      savepointCheckpoint: async (name) =>
        (await checkpoints.listSavepoints(job)).find((s) => s.name === name)?.checkpoint,
    };
  }

  async deadLetters(): Promise<DeadLetters> {
    return { records: this.letters(), envelopes: this.runtime.queueDeadLetters() };
  }

  async replay(ids?: readonly string[]): Promise<{ replayed: number }> {
    const letters = lettersToReplay(this.letters(), ids);
    if (letters.length === 0) return { replayed: 0 };
    const now = this.runtime.clock.now();
    const route = replayRouter(this.runtime.plan, this.runtime.graph);
    await this.runtime.send(replayEntries(letters, this.runtime.generation, now, route));
    for (const d of letters) this.replayed.set(d.id, now);
    return { replayed: letters.length };
  }
}
