/**
 * The HTTP invoker's own HTTP/1.1 client (core/remote/http-client.ts) against real
 * servers on 127.0.0.1: `node:http` (content-length and chunked answers, error
 * statuses, keep-alive) and raw sockets (a connection closed between requests, an
 * answer cut short, a body delimited by the connection's end, a hang and its abort).
 */
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RemoteFunctionError } from "../../../core/errors.ts";
import { HttpInvoker } from "../../../core/remote/invoker.ts";

const servers: (HttpServer | NetServer)[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  for (const s of servers.splice(0)) {
    (s as HttpServer).closeAllConnections?.();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function listen<S extends HttpServer | NetServer>(server: S): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A `node:http` server that answers each POST body with `answer(body)`; counts connections. */
async function httpServer(answer: (body: string, res: import("node:http").ServerResponse) => void) {
  let connections = 0;
  const bodies: { method?: string; url?: string; type?: string; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      bodies.push({ method: req.method, url: req.url, type: req.headers["content-type"], body });
      answer(body, res);
    });
  });
  server.on("connection", () => {
    connections++;
  });
  return { url: await listen(server), bodies, connections: () => connections };
}

/** A raw server: `onData(socket, request text, index of the request on the server)`. */
async function rawServer(onData: (socket: Socket, text: string, n: number) => void) {
  let n = 0;
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("data", (d) => onData(socket, d.toString("latin1"), n++));
  });
  return listen(server);
}

const never = new AbortController().signal;

describe("HttpInvoker", () => {
  it("POSTs JSON and reads content-length and chunked answers over one kept-alive connection", async () => {
    const s = await httpServer((body, res) => {
      if (body === '"chunked"') {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"a":');
        res.write('"é'.repeat(3000));
        res.end('"}');
      } else res.end(JSON.stringify({ echo: body }));
    });
    const inv = new HttpInvoker(`${s.url}fn?x=1`);
    expect(await inv.invoke('"hello"', never)).toBe(JSON.stringify({ echo: '"hello"' }));
    expect(await inv.invoke('"chunked"', never)).toBe(`{"a":${'"é'.repeat(3000)}"}`);
    expect(await inv.invoke('"é"', never)).toBe(JSON.stringify({ echo: '"é"' }));
    expect(s.bodies[0]).toEqual({ method: "POST", url: "/fn?x=1", type: "application/json", body: '"hello"' });
    expect(s.connections()).toBe(1);
  });

  it("with connections: n, opens a connection per request in flight up to n and reuses them", async () => {
    const s = await httpServer((body, res) => setTimeout(() => res.end(body), 20));
    const inv = new HttpInvoker(s.url, { connections: 5 });
    const bodies = Array.from({ length: 5 }, (_, i) => `[${i}]`);
    expect(await Promise.all(bodies.map((b) => inv.invoke(b, never)))).toEqual(bodies);
    expect(await Promise.all(bodies.map((b) => inv.invoke(b, never)))).toEqual(bodies);
    expect(s.connections()).toBe(5);
  });

  it("pipelines the requests in flight on one connection by default, written at once, answers in order", async () => {
    const reads: number[] = [];
    const url = await rawServer((socket, text) => {
      const requests = text.split("POST ").length - 1;
      reads.push(requests);
      const answers = text.match(/\[\d+\]$|\[\d+\](?=POST)/g) ?? [];
      for (const a of answers) socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${a.length}\r\n\r\n${a}`);
    });
    const inv = new HttpInvoker(url);
    const bodies = Array.from({ length: 5 }, (_, i) => `[${i}]`);
    const stream = Socket.prototype as unknown as Record<"_write" | "_writev", (...a: unknown[]) => unknown>;
    const writes: number[] = []; // the client's writes to the kernel, as chunks each
    const { _write, _writev } = stream;
    stream._write = function (this: Socket, ...a: unknown[]) {
      if (!sockets.has(this)) writes.push(1);
      return _write.apply(this, a);
    };
    stream._writev = function (this: Socket, ...a: unknown[]) {
      if (!sockets.has(this)) writes.push((a[0] as unknown[]).length);
      return _writev.apply(this, a);
    };
    try {
      expect(await Promise.all(bodies.map((b) => inv.call(b, 5000)))).toEqual(bodies);
    } finally {
      Object.assign(stream, { _write, _writev });
    }
    expect(writes).toEqual([5]); // the five requests in one write (corked)
    expect(reads).toEqual([5]); // on one connection
  });

  it("sends the requests behind one whose connection closed again on a new connection, and stops pipelining", async () => {
    let connections = 0;
    const perRead: number[] = []; // requests each read brought
    const url = await rawServer((socket, text) => {
      perRead.push(text.split("POST ").length - 1);
      const first = /\[\d+\]/.exec(text)?.[0] ?? "";
      socket.end(`HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: ${first.length}\r\n\r\n${first}`);
    });
    (servers.at(-1) as NetServer).on("connection", () => {
      connections++;
    });
    const inv = new HttpInvoker(url);
    const bodies = Array.from({ length: 4 }, (_, i) => `[${i}]`);
    expect(await Promise.all(bodies.map((b) => inv.call(b, 5000)))).toEqual(bodies);
    expect(connections).toBe(4); // each answered one request and closed; the others went again
    expect(perRead[0]).toBe(4);
    // The server closes after each answer: no more pipelining, a connection a request in flight.
    perRead.length = 0;
    expect(await Promise.all(bodies.map((b) => inv.call(b, 5000)))).toEqual(bodies);
    expect(connections).toBe(8);
    expect(perRead).toEqual([1, 1, 1, 1]);
  });

  it("fails a non-2xx answer with its status and body, and the connection stays usable", async () => {
    const s = await httpServer((body, res) => {
      res.statusCode = body === "bad" ? 400 : 200;
      res.end(body === "bad" ? '{"error":"no function"}' : "ok");
    });
    const inv = new HttpInvoker(s.url);
    const e = await inv.invoke("bad", never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteFunctionError);
    expect((e as Error).message).toMatch(/answered 400: \{"error":"no function"\}/);
    expect(await inv.invoke("good", never)).toBe("ok");
    expect(s.connections()).toBe(1);
  });

  it("retries on a new connection when a kept-alive one is dropped at the next request", async () => {
    const answered = new WeakSet<Socket>();
    const url = await rawServer((socket, _text, n) => {
      if (answered.has(socket)) {
        socket.destroy(); // a server that dropped the idle connection as the request came
        return;
      }
      answered.add(socket);
      const body = `answer ${n}`;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    const inv = new HttpInvoker(url);
    expect(await inv.invoke("{}", never)).toBe("answer 0");
    expect(await inv.invoke("{}", never)).toBe("answer 2");
  });

  it("honours connection: close and a body delimited by the connection's end", async () => {
    const url = await rawServer((socket, _text, n) => {
      if (n % 2 === 0) socket.end(`HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok`);
      else socket.end(`HTTP/1.0 200 OK\r\n\r\nto the end`);
    });
    const inv = new HttpInvoker(url);
    expect(await inv.invoke("{}", never)).toBe("ok");
    expect(await inv.invoke("{}", never)).toBe("to the end");
    expect(await inv.invoke("{}", never)).toBe("ok");
  });

  it("reads a large answer that arrives in many pieces", async () => {
    const body = JSON.stringify({ out: Array.from({ length: 200_000 }, (_, i) => `wörd${i}`) });
    const bytes = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const url = await rawServer((socket) => {
      let at = 0;
      const next = () => {
        if (at >= bytes.length) return;
        socket.write(bytes.subarray(at, at + 16_384));
        at += 16_384;
        setImmediate(next);
      };
      next();
    });
    expect(await new HttpInvoker(url).invoke("{}", never)).toBe(body);
  });

  it("skips a 100 Continue before the answer", async () => {
    const url = await rawServer((socket) => {
      socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndone");
    });
    expect(await new HttpInvoker(url).invoke("{}", never)).toBe("done");
  });

  it("fails an answer cut short, a garbled one, and a refused connection as retryable errors", async () => {
    const cut = await rawServer((socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"));
    const garbled = await rawServer((socket) => socket.write("SMTP ready\r\n\r\n"));
    const closed = await listen(createNetServer());
    await new Promise((resolve) => (servers.pop() as NetServer).close(resolve));
    for (const url of [cut, garbled, closed]) {
      const e = await new HttpInvoker(url).invoke("{}", never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RemoteFunctionError);
      expect((e as RemoteFunctionError).retryable).toBe(true);
      // Pipelined on one connection that never worked: each fails (none is sent again and again).
      const inv = new HttpInvoker(url);
      const all = await Promise.all([1, 2, 3].map((i) => inv.call(`[${i}]`, 5000).catch((x: unknown) => x)));
      for (const x of all) expect(x).toBeInstanceOf(RemoteFunctionError);
    }
  });

  it("an abort ends a hanging call", async () => {
    const url = await rawServer(() => {});
    const abort = new AbortController();
    const call = new HttpInvoker(url).invoke("{}", abort.signal);
    setTimeout(() => abort.abort(), 20);
    await expect(call).rejects.toBeInstanceOf(RemoteFunctionError);
  });

  it("a time limit ends a hanging call on a kept-alive connection, and the next call takes a new one", async () => {
    let connections = 0;
    const url = await rawServer((socket, text) => {
      if (text.includes("hang")) return;
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
    (servers.at(-1) as NetServer).on("connection", () => {
      connections++;
    });
    const inv = new HttpInvoker(url);
    expect(await inv.call("{}", 1000)).toBe("ok");
    const e = await inv.call('"hang"', 30).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteFunctionError);
    expect((e as RemoteFunctionError).message).toMatch(/no answer within 30 ms/);
    expect((e as RemoteFunctionError).retryable).toBe(true);
    expect(await inv.call("{}", 1000)).toBe("ok");
    expect(connections).toBe(2);
  });
});
