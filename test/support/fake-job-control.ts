/**
 * A test double of the {@link JobControl} port over in-memory arrays, for the
 * HTTP API tests. Its `clicks` ingest source declares a zod 4 schema (zod
 * implements Standard Schema); `raw` declares none. Every call is recorded, any
 * operation can be made to fail once, and `ingest` can be held open to prove that
 * the API answers only after it resolved.
 */

import { z } from "zod";
import { SavepointError } from "../../core/checkpoint/savepoint.ts";
import type {
  DeadLetters,
  IngestSourceInfo,
  JobControl,
  JobDirectory,
  JobStatus,
} from "../../core/control/job-control.ts";
import type { Plan } from "../../core/graph/plan.ts";
import type { CheckpointManifest, SavepointInfo } from "../../core/ports/checkpoint-store.ts";
import type { StoredDeadLetter } from "../../core/ports/output-store.ts";
import type { QueueDeadLetter } from "../../core/ports/queue.ts";

/** The `clicks` source's record schema: `amount` defaults to 1. */
export const clickSchema = z.object({
  user: z.string().min(1),
  page: z.string(),
  amount: z.number().int().nonnegative().default(1),
});

type Operation =
  | "ingest"
  | "status"
  | "checkpoints"
  | "plan"
  | "listSavepoints"
  | "savepoint"
  | "restore"
  | "deadLetters"
  | "replay";

function manifest(job: string, id: number, generation: number): CheckpointManifest {
  return {
    job,
    id,
    generation,
    status: "completed",
    triggeredAt: 1_000 * id,
    completedAt: 1_000 * id + 20,
    durationMs: 20,
    cut: { "clicks#0": id },
    parallelism: { clicks: 4 },
  };
}

/** An in-memory {@link JobControl}. */
export class FakeJobControl implements JobControl {
  readonly job: string;
  readonly sources: IngestSourceInfo[] = [
    { name: "clicks", partitions: 4, schema: clickSchema },
    { name: "raw", partitions: 1 },
  ];
  /** Source → partition → records appended, in order. */
  readonly logs = new Map<string, unknown[][]>();
  /** Every `ingest` call, with the key it was given. */
  readonly ingestCalls: { source: string; records: readonly unknown[]; key?: string }[] = [];
  generation = 1;
  finished = false;
  readonly checkpointList: CheckpointManifest[];
  readonly savepoints: SavepointInfo[] = [];
  readonly deadRecords: StoredDeadLetter[];
  readonly deadEnvelopes: QueueDeadLetter[] = [];
  /** While set, `ingest` waits for it before appending. */
  ingestGate: Promise<void> | undefined;
  private readonly failures = new Map<Operation, unknown>();
  private spread = 0;

  constructor(job: string) {
    this.job = job;
    for (const s of this.sources)
      this.logs.set(
        s.name,
        Array.from({ length: s.partitions }, () => []),
      );
    this.checkpointList = [manifest(job, 1, 1), manifest(job, 2, 1)];
    this.deadRecords = ["a", "b", "c"].map((user, index) => ({
      id: `count#0#7#${index}`,
      task: "count",
      partition: 0,
      segment: 7,
      operator: "count",
      value: { user },
      error: "boom",
      attempts: 3,
      channel: "clicks#0>count#0",
      seq: 4,
      time: 5_000,
    }));
  }

  /** Makes the next call of `op` throw `error`. */
  failNext(op: Operation, error: unknown): void {
    this.failures.set(op, error);
  }

  private check(op: Operation): void {
    if (!this.failures.has(op)) return;
    const error = this.failures.get(op);
    this.failures.delete(op);
    throw error;
  }

  ingestSources(): readonly IngestSourceInfo[] {
    return this.sources;
  }

  async ingest(
    source: string,
    records: readonly unknown[],
    key?: string,
  ): Promise<{ partition: number; first: number; last: number }> {
    this.check("ingest");
    const log = this.logs.get(source);
    if (log === undefined) throw new Error(`fake: no source '${source}'`);
    await this.ingestGate;
    this.ingestCalls.push({ source, records, ...(key === undefined ? {} : { key }) });
    const partition =
      key === undefined
        ? this.spread++ % log.length
        : [...key].reduce((h, c) => (h * 31 + (c.codePointAt(0) ?? 0)) >>> 0, 7) % log.length;
    const lane = log[partition] as unknown[];
    const first = lane.length;
    lane.push(...records);
    return { partition, first, last: lane.length - 1 };
  }

  async status(): Promise<JobStatus> {
    this.check("status");
    const lastCheckpoint = this.checkpointList.at(-1);
    return {
      job: this.job,
      generation: this.generation,
      ...(lastCheckpoint ? { lastCheckpoint } : {}),
      backlog: { clicks: 3, count: 0 },
      finished: this.finished,
    };
  }

  async checkpoints(): Promise<CheckpointManifest[]> {
    this.check("checkpoints");
    return [...this.checkpointList];
  }

  async plan(): Promise<Plan> {
    this.check("plan");
    const op = (uid: string, kind: string) => ({ node: 0, uid, name: uid, kind });
    return {
      job: this.job,
      maxParallelism: 128,
      tasks: [
        {
          id: "clicks",
          parallelism: 4,
          operators: [op("clicks", "source")],
          inputs: [],
          outputs: [{ to: "count", partitioner: "hash", toNode: 1, fromNode: 0, sender: "clicks" }],
          isSource: true,
          keyed: false,
        },
        {
          id: "count",
          parallelism: 2,
          operators: [op("count", "process"), { ...op("sink-counts", "sink"), input: 0 }],
          inputs: [{ from: "clicks", sender: "clicks", partitioner: "hash" }],
          outputs: [],
          isSource: false,
          keyed: true,
        },
      ],
    };
  }

  async listSavepoints(): Promise<SavepointInfo[]> {
    this.check("listSavepoints");
    return [...this.savepoints];
  }

  async savepoint(name: string): Promise<SavepointInfo> {
    this.check("savepoint");
    if (this.finished) throw new SavepointError(`job '${this.job}' has finished; take a savepoint while it runs`);
    if (this.savepoints.some((s) => s.name === name)) {
      throw new SavepointError(`job '${this.job}' already has a savepoint named '${name}'`);
    }
    const checkpoint = manifest(this.job, this.checkpointList.length + 1, this.generation);
    this.checkpointList.push(checkpoint);
    const info: SavepointInfo = {
      job: this.job,
      name,
      createdAt: 9_000,
      checkpoint: checkpoint.id,
      maxParallelism: 128,
      parallelism: { clicks: 4 },
      values: 42,
    };
    this.savepoints.push(info);
    return info;
  }

  async restore(savepoint: string): Promise<{ generation: number }> {
    this.check("restore");
    if (!this.savepoints.some((s) => s.name === savepoint)) {
      throw new SavepointError(`job '${this.job}' has no savepoint named '${savepoint}'`);
    }
    this.generation++;
    return { generation: this.generation };
  }

  async deadLetters(): Promise<DeadLetters> {
    this.check("deadLetters");
    return { records: [...this.deadRecords], envelopes: [...this.deadEnvelopes] };
  }

  async replay(ids?: readonly string[]): Promise<{ replayed: number }> {
    this.check("replay");
    let replayed = 0;
    for (let i = 0; i < this.deadRecords.length; i++) {
      const d = this.deadRecords[i] as StoredDeadLetter;
      if (d.replayedAt !== undefined || (ids !== undefined && !ids.includes(d.id))) continue;
      this.deadRecords[i] = { ...d, replayedAt: 10_000 };
      replayed++;
    }
    return { replayed };
  }
}

/** A directory of fake jobs by id; every other id is unknown. */
export function fakeJobs(...ids: string[]): { jobs: JobDirectory; controls: Map<string, FakeJobControl> } {
  const controls = new Map(ids.map((id) => [id, new FakeJobControl(id)]));
  return { jobs: (id) => controls.get(id), controls };
}
