/**
 * The reads of one coordinator round, made once: a {@link CheckpointStore} that keeps
 * the job record and the manifests it has read or written for the life of one round
 * (one Lambda invocation), so the steps a round runs — each of which loads what it
 * needs, as a stateless step must — do not read the same items again. Every other
 * call (acks, finished reports, savepoints) goes to the store.
 *
 * Why it is safe: a cached item is either a read made earlier in the same round or
 * the round's own successful write. Every write of the job record is conditional on
 * its generation and checkpoint counter, so a round that works from a record another
 * writer has changed since (a savepoint restore, a wake) fails its write as it would
 * have with a fresh read that lost the race; a failed write drops the cached record,
 * so the next read is fresh. Manifests are written by the coordinator's steps only.
 *
 * A small job's round starts with one read ({@link RoundReads.prefetch}, the store's
 * `readRound`: on DynamoDB one strongly consistent Query) of the job record, the acks
 * of the checkpoint it follows and later ones, and the finished reports, where a
 * record GetItem and two Queries were. Acks and finished reports are written once and
 * never change, so a read made at the round's start is as good as one made a few
 * milliseconds later in its poll (a report that lands in between completes the
 * checkpoint a round later, as an eventually consistent read that misses it does).
 * A large job keeps the separate reads: its acks read strongly consistent would cost
 * twice the read units of the eventually consistent Query.
 */

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

/**
 * Completed manifests kept across the rounds of one warm container: the round that
 * completes checkpoint n wrote it, and the next round reads it again (the previous
 * cut, for `monotonicCut` and the quiet check's `wasBusy`). Safe to keep: a completed
 * manifest never changes except to be marked `notified`, which the same round does
 * right after the completion (through the same {@link RoundReads}, so the kept copy
 * has it); a copy without it would only send the best-effort signals once more.
 */
export class CompletedManifests {
  private readonly kept = new Map<string, CheckpointManifest>();
  private readonly max: number;

  constructor(max = 8) {
    this.max = max;
  }

  get(job: string, id: number): CheckpointManifest | undefined {
    return this.kept.get(`${job}#${id}`);
  }

  /** Keeps `m` if it is completed (the oldest kept goes beyond `max`). */
  keep(m: CheckpointManifest | undefined): void {
    if (m?.status !== "completed") return;
    const key = `${m.job}#${m.id}`;
    this.kept.delete(key);
    this.kept.set(key, m);
    for (const k of this.kept.keys()) {
      if (this.kept.size <= this.max) break;
      this.kept.delete(k);
    }
  }
}

/** Partitions (all tasks) up to which a round reads its record, acks and finished reports at once. */
export const ROUND_READ_MAX_PARTITIONS = 8;

/** A store that remembers job records and manifests for one round; see the module comment. */
export class RoundReads implements CheckpointStore {
  private readonly store: CheckpointStore;
  /** Reads (or the round's own writes) by key: promises, so concurrent steps of a round share one read. */
  private readonly jobs = new Map<string, Promise<JobRecord | undefined>>();
  private readonly manifests = new Map<string, Promise<CheckpointManifest | undefined>>();
  private readonly completed: CompletedManifests | undefined;
  /** The round's first read ({@link prefetch}), if it made one: acks of `from` and later. */
  private first: { job: string; from: number; read: Promise<RoundRead> } | undefined;

  /** `completed`: completed manifests kept across rounds (a warm container's), if any. */
  constructor(store: CheckpointStore, completed?: CompletedManifests) {
    this.store = store;
    this.completed = completed;
  }

  /**
   * Reads the record, the acks of checkpoint `from` and later, and the finished reports
   * at once, when the store can and the job has at most {@link ROUND_READ_MAX_PARTITIONS}
   * partitions; the round's reads of them are then served from it.
   */
  prefetch(job: string, from: number | null, partitions: number): void {
    if (from === null || partitions > ROUND_READ_MAX_PARTITIONS || !this.store.readRound) return;
    const read = this.store.readRound(job, from);
    const record = read.then((r) => r.record);
    this.first = { job, from, read };
    this.jobs.set(job, record);
    // A failed read is forgotten (the steps then read on their own); whoever awaits it still sees the failure.
    read.catch(() => {
      if (this.first?.read === read) this.first = undefined;
      if (this.jobs.get(job) === record) this.jobs.delete(job);
    });
    record.catch(() => {});
  }

  loadJob(job: string): Promise<JobRecord | undefined> {
    return remembered(this.jobs, job, () => this.store.loadJob(job));
  }

  async saveJob(
    record: JobRecord,
    expected: { generation: number; nextCheckpoint: number } | undefined,
  ): Promise<boolean> {
    this.jobs.delete(record.job); // the write's outcome decides what is known
    const saved = await this.store.saveJob(record, expected);
    if (saved) this.jobs.set(record.job, Promise.resolve(record));
    return saved;
  }

  async putManifest(manifest: CheckpointManifest): Promise<void> {
    const key = `${manifest.job}#${manifest.id}`;
    this.manifests.delete(key);
    await this.store.putManifest(manifest);
    this.manifests.set(key, Promise.resolve(manifest));
    this.completed?.keep(manifest);
  }

  getManifest(job: string, id: number): Promise<CheckpointManifest | undefined> {
    const kept = this.completed?.get(job, id);
    if (kept) return Promise.resolve(kept);
    return remembered(this.manifests, `${job}#${id}`, async () => {
      const m = await this.store.getManifest(job, id);
      this.completed?.keep(m);
      return m;
    });
  }

  listManifests(job: string): Promise<CheckpointManifest[]> {
    return this.store.listManifests(job);
  }

  ack(job: string, ack: CheckpointAck): Promise<void> {
    return this.store.ack(job, ack);
  }

  acks(job: string, id: number): Promise<CheckpointAck[]> {
    const first = this.first;
    if (first?.job === job && id >= first.from)
      return first.read.then((r) => r.acks.filter((a) => a.checkpoint === id));
    return this.store.acks(job, id);
  }

  finished(job: string, ack: FinishedAck): Promise<void> {
    return this.store.finished(job, ack);
  }

  finishedPartitions(job: string, generation: number): Promise<FinishedAck[]> {
    const first = this.first;
    if (first?.job === job) return first.read.then((r) => r.finished.filter((f) => f.generation === generation));
    return this.store.finishedPartitions(job, generation);
  }

  putSavepoint(savepoint: Savepoint): Promise<boolean> {
    return this.store.putSavepoint(savepoint);
  }

  getSavepoint(job: string, name: string): Promise<Savepoint | undefined> {
    return this.store.getSavepoint(job, name);
  }

  listSavepoints(job: string): Promise<SavepointInfo[]> {
    return this.store.listSavepoints(job);
  }

  deleteSavepoint(job: string, name: string): Promise<boolean> {
    return this.store.deleteSavepoint(job, name);
  }
}

/** `cache`'s promise for `key`, or `read()`'s, remembered (a failed read is forgotten, so the next one tries again). */
function remembered<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  const known = cache.get(key);
  if (known) return known;
  const p = read();
  cache.set(key, p);
  p.catch(() => {
    if (cache.get(key) === p) cache.delete(key);
  });
  return p;
}
