/**
 * Synchronous calls into an async worker thread, for riffle's synchronous sink
 * interface (the pattern of `synckit`): the worker module serves requests with
 * {@link serveSync}; the calling thread posts a request and blocks on
 * `Atomics.wait` until the worker answers. Sinks use it to commit through async
 * clients (`pg`, the AWS SDK).
 */
import {
  MessageChannel,
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
  Worker,
  workerData,
} from "node:worker_threads";

/** The worker's answer to one request. */
export type SyncReply<R> =
  | { readonly ok: true; readonly value: R }
  | { readonly ok: false; readonly message: string; readonly code: string | undefined; readonly name?: string };

/** A request that failed in the worker, as an error with the worker error's message, code and name. */
export class SyncCallError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, name?: string) {
    super(message);
    this.code = code;
    if (name) this.name = name;
  }
}

/** A worker thread whose requests block the caller until they are answered. */
export class SyncWorker<Q, R> {
  private readonly module: URL;
  private readonly data: unknown;
  private readonly timeoutMs: number;
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));

  /** `module` serves requests with {@link serveSync}; `data` (structured-cloneable) is its `config`. */
  constructor(module: URL, data: unknown, timeoutMs = 60_000) {
    this.module = module;
    this.data = data;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Sends `request` and waits for the answer. Throws a {@link SyncCallError} when
   * the worker's handler threw, and `timeout()`'s error when no answer came in time
   * (the worker is stopped then; the next call starts another).
   */
  call(request: Q, timeout: (ms: number) => Error): R {
    const port = this.start();
    Atomics.store(this.flag, 0, 0);
    port.postMessage(request);
    const waited = Atomics.wait(this.flag, 0, 0, this.timeoutMs);
    const got = receiveMessageOnPort(port);
    if (waited === "timed-out" || !got) {
      this.close();
      throw timeout(this.timeoutMs);
    }
    const reply = got.message as SyncReply<R>;
    if (reply.ok) return reply.value;
    throw new SyncCallError(reply.message, reply.code, reply.name);
  }

  private start(): MessagePort {
    if (this.port) return this.port;
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(this.module, {
      workerData: { config: this.data, port: port2, flag: this.flag },
      transferList: [port2],
    });
    this.worker.unref(); // a finished job exits with its sink's connection open
    this.worker.on("error", () => this.close());
    this.port = port1;
    return port1;
  }

  /** Stops the worker (a later call starts another). */
  close(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
    this.port = undefined;
  }
}

/**
 * In a worker module started by {@link SyncWorker}: answers each request with
 * `handle(request, config)`, one at a time, and wakes the waiting thread.
 */
export function serveSync<Q, R, C>(handle: (request: Q, config: C) => Promise<R>): void {
  const { config, port, flag } = workerData as { config: C; port: MessagePort; flag: Int32Array };
  port.on("message", (request: Q) => {
    handle(request, config)
      .then(
        (value): SyncReply<R> => ({ ok: true, value }),
        (e: unknown): SyncReply<R> => {
          const err = e as { message?: string; code?: string; name?: string };
          return { ok: false, message: err.message ?? String(e), code: err.code, name: err.name };
        },
      )
      .then((reply) => {
        port.postMessage(reply);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      });
  });
  parentPort?.postMessage("ready");
}
