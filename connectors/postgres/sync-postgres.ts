/**
 * Synchronous Postgres transactions for riffle's synchronous sink interface: a
 * worker thread (`sync-worker.ts`) holds the connection and runs the statements;
 * the calling thread blocks until it answers (`../shared/sync-call.ts`).
 */
import { SyncWorker } from "../shared/sync-call.ts";
import { PostgresConnectorError, postgresError } from "./errors.ts";

/** One statement of a request. */
export interface SyncStatement {
  readonly text: string;
  readonly values?: unknown[];
}

/** Statements for one transaction; when statement `guard` returns no row, the transaction rolls back as a no-op. */
export interface SyncRequest {
  readonly statements: readonly SyncStatement[];
  readonly guard?: number;
}

/** What a transaction did: whether it committed (false: the guard rolled it back), and each statement's rows. */
export interface SyncResult {
  readonly applied: boolean;
  readonly rows: unknown[][];
}

/** A Postgres connection whose transactions block the caller until they end. */
export class SyncPostgres {
  private readonly worker: SyncWorker<SyncRequest, SyncResult>;

  constructor(url: string, timeoutMs = 60_000) {
    this.worker = new SyncWorker(new URL("./sync-worker.ts", import.meta.url), { url }, timeoutMs);
  }

  /** Runs `request` in one transaction; whether it committed (false: the guard rolled it back). */
  transaction(request: SyncRequest): SyncResult {
    try {
      return this.worker.call(
        request,
        (ms) => new PostgresConnectorError(`postgres sink: no answer from Postgres in ${ms} ms`),
      );
    } catch (e) {
      throw postgresError("postgres sink: committing", e);
    }
  }

  /** Stops the worker (a later transaction starts another). */
  close(): void {
    this.worker.close();
  }
}
