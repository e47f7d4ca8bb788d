/**
 * Synchronous Postgres transactions for riffle's synchronous sink interface: a
 * worker thread holds the connection and runs the statements; the calling thread
 * blocks on `Atomics.wait` until the worker answers (the pattern of `synckit`).
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
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

/** The worker's answer. */
export type SyncReply =
  | { readonly ok: true; readonly applied: boolean; readonly rows: unknown[][] }
  | { readonly ok: false; readonly message: string; readonly code: string | undefined };

/** A Postgres connection whose transactions block the caller until they end. */
export class SyncPostgres {
  private readonly url: string;
  private readonly timeoutMs: number;
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));

  constructor(url: string, timeoutMs = 60_000) {
    this.url = url;
    this.timeoutMs = timeoutMs;
  }

  /** Runs `request` in one transaction; whether it committed (false: the guard rolled it back). */
  transaction(request: SyncRequest): { applied: boolean; rows: unknown[][] } {
    const port = this.start();
    Atomics.store(this.flag, 0, 0);
    port.postMessage(request);
    const waited = Atomics.wait(this.flag, 0, 0, this.timeoutMs);
    const got = receiveMessageOnPort(port);
    if (waited === "timed-out" || !got) {
      this.close();
      throw new PostgresConnectorError(`postgres sink: no answer from Postgres in ${this.timeoutMs} ms`);
    }
    const reply = got.message as SyncReply;
    if (reply.ok) return { applied: reply.applied, rows: reply.rows };
    const cause = Object.assign(new Error(reply.message), { code: reply.code });
    throw postgresError("postgres sink: committing", cause);
  }

  private start(): MessagePort {
    if (this.port) return this.port;
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(new URL("./sync-worker.ts", import.meta.url), {
      workerData: { url: this.url, port: port2, flag: this.flag },
      transferList: [port2],
    });
    this.worker.unref(); // a finished job exits with its sink's connection open
    this.worker.on("error", () => this.close());
    this.port = port1;
    return port1;
  }

  /** Stops the worker (a later transaction starts another). */
  close(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
    this.port = undefined;
  }
}
