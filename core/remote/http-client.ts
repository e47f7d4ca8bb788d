/**
 * A lean HTTP/1.1 client for remote functions: `POST` over kept-alive connections
 * (plain TCP or TLS), one write per request (request line, headers and body as one
 * string), the answer framed by its `content-length` (or chunked, or the connection's
 * end). riffle sends batch after batch to one origin, so `node:http`'s per-request
 * machinery (a `ClientRequest`, the agent's queues, header objects, a body flushed in
 * several writes) was a large part of a small batch's cost on riffle's side.
 */

import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { readAnswer } from "./http-answer.ts";

/** A response: its status and its body as text. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** The connection ended or failed before the whole answer came; `fresh`: nothing of it came back. */
export class HttpConnectionError extends Error {
  readonly fresh: boolean;
  /**
   * Another request was on the connection beside this one, and the connection had
   * answered before (so it worked, and its failure need not be this one's).
   */
  shared = false;
  constructor(message: string, fresh: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "HttpConnectionError";
    this.fresh = fresh;
  }
}

/** The request had no whole answer within its time limit (the connection was closed). */
export class HttpTimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "HttpTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * How a request gives up: an abort signal, or a time limit in ms. A limit is one
 * timer; an `AbortSignal` costs ~3 µs to make and ~1.5 µs to listen to, most of a
 * request's own JavaScript time at batch 100.
 */
export type HttpLimit = AbortSignal | number;

/**
 * A request on a connection; `shared`: another request was on the connection beside
 * it; `timer`: its time limit, cleared when it settles.
 */
type Waiter = {
  resolve(a: HttpAnswer): void;
  reject(e: Error): void;
  shared: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
};

/**
 * One connection. Requests may be pipelined on it (HTTP/1.1: answers come in the
 * order of the requests); those written in one tick go out in one write (corked).
 */
class Connection {
  readonly socket: Socket;
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Bytes the first answer needs in all, once its head said (content-length): no parse before they came. */
  private need = 0;
  /** The requests awaiting answers, in the order they were written. */
  private readonly waiters: Waiter[] = [];
  private corked = false;
  /** False once the connection cannot carry another request. */
  open = true;
  /** Requests answered on it so far. */
  used = 0;

  /** Called when the server closed the connection after an answer while requests were queued behind it. */
  private readonly onClosedQueue: () => void;

  constructor(socket: Socket, onClosedQueue: () => void) {
    this.socket = socket;
    this.onClosedQueue = onClosedQueue;
    socket.setNoDelay(true);
    socket.on("data", (c: Buffer) => {
      if (this.waiters.length === 0) {
        this.close(); // bytes nobody asked for: the connection is out of step
        return;
      }
      this.chunks.push(c);
      this.bytes += c.length;
      if (this.bytes >= this.need) this.parse(false);
    });
    const ended = (cause?: unknown) => {
      this.open = false;
      if (this.waiters.length > 0) this.parse(true, cause);
    };
    socket.on("end", () => ended());
    socket.on("close", () => ended());
    socket.on("error", (e) => ended(e));
  }

  /** Requests written and not answered yet. */
  get inFlight(): number {
    return this.waiters.length;
  }

  /**
   * Writes a request; its answer settles the promise. With `ms`, no whole answer
   * within `ms` rejects it with an {@link HttpTimeoutError} and closes the connection
   * (one timer in the request's place in the queue: no promise around it).
   */
  send(text: string, ms?: number): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const shared = this.waiters.length > 0;
      for (const w of this.waiters) w.shared = true;
      const waiter: Waiter = { resolve, reject, shared, timer: undefined };
      if (ms !== undefined) {
        waiter.timer = setTimeout(() => {
          reject(new HttpTimeoutError(ms)); // settles first: the close below fails it too, too late to count
          this.close();
        }, ms);
      }
      this.waiters.push(waiter);
      this.socket.ref();
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork(); // the requests of this tick in one write
        });
      }
      this.socket.write(text);
    });
  }

  /** Settles the waiters whose whole answers are buffered (all of them, once the connection `ended`). */
  private parse(ended: boolean, cause?: unknown): void {
    while (this.waiters.length > 0) {
      const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      this.chunks = [data];
      const answer = readAnswer(data, ended);
      if (typeof answer === "number") {
        this.need = answer;
        if (ended) this.failAll(new HttpConnectionError("the connection ended mid-answer", this.bytes === 0, cause));
        return;
      }
      if (answer === "bad") {
        this.failAll(new HttpConnectionError("the answer is not HTTP/1.x", false, cause));
        return;
      }
      const waiter = this.waiters.shift() as Waiter;
      const rest = data.length - answer.size;
      this.chunks = rest > 0 ? [data.subarray(answer.size)] : [];
      this.bytes = rest;
      this.need = 0;
      this.used++;
      if (answer.close && this.waiters.length > 0) this.onClosedQueue();
      if (answer.close || ended) this.close();
      else if (this.waiters.length === 0) this.socket.unref(); // an idle kept-alive connection does not keep the process alive
      clearTimeout(waiter.timer);
      waiter.resolve({ status: answer.status, body: answer.body });
    }
  }

  /** Fails every waiter: the first with `error`, those behind it as fresh (nothing of their answers came). */
  private failAll(error: HttpConnectionError): void {
    const waiters = this.waiters.splice(0);
    this.close();
    waiters.forEach((w, i) => {
      clearTimeout(w.timer);
      const e = i === 0 ? error : new HttpConnectionError("the connection closed before the answer", true);
      e.shared = w.shared && this.used > 0; // not a connection that never worked (refused): no resend loop
      w.reject(e);
    });
  }

  close(): void {
    this.open = false;
    this.socket.destroy();
    if (this.waiters.length > 0) this.failAll(new HttpConnectionError("the connection closed", this.bytes === 0));
  }
}

/**
 * Kept-alive connections to one origin (`http:` or `https:`): a request takes an idle
 * one, else a new one while there are fewer than `maxConnections`, else it is
 * pipelined on the one with the fewest requests out. Once the server closes a
 * connection after an answer (`connection: close`) with requests queued behind it, the
 * origin pipelines no more: each request in flight gets a connection of its own.
 */
export class HttpOrigin {
  private readonly url: URL;
  private readonly head: string;
  private readonly conns: Connection[] = [];
  private maxConnections: number;

  constructor(url: URL, maxConnections = 1) {
    this.url = url;
    this.maxConnections = maxConnections;
    const path = `${url.pathname || "/"}${url.search}`;
    this.head = `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: `;
  }

  /**
   * `POST`s `body` (JSON); rejects with an {@link HttpConnectionError}, or once `limit`
   * is reached with the abort's reason or an {@link HttpTimeoutError}. A request that
   * got nothing back from a connection that closed under it is sent again on another
   * when the connection was kept alive from before or carried other requests too.
   */
  async post(body: string, limit: HttpLimit): Promise<HttpAnswer> {
    const text = `${this.head}${Buffer.byteLength(body)}\r\n\r\n${body}`;
    for (;;) {
      const conn = this.pick();
      const reused = conn.used > 0;
      try {
        return await (typeof limit === "number" ? conn.send(text, limit) : this.once(conn, text, limit));
      } catch (error) {
        const stale = error instanceof HttpConnectionError && error.fresh && (reused || error.shared);
        if (!stale || (typeof limit !== "number" && limit.aborted)) throw error;
      }
    }
  }

  /** The connection for the next request (see the class comment). */
  private pick(): Connection {
    let best: Connection | undefined;
    for (let i = this.conns.length - 1; i >= 0; i--) {
      const c = this.conns[i] as Connection;
      if (!c.open) {
        this.conns.splice(i, 1);
        continue;
      }
      if (c.inFlight === 0) return c;
      if (!best || c.inFlight < best.inFlight) best = c;
    }
    if (best && this.conns.length >= this.maxConnections) return best;
    const conn = this.connect();
    this.conns.push(conn);
    return conn;
  }

  private once(conn: Connection, text: string, signal: AbortSignal): Promise<HttpAnswer> {
    if (signal.aborted) {
      conn.close();
      return Promise.reject(signal.reason);
    }
    const abort = () => conn.close();
    signal.addEventListener("abort", abort, { once: true });
    return conn.send(text).finally(() => signal.removeEventListener("abort", abort));
  }

  private connect(): Connection {
    const secure = this.url.protocol === "https:";
    const host = this.url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(this.url.port) || (secure ? 443 : 80);
    const socket = secure
      ? tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}) })
      : netConnect({ host, port });
    return new Connection(socket, () => {
      this.maxConnections = Number.POSITIVE_INFINITY; // a server that closes after an answer: no more pipelining
    });
  }
}
