/**
 * Savepoints asked of a running job: each triggers its own checkpoint (one at a
 * time) and is materialized once that checkpoint has completed.
 */

import type { CheckpointManifest, Savepoint, SavepointInfo } from "../ports/checkpoint-store.ts";

interface Request {
  readonly name: string;
  /** The checkpoint it waits for, once triggered. */
  checkpoint: number | undefined;
  readonly resolve: (info: SavepointInfo) => void;
  readonly reject: (e: unknown) => void;
}

/** What serving requests needs from the runtime. */
export interface SavepointServices {
  /** Checkpoints in flight. */
  readonly inFlight: number;
  /** Triggers a checkpoint and injects its barriers; returns its id (`undefined`: not now, try again). */
  triggerCheckpoint(): Promise<number | undefined>;
  /** The newest completed checkpoint. */
  readonly lastCheckpoint: CheckpointManifest | undefined;
  /** Materializes `manifest` (completed, its output published) as savepoint `name`. */
  take(manifest: CheckpointManifest, name: string): Promise<Savepoint>;
}

/** Pending savepoint requests. */
export class SavepointRequests {
  private readonly pending: Request[] = [];

  /** Queues a request; resolves when the savepoint exists. */
  add(name: string): Promise<SavepointInfo> {
    return new Promise((resolve, reject) => this.pending.push({ name, checkpoint: undefined, resolve, reject }));
  }

  /** Advances every request: trigger its checkpoint, or materialize it once complete. */
  async serve(s: SavepointServices): Promise<void> {
    for (const req of [...this.pending]) {
      if (req.checkpoint === undefined) {
        if (s.inFlight > 0) continue; // one at a time: wait for the current checkpoint
        req.checkpoint = await s.triggerCheckpoint();
        continue;
      }
      const last = s.lastCheckpoint;
      if (!last || last.id < req.checkpoint) continue;
      this.pending.splice(this.pending.indexOf(req), 1);
      try {
        const { sources: _s, state: _st, ...info } = await s.take(last, req.name);
        req.resolve(info);
      } catch (e) {
        req.reject(e);
      }
    }
  }
}

interface RestoreRequest {
  readonly name: string;
  readonly resolve: (r: { generation: number }) => void;
  readonly reject: (e: unknown) => void;
}

/** Restores from savepoints asked of a running job, served one at a time between batches. */
export class RestoreRequests {
  private readonly pending: RestoreRequest[] = [];

  /** Queues a request; resolves with the new generation once the job runs from the savepoint. */
  add(name: string): Promise<{ generation: number }> {
    return new Promise((resolve, reject) => this.pending.push({ name, resolve, reject }));
  }

  /** Serves the oldest request with `restore` (its error rejects the request); false when none was pending. */
  async serve(restore: (name: string) => Promise<{ generation: number }>): Promise<boolean> {
    const req = this.pending.shift();
    if (!req) return false;
    try {
      req.resolve(await restore(req.name));
    } catch (e) {
      req.reject(e);
    }
    return true;
  }

  /** Rejects every request still pending (the job ended first). */
  rejectAll(error: unknown): void {
    for (const req of this.pending.splice(0)) req.reject(error);
  }
}
