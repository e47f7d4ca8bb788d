/** In-memory implementation of the {@link CheckpointStore} port. */

import type {
  CheckpointAck,
  CheckpointManifest,
  CheckpointStore,
  FinishedAck,
  JobRecord,
  RoundRead,
  Savepoint,
  SavepointInfo,
} from "../ports/checkpoint-store.ts";

/** Keeps job records, acks and manifests in maps. */
export class InMemoryCheckpointStore implements CheckpointStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly manifests = new Map<string, Map<number, CheckpointManifest>>();
  private readonly ackLog = new Map<string, Map<number, Map<string, CheckpointAck>>>();
  private readonly finishedLog = new Map<string, Map<string, FinishedAck>>();
  private readonly savepoints = new Map<string, Map<string, Savepoint>>();

  async loadJob(job: string): Promise<JobRecord | undefined> {
    return this.jobs.get(job);
  }

  async saveJob(
    record: JobRecord,
    expected: { generation: number; nextCheckpoint: number } | undefined,
  ): Promise<boolean> {
    const cur = this.jobs.get(record.job);
    if (
      expected === undefined
        ? cur !== undefined
        : cur?.generation !== expected.generation || cur.nextCheckpoint !== expected.nextCheckpoint
    ) {
      return false;
    }
    this.jobs.set(record.job, record);
    return true;
  }

  async putManifest(manifest: CheckpointManifest): Promise<void> {
    let m = this.manifests.get(manifest.job);
    if (!m) {
      m = new Map();
      this.manifests.set(manifest.job, m);
    }
    m.set(manifest.id, manifest);
  }

  async getManifest(job: string, id: number): Promise<CheckpointManifest | undefined> {
    return this.manifests.get(job)?.get(id);
  }

  async listManifests(job: string): Promise<CheckpointManifest[]> {
    return [...(this.manifests.get(job)?.values() ?? [])].sort((a, b) => a.id - b.id);
  }

  async ack(job: string, ack: CheckpointAck): Promise<void> {
    let byId = this.ackLog.get(job);
    if (!byId) {
      byId = new Map();
      this.ackLog.set(job, byId);
    }
    let acks = byId.get(ack.checkpoint);
    if (!acks) {
      acks = new Map();
      byId.set(ack.checkpoint, acks);
    }
    const key = `${ack.task}#${ack.partition}`;
    if (!acks.has(key)) acks.set(key, ack);
  }

  async acks(job: string, id: number): Promise<CheckpointAck[]> {
    return [...(this.ackLog.get(job)?.get(id)?.values() ?? [])];
  }

  async finished(job: string, ack: FinishedAck): Promise<void> {
    let m = this.finishedLog.get(job);
    if (!m) {
      m = new Map();
      this.finishedLog.set(job, m);
    }
    const key = `${ack.generation}/${ack.task}#${ack.partition}`;
    if (!m.has(key)) m.set(key, ack);
  }

  async finishedPartitions(job: string, generation: number): Promise<FinishedAck[]> {
    return [...(this.finishedLog.get(job)?.values() ?? [])].filter((f) => f.generation === generation);
  }

  async readRound(job: string, from: number): Promise<RoundRead> {
    const acks = [...(this.ackLog.get(job)?.entries() ?? [])]
      .filter(([id]) => id >= from)
      .flatMap(([, byPartition]) => [...byPartition.values()]);
    return {
      record: await this.loadJob(job),
      acks,
      finished: [...(this.finishedLog.get(job)?.values() ?? [])],
    };
  }

  async putSavepoint(savepoint: Savepoint): Promise<boolean> {
    let m = this.savepoints.get(savepoint.job);
    if (!m) {
      m = new Map();
      this.savepoints.set(savepoint.job, m);
    }
    if (m.has(savepoint.name)) return false;
    m.set(savepoint.name, savepoint);
    return true;
  }

  async getSavepoint(job: string, name: string): Promise<Savepoint | undefined> {
    return this.savepoints.get(job)?.get(name);
  }

  async listSavepoints(job: string): Promise<SavepointInfo[]> {
    return [...(this.savepoints.get(job)?.values() ?? [])]
      .map(({ sources: _s, state: _st, ...info }) => info)
      .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }

  async deleteSavepoint(job: string, name: string): Promise<boolean> {
    return this.savepoints.get(job)?.delete(name) ?? false;
  }
}
